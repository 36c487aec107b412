"""Suites as data: the shipped suites load against the real corpora; bad suite files are refused
with the file and dataset named; sub-samples are seeded and recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from gliner_biomed.dataset_builders import list_corpora, load_label_map
from gliner_biomed.evaluation.harness import EvaluationConfig, load_split
from gliner_biomed.evaluation.suites import SuiteError, list_suites, load_suite


@pytest.mark.corpus("all")
def test_shipped_suites(corpora_dir):
    assert {"smoke", "zero-shot", "in-domain", "all"} <= set(list_suites())
    everything = load_suite("all")
    assert sorted(d.corpus for d in everything.datasets) == sorted(list_corpora())
    assert all(d.split == "test" for d in everything.datasets)
    zero_shot = load_suite("zero-shot")
    assert [d.corpus for d in zero_shot.datasets] == ["ncbi-disease", "biored"]
    assert not {d.corpus for d in zero_shot.datasets} & {d.corpus for d in load_suite("in-domain").datasets}
    # Zero-shot labels come from each corpus's label map.
    biored = zero_shot.datasets[1]
    assert biored.labels() == list(dict.fromkeys(v for v in load_label_map("biored").values() if v))
    assert zero_shot.datasets[0].labels() == ["disease"]
    smoke = load_suite("smoke")
    assert all(d.validation_split == "validation" and d.max_documents for d in smoke.datasets)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.corpus("ncbi-disease", "nlm-gene")
@pytest.mark.parametrize(
    "body, message",
    [
        ("datasets:\n  - {corpus: ncbi-disease, split: test, validation_split: test}\n", r"datasets\[0\]: validation_split 'test' would tune"),
        ("datasets:\n  - {corpus: nlm-gene, split: test, validation_split: validation}\n", r"validation_split 'validation' does not exist for nlm-gene"),
        ("datasets:\n  - {corpus: ncbi-disease}\n  - {corpus: no-such-corpus}\n", r"datasets\[1\]: unknown corpus 'no-such-corpus'"),
        ("datasets:\n  - {corpus: ncbi-disease, splt: test}\n", r"datasets\[0\]: unknown keys \['splt'\]"),
        ("datasets:\n  - {corpus: ncbi-disease, label_prompts: {chemical: a chemical}}\n", r"label_prompts for labels that are not in the label map: \['chemical'\]"),
        ("datasets:\n  - {corpus: ncbi-disease}\n  - {corpus: ncbi-disease}\n", r"dataset names must be unique"),
        ("datasets:\n  - {corpus: ncbi-disease, max_documents: 0}\n", r"max_documents must be a positive integer"),
        ("datasets: []\n", r"non-empty 'datasets' list"),
        ("datasets: [\n", r"not valid YAML"),
    ],
)
def test_bad_suite_files_are_refused(tmp_path, corpora_dir, body, message):
    path = write(tmp_path, body)
    with pytest.raises(SuiteError, match=message) as error:
        load_suite(path)
    assert str(path) in str(error.value)


def test_unknown_suite_name_lists_the_shipped_ones():
    with pytest.raises(SuiteError, match="shipped suites: .*zero-shot"):
        load_suite("no-such-suite")


@pytest.mark.corpus("biored")
def test_label_map_override_and_prompts(tmp_path, corpora_dir):
    path = write(
        tmp_path,
        "datasets:\n"
        "  - corpus: biored\n"
        "    name: biored-genes-diseases\n"
        "    label_map: {Chemical: null, Species: null, Variant: null, CellLine: null}\n"
        "    label_prompts: {disease: disease or syndrome}\n",
    )
    dataset = load_suite(path).datasets[0]
    assert dataset.name == "biored-genes-diseases"
    assert dataset.labels() == ["gene or gene product", "disease"]
    assert dataset.model_labels() == {"gene or gene product": "gene or gene product", "disease": "disease or syndrome"}
    sample = load_split(dataset, "test", EvaluationConfig(max_documents=5))
    assert {e["label"] for d in sample.documents for e in d["entities"]} <= {"gene or gene product", "disease"}


@pytest.mark.corpus("ncbi-disease", "biored")
def test_sub_sample_is_seeded_ordered_and_recorded(corpora_dir):
    dataset = load_suite("zero-shot").datasets[0]
    full = load_split(dataset, "test", EvaluationConfig())
    assert len(full.documents) == full.num_documents_total == 100 and not full.sampled
    first = load_split(dataset, "test", EvaluationConfig(max_documents=10, seed=1))
    again = load_split(dataset, "test", EvaluationConfig(max_documents=10, seed=1))
    other = load_split(dataset, "test", EvaluationConfig(max_documents=10, seed=2))
    ids = [d["id"] for d in first.documents]
    assert ids == [d["id"] for d in again.documents] != [d["id"] for d in other.documents]
    order = [d["id"] for d in full.documents]
    assert ids == sorted(ids, key=order.index)  # corpus order kept
    assert (first.sampled, first.num_documents_total, first.max_documents) == (True, 100, 10)
    # The suite's own max_documents applies unless the config overrides it.
    smoke = load_suite("smoke").datasets[0]
    assert len(load_split(smoke, "test", EvaluationConfig()).documents) == smoke.max_documents
    assert len(load_split(smoke, "test", EvaluationConfig(max_documents=7)).documents) == 7
