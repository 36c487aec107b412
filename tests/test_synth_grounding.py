"""Parsing untrusted LLM output, label normalisation, and grounding on real abstracts: gold
mentions of BioRED / NCBI-disease are presented as an LLM would return them (perturbed), and
grounding must recover the gold offsets."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from gliner_biomed.dataset_builders.readers import read_pubtator
from gliner_biomed.modeling import split_words
from gliner_biomed.synth.grounding import GroundingConfig, find_occurrences, ground_mentions
from gliner_biomed.synth.labels import LabelNormaliser, LabelTableError, normal_form
from gliner_biomed.synth.parsing import RawMention, parse_llm_output

BIORED_LABEL = {"Gene": "gene", "Disease": "disease", "Chemical": "chemical", "Species": "species",
                "Variant": "sequence variant", "CellLine": "cell line"}


@pytest.fixture(scope="module")
def normaliser():
    return LabelNormaliser.from_file()


@pytest.fixture(scope="module")
def biored_documents(corpora_dir):
    documents = []
    for index, document in enumerate(read_pubtator(corpora_dir / "pubtator" / "BioRED_Test.PubTator")):
        if index == 60:
            break
        documents.append(document)
    return documents


def word_aligned(text, spans):
    words = split_words(text)
    starts, ends = {s for _, s, _ in words}, {e for _, _, e in words}
    return {span for span in spans if span[0] in starts and span[1] in ends}


def check_invariants(text, result):
    """Offsets are sacred; ner is the word view of entities."""
    words = split_words(text)
    assert result.tokenized_text == [w for w, _, _ in words]
    for entity in result.entities:
        assert text[entity["start"]:entity["end"]] == entity["mention"]
    expected_ner = sorted({(next(i for i, w in enumerate(words) if w[1] == e["start"]),
                            next(i for i, w in enumerate(words) if w[2] == e["end"]), e["label"]) for e in result.entities})
    assert result.ner == [list(span) for span in expected_ner]


# --- parsing ---------------------------------------------------------------------------------

ITEMS = '{"entities": [{"text": "SCN5A", "label": "gene"}, {"text": "long QT syndrome", "label": "disease"}]}'


@pytest.mark.parametrize("content, status", [
    (ITEMS, "json"),
    (f"```json\n{ITEMS}\n```", "fenced"),
    (f"Here are the entities:\n```\n{ITEMS}\n```\nThey are listed in order {{of appearance}}.", "fenced"),
    (f"Sure! {ITEMS} Hope this helps.", "embedded"),
    ('<think>The user wants {"entities": [...]}; SCN5A is a gene.</think>\n' + ITEMS, "json"),
    ('[{"mention": "SCN5A", "type": "gene"}, {"span": "long QT syndrome", "entity_type": "disease"}]', "json"),
    ('{"gene": ["SCN5A"], "disease": ["long QT syndrome"]}', "json"),
])
def test_parse_accepts_the_shapes_llms_return(content, status):
    parsed = parse_llm_output(content)
    assert parsed.status == status
    assert [(m.mention, m.label) for m in parsed.mentions] == [("SCN5A", "gene"), ("long QT syndrome", "disease")]


def test_parse_truncated_output_keeps_complete_items():
    content = ITEMS[:-30]  # cut inside the second item's label, as max_tokens does
    parsed = parse_llm_output("```json\n" + content)
    assert parsed.status == "repaired" and [m.mention for m in parsed.mentions] == ["SCN5A"]
    # a cut inside a string that contains a bracket must not confuse the repair
    parsed = parse_llm_output('{"entities": [{"text": "Na(v)1.5", "label": "gene"}, {"text": "IL-2 [rec')
    assert parsed.status == "repaired" and [m.mention for m in parsed.mentions] == ["Na(v)1.5"]


def test_parse_counts_malformed_items_and_fails_cleanly():
    parsed = parse_llm_output('{"entities": [{"text": "a", "label": "gene"}, {"text": "", "label": "gene"}, "b", {"label": "x"}]}')
    assert [m.mention for m in parsed.mentions] == ["a"] and parsed.malformed_items == 3
    for content in ("", "I could not find any entities.", '"just a string"'):
        parsed = parse_llm_output(content)
        assert parsed.status == "failed" and parsed.mentions == [] and parsed.error


def test_parse_keeps_offsets_and_occurrence():
    parsed = parse_llm_output('{"entities": [{"text": "a", "label": "g", "start": 3, "end": 4}, {"text": "b", "label": "g", "occurrence": 1}, {"text": "c", "label": "g", "start": -2}]}')
    assert [(m.start, m.end, m.occurrence) for m in parsed.mentions] == [(3, 4, None), (None, None, 1), (None, None, None)]


# --- labels ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, canonical", [
    ("Genes", "gene"), ("GENE", "gene"), ("gene_or_gene_product", "gene"), ("Gene/Protein", "gene"),
    ("Diseases", "disease"), ("DiseaseClass", "disease"), ("symptoms", "disease"),
    ("drugs", "chemical"), ("Simple_chemical", "chemical"),
    ("species", "species"), ("Organisms", "species"), ("taxa", "species"),
    ("cell lines", "cell line"), ("CellLine", "cell line"), ("Mutations", "sequence variant"), ("SNPs", "sequence variant"),
    ("body parts", "anatomy"), ("Viruses", "virus"), ("Cell types", "cell type"), ("tissues", "anatomy"),
])
def test_label_normalisation(normaliser, raw, canonical):
    assert normaliser(raw) == canonical


def test_label_table_errors_name_the_file(tmp_path):
    table = tmp_path / "labels.yaml"
    table.write_text("synonyms:\n  gene: [protein]\n  protein: [proteins]\n", encoding="utf-8")
    with pytest.raises(LabelTableError, match=r"labels.yaml: .*'protein' maps to both 'gene' and 'protein'"):
        LabelNormaliser.from_file(table)
    assert normal_form("  Gene__Products ") == "gene product" and LabelNormaliser({})("  ") is None


# --- grounding on real text ------------------------------------------------------------------

@pytest.mark.corpus("biored")
def test_grounding_recovers_gold_offsets_from_distinct_mentions(biored_documents, normaliser):
    """The LLM lists each distinct (mention, label) once; grounding all occurrences recovers every
    word-aligned gold span (gold spans inside a word, e.g. "L180M" in "rtL180M", are dropped and counted)."""
    totals = Counter()
    for document in biored_documents:
        gold = {(e.start, e.end, BIORED_LABEL[e.type]) for e in document.entities}
        answer = list(dict.fromkeys((e.mention, BIORED_LABEL[e.type]) for e in document.entities))
        result = ground_mentions(document.text, [RawMention(m, l) for m, l in answer], normaliser)
        check_invariants(document.text, result)
        found = {(e["start"], e["end"], e["label"]) for e in result.entities}
        aligned_gold = word_aligned(document.text, gold)
        assert aligned_gold <= found, document.document_id
        totals["gold"] += len(gold)
        totals["aligned_gold"] += len(aligned_gold)
        totals["found"] += len(found)
        totals.update(result.counts)
    assert totals["aligned_gold"] > 0.9 * totals["gold"]
    assert totals["proposed"] == totals["grounded"] + totals["dropped_not_in_text"] + totals["dropped_not_word_aligned"]
    # extra spans are unannotated repeats of gold strings in the corpus; they stay a small share
    assert totals["found"] - totals["aligned_gold"] < 0.08 * totals["found"]


@pytest.mark.corpus("biored")
def test_grounding_survives_llm_perturbations(biored_documents, normaliser):
    """Re-cased and re-spaced mentions, plural/synonym labels, offsets off by a few characters,
    hallucinated mentions: the gold spans still come back, the hallucinations are dropped and counted."""
    rng = random.Random(0)
    label_variants = {"gene": ["Genes", "GENE", "gene_or_gene_product"], "disease": ["Diseases", "disorder"],
                      "chemical": ["Chemicals", "drug"], "species": ["organism", "Species"],
                      "sequence variant": ["mutation", "Variants"], "cell line": ["CellLine", "cell lines"]}
    hallucinated = 0
    for document in biored_documents:
        text = document.text
        gold = word_aligned(text, {(e.start, e.end, BIORED_LABEL[e.type]) for e in document.entities})
        mentions = []
        for entity in document.entities:
            label = rng.choice(label_variants[BIORED_LABEL[entity.type]])
            shift = rng.choice([0, -2, 1, 3])
            start = max(entity.start + shift, 0)
            mentions.append(RawMention(entity.mention, label, start, start + len(entity.mention)))
        for entity in document.entities[::4]:  # re-cased / re-spaced copy without offsets
            mention = entity.mention.swapcase() if rng.random() < 0.5 else entity.mention.replace(" ", "  \n")
            mentions.append(RawMention(mention, BIORED_LABEL[entity.type]))
        for fake in ("tumour suppressor gene XYZ-9", "quantum hepatitis"):
            mentions.append(RawMention(fake, "disease"))
            hallucinated += 1
        result = ground_mentions(text, mentions, normaliser)
        check_invariants(text, result)
        found = {(e["start"], e["end"], e["label"]) for e in result.entities}
        assert gold <= found, document.document_id
        assert result.counts["dropped_not_in_text"] >= 2
        assert result.counts["offset"] + result.counts["offset_corrected"] >= len(gold)


@pytest.mark.corpus("biored")
def test_offsets_pick_the_indicated_occurrence(biored_documents, normaliser):
    document = next(d for d in biored_documents if sum(e.mention == d.entities[0].mention for e in d.entities) >= 3)
    text, mention = document.text, document.entities[0].mention
    occurrences, kind = find_occurrences(text, mention)
    assert kind == "exact" and len(occurrences) >= 3
    second = occurrences[1]
    for raw in (RawMention(mention, "gene", second[0] + 2, second[1] + 2), RawMention(mention, "gene", occurrence=1)):
        result = ground_mentions(text, [raw], normaliser)
        assert [(e["start"], e["end"]) for e in result.entities] == [second]
    result = ground_mentions(text, [RawMention(mention, "gene", occurrence=len(occurrences))], normaliser)
    assert result.entities == [] and result.counts["dropped_occurrence_out_of_range"] == 1
    first_only = ground_mentions(text, [RawMention(mention, "gene")], normaliser, GroundingConfig(occurrences="first"))
    assert [(e["start"], e["end"]) for e in first_only.entities] == [occurrences[0]]


def test_word_internal_spans_are_dropped_or_snapped_and_counted(normaliser):
    text = "Patients on rtL180M therapy and anthracycline-related cardiotoxicity."
    mentions = [RawMention("L180M", "sequence variant"), RawMention("anthracycline", "chemical"),
                RawMention("ALL", "disease")]  # "ALL" only occurs inside words: not grounded at all
    dropped = ground_mentions(text, mentions, normaliser)
    assert dropped.entities == []
    assert dropped.counts["spans_not_word_aligned"] == 1 and dropped.counts["dropped_not_word_aligned"] == 1
    assert dropped.counts["dropped_not_in_text"] == 2  # L180M inside rtL180M is no occurrence either
    snapped = ground_mentions(text, mentions, normaliser, GroundingConfig(unaligned="snap"))
    assert [(e["mention"], e["label"]) for e in snapped.entities] == [("anthracycline-related", "chemical")]
    assert snapped.counts["spans_snapped_to_words"] == 1
    check_invariants(text, snapped)


def test_labels_outside_the_requested_set_are_dropped_and_counted(normaliser):
    text = "BRCA1 mutations cause breast cancer."
    mentions = [RawMention("BRCA1", "Genes"), RawMention("breast cancer", "Diseases"), RawMention("mutations", "process"),
                RawMention("breast", "")]
    result = ground_mentions(text, mentions, normaliser, allowed_labels={"gene", "disease"})
    assert [(e["mention"], e["label"]) for e in result.entities] == [("BRCA1", "gene"), ("breast cancer", "disease")]
    assert result.counts["dropped_label_not_allowed"] == 1 and result.counts["dropped_empty_label"] == 1
    assert result.labels_seen[("Genes", "gene")] == 1


def test_ground_file_report_on_recorded_answers(tmp_path):
    """synth ground over the recorded teacher answers: counts add up and every line is valid."""
    from pathlib import Path

    from gliner_biomed.synth.ground import GroundConfig, ground_file
    from gliner_biomed.synth.replay_server import load_recordings

    recordings = load_recordings(Path(__file__).resolve().parent / "data" / "synth" / "recorded_completions.jsonl")
    annotations = tmp_path / "ann.jsonl"
    with annotations.open("w", encoding="utf-8") as handle:
        for r in recordings:
            answer = r["script"][-1]
            handle.write(json.dumps({"id": r["id"], "text": r["text"], "labels": ["gene", "disease", "chemical", "species", "sequence variant", "cell line"],
                                     "response": answer["content"], "finish_reason": answer["finish_reason"]}) + "\n")
        handle.write(json.dumps({"id": "broken", "text": "Some text.", "response": "Sorry, I cannot help.", "finish_reason": "stop"}) + "\n")
    report = ground_file(GroundConfig(annotations, tmp_path / "grounded.jsonl", progress=False))
    assert report["texts"]["read"] == len(recordings) + 1 and report["texts"]["dropped_unparseable"] == 1
    assert report["texts"]["written"] == len(recordings) and report["texts"]["truncated"] == 4
    assert report["parse_status"] == {"json": 28, "fenced": 4, "embedded": 4, "repaired": 4, "failed": 1}
    assert 0.9 < report["grounded_share"] < 1.0 and report["mentions"]["dropped_not_in_text"] >= 12  # 3 hallucinations x 4 texts
    assert set(report["label_distribution"]) == {"gene", "disease", "chemical", "species", "sequence variant", "cell line"}
    assert json.loads((tmp_path / "grounded.jsonl.report.json").read_text()) == report
    lines = [json.loads(line) for line in (tmp_path / "grounded.jsonl").read_text().splitlines()]
    assert sum(len(line["entities"]) for line in lines) == report["mentions"]["entities"]
    for line in lines:
        assert set(line) >= {"id", "text", "entities", "tokenized_text", "ner"}
        assert all(line["text"][e["start"]:e["end"]] == e["mention"] for e in line["entities"])
