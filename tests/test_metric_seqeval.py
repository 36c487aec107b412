"""Cross-check: the strict scores of span_ner equal seqeval's on IOB2 tags built from real corpora,
where the two schemes coincide (flat, word-aligned, single-label spans)."""

from __future__ import annotations

import random
from typing import Dict, List, Tuple

import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from gliner_biomed.dataset_builders import load_corpus
from gliner_biomed.evaluation.scoring import score_spans
from gliner_biomed.modeling import split_words

# Single-type abstracts, multi-type abstracts, and multi-type sentences (16 types) from an IOB corpus.
# NCBI-disease ships with the tests (tests/data/corpora); the others need the whole corpora.
CASES = [
    ("ncbi-disease", "test"),
    pytest.param("biored", "test", marks=pytest.mark.corpus("biored")),
    pytest.param("bionlp13cg", "test", marks=pytest.mark.corpus("bionlp13cg")),
]

WordSpan = Tuple[int, int, str]  # first word, last word (inclusive), label


def flat(spans: List[WordSpan]) -> List[WordSpan]:
    """Drops every span that overlaps an earlier one (by start, longest first) so that IOB can hold them."""
    kept, last_end = [], -1
    for first, last, label in sorted(set(spans), key=lambda s: (s[0], -s[1], s[2])):
        if first > last_end:
            kept.append((first, last, label))
            last_end = last
    return kept


def word_aligned_gold(document: Dict) -> Tuple[List[Tuple[str, int, int]], List[WordSpan], int]:
    """The words of the shared splitter and the gold entities that IOB can represent; also how
    many gold entities could not be (not on word boundaries, nested, or a second label)."""
    words = split_words(document["text"])
    first_of = {start: i for i, (_, start, _) in enumerate(words)}
    last_of = {end: i for i, (_, _, end) in enumerate(words)}
    aligned = [
        (first_of[e["start"]], last_of[e["end"]], e["label"])
        for e in document["entities"]
        if e["start"] in first_of and e["end"] in last_of
    ]
    kept = flat(aligned)
    return words, kept, len(document["entities"]) - len(kept)


def perturbed(gold: List[WordSpan], num_words: int, labels: List[str], rng: random.Random) -> List[WordSpan]:
    """A plausible system output: most entities found, some missed, some with a boundary or type
    error, some spurious."""
    predicted = []
    for first, last, label in gold:
        draw = rng.random()
        if draw < 0.6:
            predicted.append((first, last, label))
        elif draw < 0.7:
            predicted.append((first, min(last + 1, num_words - 1), label))
        elif draw < 0.75 and last > first:
            predicted.append((first + 1, last, label))
        elif draw < 0.85 and len(labels) > 1:
            predicted.append((first, last, rng.choice([other for other in labels if other != label])))
        # else: missed
    for _ in range(rng.randint(0, 2)):
        first = rng.randrange(num_words)
        predicted.append((first, min(first + rng.randint(0, 2), num_words - 1), rng.choice(labels)))
    return flat(predicted)


def iob2(spans: List[WordSpan], num_words: int, tag_of: Dict[str, str]) -> List[str]:
    tags = ["O"] * num_words
    for first, last, label in spans:
        tags[first] = f"B-{tag_of[label]}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{tag_of[label]}"
    return tags


def char_spans(spans: List[WordSpan], words) -> List[Dict]:
    return [{"start": words[first][1], "end": words[last][2], "label": label} for first, last, label in spans]


@pytest.mark.parametrize("corpus, split", CASES)
def test_strict_scores_equal_seqeval_on_real_corpus(corpus, split, fixture_corpora_dir):
    documents = load_corpus(corpus, split, corpora_dir=fixture_corpora_dir if corpus == "ncbi-disease" else None)
    labels = sorted({e["label"] for d in documents for e in d["entities"]})
    # Natural labels hold spaces; seqeval reads the type after "B-", so give it plain tags.
    tag_of = {label: f"T{i}" for i, label in enumerate(labels)}
    label_of = {tag: label for label, tag in tag_of.items()}
    rng = random.Random(f"{corpus}/{split}")

    gold_tags, predicted_tags, gold_spans, predicted_spans = [], [], [], []
    total_gold = not_representable = 0
    for document in documents:
        words, gold, dropped = word_aligned_gold(document)
        if not words:
            continue
        total_gold += len(document["entities"])
        not_representable += dropped
        predicted = perturbed(gold, len(words), labels, rng)
        gold_tags.append(iob2(gold, len(words), tag_of))
        predicted_tags.append(iob2(predicted, len(words), tag_of))
        gold_kept = char_spans(gold, words)
        # Word-aligned gold spans keep their corpus offsets exactly.
        originals = {(e["start"], e["end"], e["label"]) for e in document["entities"]}
        assert all((s["start"], s["end"], s["label"]) in originals for s in gold_kept)
        gold_spans.append(gold_kept)
        predicted_spans.append(char_spans(predicted, words))
    # The comparison must cover the corpus, not a corner of it. (Mentions inside hyphenated words,
    # such as "tetrodotoxin" in "tetrodotoxin-sensitive", are not on word boundaries: ~7% in BioRED.)
    assert total_gold > 900 and not_representable / total_gold < 0.1, (total_gold, not_representable)

    ours = score_spans(predicted_spans, gold_spans)
    assert 0.3 < ours["micro_f1"] < 0.95  # a real mix of hits and errors
    for mode in ({}, {"mode": "strict", "scheme": IOB2}):
        assert ours["micro_precision"] == pytest.approx(precision_score(gold_tags, predicted_tags, **mode), abs=1e-12)
        assert ours["micro_recall"] == pytest.approx(recall_score(gold_tags, predicted_tags, **mode), abs=1e-12)
        assert ours["micro_f1"] == pytest.approx(f1_score(gold_tags, predicted_tags, **mode), abs=1e-12)
        report = classification_report(gold_tags, predicted_tags, output_dict=True, zero_division=0, **mode)
        per_tag = {label_of[tag]: scores for tag, scores in report.items() if tag in label_of}
        assert set(per_tag) == set(ours["per_label"])
        for label, scores in per_tag.items():
            mine = ours["per_label"][label]
            assert mine["support"] == scores["support"]
            for name in ("precision", "recall", "f1"):
                key = "f1-score" if name == "f1" else name
                assert mine[name] == pytest.approx(scores[key], abs=1e-12), (label, name)
        for name in ("precision", "recall", "f1"):
            key = "f1-score" if name == "f1" else name
            assert ours[f"macro_{name}"] == pytest.approx(report["macro avg"][key], abs=1e-12)
    # Gold against itself: perfect under every scheme.
    perfect = score_spans(gold_spans, gold_spans)
    assert perfect["micro_f1"] == perfect["exact_boundary"]["micro_f1"] == perfect["partial_overlap"]["micro_f1"] == 1.0
