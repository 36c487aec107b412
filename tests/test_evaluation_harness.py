"""The harness logic with a scripted predictor over real corpus documents: known scores, the
threshold sweep (validation only), reuse of saved predictions, checks of predictor output, and
reports that agree with results.json."""

from __future__ import annotations

import json
import re
from typing import Dict, List

import pytest

from gliner_biomed.dataset_builders import load_corpus
from gliner_biomed.evaluation.harness import EvaluationConfig, run_suite
from gliner_biomed.evaluation.report import markdown_table, percent, write_reports
from gliner_biomed.evaluation.suites import load_suite

GOLD_SCORE = 0.75
SPURIOUS_SCORE = 0.55


class ScriptedPredictor:
    """Knows the gold entities of the texts it may see: returns them with score 0.75, plus one
    spurious entity (the first 3 characters, score 0.55) per text. Records every call."""

    def __init__(self, documents: List[Dict]):
        self.gold = {d["text"]: d["entities"] for d in documents}
        self.calls: List[Dict] = []

    def inference(self, texts, labels, batch_size=8, threshold=0.5, flat_ner=True, multi_label=False):
        self.calls.append({"texts": list(texts), "labels": labels, "threshold": threshold})
        first_label = next(iter(labels))
        output = []
        for text in texts:
            entities = [{**e, "score": GOLD_SCORE} for e in self.gold[text]]
            entities.append({"start": 0, "end": 3, "label": first_label, "score": SPURIOUS_SCORE})
            output.append([e for e in entities if e["score"] > threshold])
        return output


@pytest.fixture(scope="module")
def smoke():
    return load_suite("smoke")


@pytest.fixture(scope="module")
def predictor_documents(corpora_dir):
    return [d for corpus in ("ncbi-disease", "biored") for split in ("validation", "test") for d in load_corpus(corpus, split)]


@pytest.mark.corpus("ncbi-disease", "biored")
def test_known_scores_at_a_given_threshold(smoke, predictor_documents, tmp_path):
    predictor = ScriptedPredictor(predictor_documents)
    results = run_suite(predictor, smoke, EvaluationConfig(threshold=0.6, max_documents=5), predictions_dir=tmp_path)
    assert results["threshold"] == 0.6 and results["sweep"] is None
    assert {call["threshold"] for call in predictor.calls} == {0.6}
    for row in results["datasets"]:
        assert row["scores"]["micro_f1"] == 1.0 and row["num_documents"] == 5 and row["sampled"]
    low = run_suite(predictor, smoke, EvaluationConfig(threshold=0.5, max_documents=5))
    for row in low["datasets"]:
        gold = row["scores"]["support"]
        # every gold entity found, one spurious prediction per document (unless it is gold itself)
        assert row["scores"]["tp"] == gold and row["scores"]["fp"] <= row["num_documents"]
        assert row["scores"]["micro_precision"] == pytest.approx(gold / (gold + row["scores"]["fp"]))
    assert low["average"]["micro_f1"] == pytest.approx(sum(r["scores"]["micro_f1"] for r in low["datasets"]) / 2)


@pytest.mark.corpus("ncbi-disease", "biored")
def test_sweep_chooses_on_validation_only(smoke, predictor_documents, tmp_path):
    predictor = ScriptedPredictor(predictor_documents)
    config = EvaluationConfig(sweep=True, sweep_thresholds=(0.3, 0.5, 0.6, 0.7, 0.8), max_documents=4)
    results = run_suite(predictor, smoke, config, predictions_dir=tmp_path)
    sweep = results["sweep"]
    # 0.6 and 0.7 both drop the spurious entities and keep the gold ones; the tie goes to 0.6.
    assert sweep["chosen_threshold"] == results["threshold"] == 0.6
    for curve in sweep["validation_micro_f1"].values():
        assert curve[2] == curve[3] == 1.0 and curve[4] == 0.0 and curve[0] == curve[1] < 1.0
    # One pass per validation split at the lowest threshold, then the test splits at the chosen one;
    # no test text is ever predicted below the chosen threshold.
    validation_texts = {d["text"] for c in ("ncbi-disease", "biored") for d in load_corpus(c, "validation")}
    test_texts = {d["text"] for c in ("ncbi-disease", "biored") for d in load_corpus(c, "test")}
    assert [call["threshold"] for call in predictor.calls] == [0.3, 0.3, 0.6, 0.6]
    for call in predictor.calls[:2]:
        assert set(call["texts"]) <= validation_texts and not set(call["texts"]) & test_texts
    for call in predictor.calls[2:]:
        assert set(call["texts"]) <= test_texts
    assert sweep["validation_samples"]["biored"] == {"split": "validation", "num_documents": 4, "num_documents_total": 100}


