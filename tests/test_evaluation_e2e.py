"""`gliner-biomed evaluate` end to end on a converted random-weight model (real MiniLM backbone)
over the smoke suite. The F1s mean nothing; the test checks the mechanics: the files exist, and
results.json, the table, the plots' source and a fresh metric run on the saved predictions agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from model_factory import build_converted_model

from gliner_biomed.cli import main
from gliner_biomed.evaluation.harness import EvaluationConfig, above, load_split
from gliner_biomed.evaluation.report import percent
from gliner_biomed.evaluation.scoring import score_spans, spans_only
from gliner_biomed.evaluation.suites import load_suite

SWEEP = (0.3, 0.5, 0.7)
MAX_DOCUMENTS = 2
BOOTSTRAP = 50
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, corpora_dir) -> Path:
    return Path(build_converted_model(tmp_path_factory.mktemp("evaluation_model"), kind="uni"))


def evaluate_args(model_dir: Path, out: Path):
    return [
        "evaluate", "--model", str(model_dir), "--suite", "smoke", "--out", str(out), "--sweep",
        "--sweep-thresholds", ",".join(map(str, SWEEP)), "--max-documents", str(MAX_DOCUMENTS), "--bootstrap", str(BOOTSTRAP),
    ]


@pytest.fixture(scope="module")
def run(model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluation_out")
    assert main(evaluate_args(model_dir, out)) == 0
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.mark.corpus("ncbi-disease", "biored")
def test_files_and_recorded_settings(run, model_dir):
    out, results = run
    for name in ("results.json", "results.md", "f1.png", "sweep.png"):
        assert (out / name).is_file(), name
    import matplotlib.image

    for name in ("f1.png", "sweep.png"):
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
        height, width, _ = matplotlib.image.imread(out / name).shape
        assert height > 100 and width > 100
    assert results["model"] == str(model_dir) and results["model_class"].startswith("GLiNER")
    assert results["suite"]["name"] == "smoke"
    assert results["threshold_source"] == "sweep over validation splits"
    assert results["threshold"] == results["sweep"]["chosen_threshold"] in SWEEP
    assert results["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", results["commit"])
    assert results["versions"]["torch"] and results["versions"]["transformers"] and results["versions"]["evaluate"]
    assert results["seconds_total"] > 0 and results["seconds_load_model"] > 0
    assert results["config"]["max_documents"] == MAX_DOCUMENTS and results["config"]["bootstrap_samples"] == BOOTSTRAP
    for row in results["datasets"]:
        assert (row["num_documents"], row["num_documents_total"], row["sampled"]) == (MAX_DOCUMENTS, 100, True)
        assert row["seconds_predict"] > 0 and not row["predictions_reused"]
        assert row["scores"]["confidence_intervals"]["samples"] == BOOTSTRAP


@pytest.mark.corpus("ncbi-disease", "biored")
def test_table_shows_the_results_numbers(run):
    out, results = run
    table = (out / "results.md").read_text(encoding="utf-8")
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table.splitlines() if line.startswith("| "))}
    for row in results["datasets"]:
        scores = row["scores"]
        assert rows[row["name"]][3:6] == [percent(scores[k]) for k in ("micro_precision", "micro_recall", "micro_f1")]
    average = next(cells for name, cells in rows.items() if name.startswith("**Average**"))
    assert average[3:6] == [percent(results["average"][k]) for k in ("micro_precision", "micro_recall", "micro_f1")]
    assert f"threshold {results['threshold']:g}, chosen on validation splits" in table


def saved_predictions(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines[1:]]
    return json.loads(lines[0]), [row["id"] for row in rows], [row["entities"] for row in rows]


@pytest.mark.corpus("ncbi-disease", "biored")
def test_results_equal_the_metric_on_the_saved_predictions(run):
    out, results = run
    suite = load_suite("smoke")
    config = EvaluationConfig(max_documents=MAX_DOCUMENTS, seed=results["config"]["seed"])
    for dataset, row in zip(suite.datasets, results["datasets"]):
        header, ids, predictions = saved_predictions(out / "predictions" / f"{dataset.name}.test.jsonl")
        assert header["threshold"] == results["threshold"]
        sample = load_split(dataset, "test", config)
        assert ids == [d["id"] for d in sample.documents]
        gold = [spans_only(d["entities"]) for d in sample.documents]
        recomputed = score_spans([spans_only(p) for p in predictions], gold, bootstrap_samples=BOOTSTRAP, bootstrap_seed=config.seed)
        assert recomputed == row["scores"]
        assert recomputed["num_predictions"] > 0  # the random model does predict something at this threshold
    # The sweep curve is the metric on the validation predictions, read off at each threshold.
    for dataset in suite.datasets:
        header, ids, predictions = saved_predictions(out / "predictions" / f"{dataset.name}.validation.jsonl")
        assert header["threshold"] == SWEEP[0]
        gold = [spans_only(d["entities"]) for d in load_split(dataset, "validation", config).documents]
        curve = [score_spans([spans_only(p) for p in above(predictions, t)], gold)["micro_f1"] for t in SWEEP]
        assert curve == results["sweep"]["validation_micro_f1"][dataset.name]


@pytest.mark.corpus("ncbi-disease", "biored")
def test_reading_off_a_higher_threshold_equals_decoding_at_it(run, model_dir):
    """The sweep predicts once at the lowest threshold; this must equal predicting at each one."""
    from gliner_biomed.models import load_model

    out, _ = run
    model = load_model(str(model_dir))
    dataset = load_suite("smoke").datasets[1]  # biored: six labels, long abstracts
    sample = load_split(dataset, "validation", EvaluationConfig(max_documents=MAX_DOCUMENTS))
    _, _, low = saved_predictions(out / "predictions" / f"{dataset.name}.validation.jsonl")
    texts = [d["text"] for d in sample.documents]
    kept = []
    for threshold in SWEEP[1:]:
        direct = model.inference(texts, dataset.model_labels(), threshold=threshold)
        read_off = above(low, threshold)
        assert [[(e["start"], e["end"], e["label"]) for e in doc] for doc in direct] == [
            [(e["start"], e["end"], e["label"]) for e in doc] for doc in read_off
        ]
        kept.append(sum(map(len, read_off)))
    assert kept[-1] < sum(map(len, low))  # the thresholds do remove entities


@pytest.mark.corpus("ncbi-disease", "biored")
def test_repeated_run_reuses_predictions(run, model_dir):
    out, results = run
    assert main(evaluate_args(model_dir, out)) == 0
    repeated = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert all(row["predictions_reused"] for row in repeated["datasets"])
    assert [row["scores"] for row in repeated["datasets"]] == [row["scores"] for row in results["datasets"]]
    assert repeated["sweep"] == results["sweep"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--suite", "no-such-suite"], "unknown suite 'no-such-suite'"),
        (["--suite", "smoke", "--sweep", "--threshold", "0.5"], "do not pass --threshold"),
        (["--suite", "smoke", "--sweep-thresholds", "0.2,x"], "--sweep-thresholds"),
        (["--suite", "smoke", "--threshold", "1.5"], r"threshold must be a number in \[0, 1\)"),
    ],
)
def test_bad_arguments_are_reported(extra, message, tmp_path, capsys):
    assert main(["evaluate", "--model", str(tmp_path / "missing"), "--out", str(tmp_path / "out"), *extra]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


@pytest.mark.corpus("ncbi-disease", "biored")
def test_bi_encoder_model(tmp_path, corpora_dir):
    """The same command on a converted bi-encoder (labels embedded separately)."""
    model = Path(build_converted_model(tmp_path / "bi_model", kind="bi"))
    out = tmp_path / "out"
    assert main(["evaluate", "--model", str(model), "--suite", "smoke", "--out", str(out), "--max-documents", "1"]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["model_class"].startswith("GLiNER") and results["threshold"] == 0.5
    for row in results["datasets"]:
        _, ids, predictions = saved_predictions(out / "predictions" / f"{row['name']}.test.jsonl")
        assert len(ids) == row["num_documents"] == 1
        assert row["scores"]["num_predictions"] == len({(e["start"], e["end"], e["label"]) for e in predictions[0]})
