"""Chia (clinical-trial eligibility criteria, brat): the seeded by-trial split, offsets on the real
files, counts against the raw .ann files, the label map's explicit exclusions, and the trainer's
refusal to train on it."""

import random
from collections import Counter

import pytest

from gliner_biomed.dataset_builders import BuildOptions, build_corpus, load_label_map
from gliner_biomed.trainers.data import load_sources

from test_dataset_corpora import assert_example_invariants

CONCEPTS = {"condition", "drug", "procedure", "measurement", "observation", "person", "device", "visit"}


@pytest.fixture(scope="module")
def chia(corpora_dir):
    return build_corpus("chia", BuildOptions(corpora_dir=str(corpora_dir)))


def raw_chia(corpora_dir):
    """Trial -> split as the corpora README and the paper describe it (80/10/10, seed 42, by trial),
    and per split the T-line counts per type and the number of discontinuous T lines."""
    folder = corpora_dir / "brat" / "chia"
    trials = sorted({path.name.split("_")[0] for path in folder.glob("NCT*.ann")})
    random.Random(42).shuffle(trials)
    split_of = {trial: "train" for trial in trials[:800]} | {trial: "validation" for trial in trials[800:900]} | {trial: "test" for trial in trials[900:]}
    types, discontinuous = {s: Counter() for s in ("train", "validation", "test")}, Counter()
    for path in folder.glob("NCT*.ann"):
        split = split_of[path.name.split("_")[0]]
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("T"):
                kind, _, spans = line.split("\t")[1].partition(" ")
                types[split][kind] += 1
                discontinuous[split] += ";" in spans
    return split_of, types, discontinuous


@pytest.mark.corpus("chia")
def test_chia_split_by_trial_offsets_and_counts(chia, corpora_dir):
    split_of, raw_types, raw_discontinuous = raw_chia(corpora_dir)
    assert {split: len(data.documents) for split, data in chia.splits.items()} == {"train": 1600, "validation": 200, "test": 200}
    label_map = load_label_map("chia")
    for split, data in chia.splits.items():
        trials = Counter(document.document_id.split("_")[0] for document in data.documents)
        assert set(trials.values()) == {2}, "a trial's _inc and _exc files stay in one split"
        assert {split_of[trial] for trial in trials} == {split}
        for document in data.documents:
            for entity in document.entities:
                assert document.text[entity.start:entity.end] == entity.mention
                for start, end in entity.fragments or ():
                    assert entity.start <= start < end <= entity.end
        for example in data.examples:
            assert_example_invariants(example)
        skipped = data.log.of_kind("record_skipped")
        assert all(("NCT02137369_inc.ann" in issue.where and "line 17" in issue.where)
                   or ("NCT03460002_inc.ann" in issue.where and "line 6" in issue.where) for issue in skipped)
        # Every T line is a kept mention or one of the two known bad records; nothing else is lost.
        kept = Counter(entity.type for document in data.documents for entity in document.entities)
        assert sum(kept.values()) + len(skipped) == sum(raw_types[split].values())
        assert sum(1 for document in data.documents for entity in document.entities if entity.fragments) == len(data.log.of_kind("discontinuous_mention"))
        # The label map keeps the eight concepts; every other class is left out and counted.
        assert set(data.stats.mentions_by_label) == CONCEPTS
        excluded = sum(count for kind, count in kept.items() if label_map[kind] is None)
        assert excluded == len(data.log.of_kind("excluded_by_label_map")) > 0
    assert sum(raw_discontinuous.values()) == 1796
    # The known bad record NCT02137369_inc line 17 is one of them: its .ann text is cut at a line break.
    assert sum(len(data.log.of_kind("discontinuous_mention")) for data in chia.splits.values()) == 1795


def test_trainer_refuses_chia_unless_told():
    with pytest.raises(ValueError, match=r"chia:train: chia is evaluation-only.*--allow-evaluation-corpora"):
        load_sources(["bc5cdr:train", "chia:train"], "sentence", 128, 0)


@pytest.mark.corpus("chia")
def test_trainer_reads_chia_when_allowed(corpora_dir):
    ((spec, examples),) = load_sources(["chia:validation#3"], "sentence", 128, 0, allow_evaluation_corpora=True)
    assert spec.corpus == "chia" and len(examples) >= 3
    assert {label for example in examples for _, _, label in example["ner"]} <= CONCEPTS


@pytest.mark.corpus("chia")
def test_chia_card_says_evaluation_only_split_and_exclusions(chia):
    from gliner_biomed.dataset_builders.card import render_card

    card = str(render_card({"document": chia}, {"document": {split: f"document/{split}-*.parquet" for split in chia.splits}}, "document"))
    assert "**Evaluation only:** Chia measures unseen clinical types" in card
    assert "by trial" in card and "random.Random(42)" in card and "Kury F et al." in card and "license: cc-by-4.0" in card
    assert "| `Qualifier` | *(left out)* |" in card and "excluded_by_label_map" in card