@pytest.mark.corpus("ncbi-disease", "biored")
def test_sweep_needs_validation_splits(tmp_path, predictor_documents):
    suite_file = tmp_path / "no_validation.yaml"
    suite_file.write_text("datasets:\n  - {corpus: ncbi-disease, split: test}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no dataset with a validation_split"):
        run_suite(ScriptedPredictor(predictor_documents), load_suite(suite_file), EvaluationConfig(sweep=True, max_documents=2))


@pytest.mark.corpus("ncbi-disease", "biored")
def test_saved_predictions_are_reused_only_for_the_same_run(smoke, predictor_documents, tmp_path):
    config = EvaluationConfig(threshold=0.5, max_documents=3)
    first = ScriptedPredictor(predictor_documents)
    results = run_suite(first, smoke, config, predictions_dir=tmp_path, model_fingerprint="model-a")
    assert len(first.calls) == 2 and not any(row["predictions_reused"] for row in results["datasets"])
    again = ScriptedPredictor(predictor_documents)
    repeated = run_suite(again, smoke, config, predictions_dir=tmp_path, model_fingerprint="model-a")
    assert again.calls == [] and all(row["predictions_reused"] for row in repeated["datasets"])
    assert [r["scores"] for r in repeated["datasets"]] == [r["scores"] for r in results["datasets"]]
    for changed in (dict(model_fingerprint="model-b"), dict(model_fingerprint=None)):
        other = ScriptedPredictor(predictor_documents)
        run_suite(other, smoke, config, predictions_dir=tmp_path, **changed)
        assert len(other.calls) == 2
    other = ScriptedPredictor(predictor_documents)
    run_suite(other, smoke, EvaluationConfig(threshold=0.5, max_documents=3, seed=99), predictions_dir=tmp_path, model_fingerprint="model-b")
    assert len(other.calls) == 2  # another sample of documents


class WrongLabels(ScriptedPredictor):
    def inference(self, texts, labels, **options):
        return [[{"start": 0, "end": 2, "label": "protein", "score": 0.9}] for _ in texts]


class WrongOffsets(ScriptedPredictor):
    def inference(self, texts, labels, **options):
        return [[{"start": 0, "end": len(text) + 1, "label": next(iter(labels)), "score": 0.9}] for text in texts]


class WrongLength(ScriptedPredictor):
    def inference(self, texts, labels, **options):
        return [[] for _ in texts[1:]]


@pytest.mark.corpus("ncbi-disease", "biored")
@pytest.mark.parametrize(
    "predictor_class, message",
    [
        (WrongLabels, r"ncbi-disease/test document '\d+': predicted label 'protein' is not one of the labels"),
        (WrongOffsets, r"ncbi-disease/test document '\d+': predicted offsets 0:\d+ are outside the text"),
        (WrongLength, r"returned 1 results for 2 texts"),
    ],
)
def test_bad_predictor_output_is_refused(smoke, predictor_documents, predictor_class, message):
    with pytest.raises(RuntimeError, match=message):
        run_suite(predictor_class(predictor_documents), smoke, EvaluationConfig(max_documents=2))


def table_rows(markdown: str) -> Dict[str, List[str]]:
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| Dataset"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


@pytest.mark.corpus("ncbi-disease", "biored")
def test_reports_agree_with_results(smoke, predictor_documents, tmp_path):
    results = run_suite(ScriptedPredictor(predictor_documents), smoke, EvaluationConfig(threshold=0.5, max_documents=4, bootstrap_samples=30))
    results["model"] = "scripted"
    written = write_reports(results, tmp_path)
    assert [p.name for p in written] == ["results.json", "results.md", "f1.png"]
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(results))
    table = (tmp_path / "results.md").read_text()
    assert markdown_table(results) in table
    rows = table_rows(table)
    for row in results["datasets"]:
        cells = rows[row["name"]]
        scores = row["scores"]
        assert cells[2] == f"{row['num_documents']} of {row['num_documents_total']}"
        assert cells[3:6] == [percent(scores["micro_precision"]), percent(scores["micro_recall"]), percent(scores["micro_f1"])]
        low, high = scores["confidence_intervals"]["strict"]["micro_f1"]
        assert cells[6] == f"{percent(low)}–{percent(high)}"
    average = next(cells for name, cells in rows.items() if name.startswith("**Average**"))
    assert average[3:6] == [percent(results["average"][k]) for k in ("micro_precision", "micro_recall", "micro_f1")]
    assert re.search(r"Sub-sampled with seed 13: ncbi-disease \(4 of 100 documents\)", table)
    assert (tmp_path / "f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
