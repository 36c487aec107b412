"""The span_ner metric on hand-made cases whose answers are worked out in the comments."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import random

import pytest

from gliner_biomed.evaluation.scoring import load_span_ner_metric, span_ner_module_dir


def span(start, end, label):
    return {"start": start, "end": end, "label": label}


@pytest.fixture(scope="module")
def metric():
    return load_span_ner_metric()


def test_packaged_folder_is_the_repository_metric():
    folder = span_ner_module_dir()
    assert (folder / "span_ner.py").is_file() and (folder / "README.md").is_file()
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "- evaluate\n- metric\n" in card


def test_metric_space_app_runs_on_the_installed_gradio(metric):
    import gradio
    import yaml

    folder = span_ner_module_dir()
    header = yaml.safe_load((folder / "README.md").read_text(encoding="utf-8").split("---")[1])
    assert (header["sdk"], str(header["sdk_version"])) == ("gradio", importlib.metadata.version("gradio"))
    spec = importlib.util.spec_from_file_location("span_ner_space_app", folder / header["app_file"])
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    demo = app.build_demo(metric)
    assert "compute" in [dependency.get("api_name") for dependency in demo.config["dependencies"]]
    scores = app.score(metric, app.EXAMPLE_PREDICTIONS, app.EXAMPLE_REFERENCES, 0)
    assert scores["micro_f1"] == pytest.approx(2 / 3)  # the card example, as below
    with pytest.raises(gradio.Error, match="references: not JSON"):
        app.score(metric, app.EXAMPLE_PREDICTIONS, "[[{start: 0}]]", 0)
    with pytest.raises(gradio.Error, match=r"predictions\[0\]\[0\] lacks end, label"):
        app.score(metric, '[[{"start": 0}]]', app.EXAMPLE_REFERENCES, 0)


def test_only_allowed_imports_in_the_published_module():
    # The module is published alone as a Hub metric Space.
    source = (span_ner_module_dir() / "span_ner.py").read_text(encoding="utf-8")
    imported = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imported <= {"__future__", "numbers", "collections", "typing", "datasets", "evaluate", "numpy"}


def test_card_example(metric):
    results = metric.compute(
        predictions=[[span(0, 7, "disease")]],
        references=[[span(0, 7, "disease"), span(12, 19, "chemical")]],
    )
    # TP 1, FP 0, FN 1 -> P 1, R 1/2, F1 2/3.
    assert (results["tp"], results["fp"], results["fn"], results["support"]) == (1, 0, 1, 2)
    assert results["micro_precision"] == 1.0 and results["micro_recall"] == 0.5
    assert results["micro_f1"] == pytest.approx(2 / 3)
    # disease: P=R=F1=1; chemical: P=R=F1=0 (no predictions -> zero_division 0) -> macro 0.5.
    assert results["macro_f1"] == pytest.approx(0.5)
    assert results["per_label"]["chemical"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "tp": 0, "fp": 0, "fn": 1}


def test_two_documents_two_labels_all_schemes(metric):
    references = [
        [span(0, 5, "A"), span(10, 20, "B"), span(30, 35, "A")],
        [span(0, 4, "B")],
    ]
    predictions = [
        # exact A; B with a wrong end (overlaps); a spurious A; 30-35 predicted as B (wrong type)
        [span(0, 5, "A"), span(10, 18, "B"), span(40, 45, "A"), span(30, 35, "B")],
        [span(0, 4, "B"), span(6, 8, "B")],
    ]
    results = metric.compute(predictions=predictions, references=references)
    # strict: A tp1 fp1 fn1; B tp1 (0-4) fp3 (10-18, 30-35, 6-8) fn1 (10-20)
    strict = results["strict"]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (2, 4, 2)
    assert strict["micro_precision"] == pytest.approx(2 / 6)
    assert strict["micro_recall"] == pytest.approx(2 / 4)
    assert strict["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 4 + 2))
    assert strict["per_label"]["A"]["f1"] == pytest.approx(0.5)  # P 1/2, R 1/2
    assert strict["per_label"]["B"]["precision"] == pytest.approx(1 / 4)
    assert strict["per_label"]["B"]["recall"] == pytest.approx(1 / 2)
    b_f1 = 2 * (1 / 4) * (1 / 2) / (1 / 4 + 1 / 2)
    assert strict["macro_f1"] == pytest.approx((0.5 + b_f1) / 2)
    assert strict["macro_precision"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    # top level == strict
    assert {k: results[k] for k in strict} == strict
    # exact boundary: predicted spans {0-5, 10-18, 40-45, 30-35} + {0-4, 6-8}; gold {0-5, 10-20, 30-35} + {0-4}
    # -> tp 3 (0-5, 30-35, 0-4), fp 3, fn 1
    exact = results["exact_boundary"]
    assert (exact["tp"], exact["fp"], exact["fn"], exact["support"]) == (3, 3, 1, 4)
    assert "per_label" not in exact and "macro_f1" not in exact
    # partial overlap, same type: A: 0-5 tp, 40-45 fp, 30-35 fn; B: 0-4 tp, 10-18~10-20 tp, 30-35 fp, 6-8 fp
    partial = results["partial_overlap"]
    assert (partial["tp"], partial["fp"], partial["fn"]) == (3, 3, 1)
    assert partial["per_label"]["B"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 2, "tp": 2, "fp": 2, "fn": 0}


def test_duplicate_predictions_are_counted_once(metric):
    references = [[span(0, 5, "A")]]
    once = metric.compute(predictions=[[span(0, 5, "A"), span(7, 9, "A")]], references=references)
    thrice = metric.compute(
        predictions=[[span(0, 5, "A"), span(0, 5, "A"), span(0, 5, "A"), span(7, 9, "A"), span(7, 9, "A")]],
        references=references,
    )
    for scheme in ("strict", "exact_boundary", "partial_overlap"):
        assert thrice[scheme] == once[scheme]
    assert thrice["duplicates_removed"] == {"predictions": 3, "references": 0}
    assert thrice["num_predictions"] == 2
    duplicated_gold = metric.compute(predictions=[[span(0, 5, "A")]], references=[[span(0, 5, "A"), span(0, 5, "A")]])
    assert duplicated_gold["micro_f1"] == 1.0 and duplicated_gold["duplicates_removed"]["references"] == 1


def test_multi_label_spans(metric):
    # One span annotated with two types; the model finds only one of them.
    references = [[span(3, 9, "gene"), span(3, 9, "protein")]]
    predictions = [[span(3, 9, "gene")]]
    results = metric.compute(predictions=predictions, references=references)
    assert (results["tp"], results["fp"], results["fn"]) == (1, 0, 1)  # each label must be found
    assert results["exact_boundary"]["micro_f1"] == 1.0  # one distinct span, found
    assert results["exact_boundary"]["support"] == 1
    both = metric.compute(predictions=[[span(3, 9, "protein"), span(3, 9, "gene")]], references=references)
    assert both["micro_f1"] == 1.0 and both["tp"] == 2


def test_label_only_in_predictions(metric):
    results = metric.compute(
        predictions=[[span(0, 5, "A"), span(10, 12, "C")]],
        references=[[span(0, 5, "A")]],
    )
    assert results["per_label"]["C"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "tp": 0, "fp": 1, "fn": 0}
    assert results["macro_f1"] == pytest.approx(0.5)  # (1 + 0) / 2: C counts in the macro average
    assert results["micro_precision"] == 0.5 and results["micro_recall"] == 1.0
    # zero_division only changes the undefined recall of C
    lenient = metric.compute(
        predictions=[[span(0, 5, "A"), span(10, 12, "C")]], references=[[span(0, 5, "A")]], zero_division=1.0
    )
    assert lenient["per_label"]["C"]["recall"] == 1.0 and lenient["per_label"]["C"]["f1"] == 0.0


def test_no_gold_and_no_predictions(metric):
    results = metric.compute(predictions=[[], []], references=[[], []])
    for scheme in ("strict", "exact_boundary", "partial_overlap"):
        assert results[scheme]["micro_f1"] == 0.0 and results[scheme]["tp"] + results[scheme]["fp"] + results[scheme]["fn"] == 0
    assert results["macro_f1"] == 0.0 and results["per_label"] == {} and results["num_documents"] == 2
    perfect = metric.compute(predictions=[[]], references=[[]], zero_division=1.0)
    assert perfect["micro_precision"] == perfect["micro_recall"] == perfect["micro_f1"] == perfect["macro_f1"] == 1.0
    # Predictions but no gold: precision 0, recall undefined (zero_division), F1 0 either way.
    spurious = metric.compute(predictions=[[span(0, 2, "A")]], references=[[]], zero_division=1.0)
    assert (spurious["micro_precision"], spurious["micro_recall"], spurious["micro_f1"]) == (0.0, 1.0, 0.0)
    # Gold but no predictions: recall 0, precision undefined, F1 0.
    missed = metric.compute(predictions=[[]], references=[[span(0, 2, "A")]])
    assert (missed["micro_precision"], missed["micro_recall"], missed["micro_f1"]) == (0.0, 0.0, 0.0)


def test_partial_overlap_is_one_to_one_and_maximal(metric):
    # One long prediction over two gold spans: it can claim only one of them.
    long_prediction = metric.compute(predictions=[[span(0, 20, "A")]], references=[[span(0, 5, "A"), span(10, 15, "A")]])
    assert (long_prediction["partial_overlap"]["tp"], long_prediction["partial_overlap"]["fn"]) == (1, 1)
    # Two predictions inside one gold span: one is a true positive, the other a false positive.
    split = metric.compute(predictions=[[span(0, 4, "A"), span(5, 9, "A")]], references=[[span(0, 10, "A")]])
    assert (split["partial_overlap"]["tp"], split["partial_overlap"]["fp"]) == (1, 1)
    # p1 overlaps g1 and g2, p2 overlaps only g1: pairing p1-g1 first would leave p2 alone; the
    # maximum matching (p1-g2, p2-g1) finds both.
    crossing = metric.compute(
        predictions=[[span(0, 12, "A"), span(0, 3, "A")]],
        references=[[span(2, 6, "A"), span(8, 14, "A")]],
    )
    assert crossing["partial_overlap"]["tp"] == 2
    # Touching spans (end == start) share no character; another label never matches.
    touching = metric.compute(predictions=[[span(0, 5, "A"), span(20, 25, "B")]], references=[[span(5, 9, "A"), span(20, 25, "A")]])
    assert touching["partial_overlap"]["tp"] == 0


def test_partial_overlap_never_below_strict_on_random_spans(metric):
    rng = random.Random(7)

    def random_doc():
        spans = []
        for _ in range(rng.randint(0, 12)):
            start = rng.randint(0, 60)
            spans.append(span(start, start + rng.randint(1, 10), rng.choice("AB")))
        return spans

    predictions = [random_doc() for _ in range(40)]
    references = [random_doc() for _ in range(40)]
    results = metric.compute(predictions=predictions, references=references)
    assert results["partial_overlap"]["tp"] >= results["strict"]["tp"] > 0
    # Counts are consistent with the distinct spans of each side.
    for scheme in ("strict", "partial_overlap"):
        assert results[scheme]["tp"] + results[scheme]["fp"] == results["num_predictions"]
        assert results[scheme]["tp"] + results[scheme]["fn"] == results["num_references"]
    # Each document scored alone and summed gives the pooled counts.
    pooled = [0, 0, 0]
    for predicted, gold in zip(predictions, references):
        alone = metric.compute(predictions=[predicted], references=[gold])["partial_overlap"]
        pooled = [pooled[0] + alone["tp"], pooled[1] + alone["fp"], pooled[2] + alone["fn"]]
    assert pooled == [results["partial_overlap"][key] for key in ("tp", "fp", "fn")]


def test_extra_keys_ignored_and_bad_spans_named(metric):
    with_scores = metric.compute(
        predictions=[[{"start": 0, "end": 5, "label": "A", "score": 0.9, "text": "hello"}]],
        references=[[{"start": 0, "end": 5, "label": "A", "mention": "hello"}]],
    )
    assert with_scores["micro_f1"] == 1.0
    with pytest.raises(ValueError, match=r"predictions\[1\]\[0\] needs 0 <= start < end"):
        metric.compute(predictions=[[], [span(5, 5, "A")]], references=[[], []])
    with pytest.raises(ValueError, match=r"references\[0\]\[1\] lacks label"):
        metric.compute(predictions=[[]], references=[[span(0, 1, "A"), {"start": 0, "end": 1}]])
    with pytest.raises(ValueError, match=r"references\[0\]\[0\].start must be an integer"):
        metric.compute(predictions=[[]], references=[[span(0.5, 1, "A")]])
    with pytest.raises(ValueError, match=r"label must be a non-empty string"):
        metric.compute(predictions=[[span(0, 1, "")]], references=[[]])


def test_bootstrap_intervals(metric):
    rng = random.Random(3)
    references, predictions = [], []
    for doc in range(30):
        gold = [span(10 * i, 10 * i + 5, "A") for i in range(5)]
        references.append(gold)
        predictions.append([s for s in gold if rng.random() < 0.7] + [span(200, 201, "A")] * (doc % 3 == 0))
    kwargs = dict(predictions=predictions, references=references, bootstrap_samples=300, bootstrap_seed=11)
    first = metric.compute(**kwargs, return_bootstrap_scores=True)
    second = metric.compute(**kwargs, return_bootstrap_scores=True)
    intervals = first["confidence_intervals"]
    assert intervals == second["confidence_intervals"]  # seeded
    assert (intervals["samples"], intervals["seed"], intervals["confidence_level"]) == (300, 11, 0.95)
    for scheme in ("strict", "partial_overlap"):
        for name in ("micro_precision", "micro_recall", "micro_f1", "macro_f1"):
            low, high = intervals[scheme][name]
            assert low <= first[scheme][name] <= high and low < high
    assert len(first["bootstrap_scores"]["strict"]) == 300
    narrower = metric.compute(**kwargs, confidence_level=0.5)["confidence_intervals"]["strict"]["micro_f1"]
    assert narrower[0] >= intervals["strict"]["micro_f1"][0] and narrower[1] <= intervals["strict"]["micro_f1"][1]
    # Paired: another model on the same documents with the same seed sees the same resamples, so
    # a model identical to the first has zero difference on every resample.
    same = metric.compute(**kwargs, return_bootstrap_scores=True)["bootstrap_scores"]["strict"]
    assert same == first["bootstrap_scores"]["strict"]
    # Identical documents: every resample gives the point estimate.
    constant = metric.compute(
        predictions=[[span(0, 5, "A")]] * 10, references=[[span(0, 5, "A"), span(6, 9, "A")]] * 10, bootstrap_samples=50
    )
    assert constant["confidence_intervals"]["strict"]["micro_f1"] == pytest.approx([2 / 3, 2 / 3])
    assert "confidence_intervals" not in metric.compute(predictions=predictions, references=references)
    with pytest.raises(ValueError, match="bootstrap_samples"):
        metric.compute(predictions=predictions, references=references, bootstrap_samples=-1)


def test_module_and_plain_function_agree(metric):
    from gliner_biomed.evaluation.scoring import score_spans

    predictions = [[span(0, 5, "A"), span(6, 8, "B")], [span(1, 3, "A")]]
    references = [[span(0, 5, "A")], [span(1, 4, "A")]]
    assert score_spans(predictions, references) == metric.compute(predictions=predictions, references=references)


def test_incremental_adds_equal_one_compute(metric):
    predictions = [[span(0, 5, "A")], [span(1, 3, "B"), span(4, 6, "A")], []]
    references = [[span(0, 5, "A")], [span(1, 3, "A")], [span(2, 4, "B")]]
    expected = metric.compute(predictions=predictions, references=references)
    metric.add_batch(predictions=predictions[:2], references=references[:2])
    metric.add(prediction=predictions[2], reference=references[2])
    assert metric.compute() == expected
    with pytest.raises(ValueError, match=r"prediction\[0\]\[0\] needs 0 <= start < end"):
        metric.add(prediction=[span(3, 1, "A")], reference=[])


def test_folder_loads_alone_like_a_hub_space(tmp_path):
    """Published alone, the folder must load without this project on the path."""
    import shutil
    import subprocess
    import sys

    folder = shutil.copytree(span_ner_module_dir(), tmp_path / "span_ner", ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import evaluate, sys; m = evaluate.load(sys.argv[1]); "
        "print(m.compute(predictions=[[{'start': 0, 'end': 2, 'label': 'x'}]], references=[[{'start': 0, 'end': 2, 'label': 'x'}]])['micro_f1'])"
    )
    # A fresh interpreter, isolated from the working directory and environment variables; that the
    # module imports nothing of this project is checked by test_only_allowed_imports_in_the_published_module.
    result = subprocess.run([sys.executable, "-I", "-c", script, str(folder)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "1.0"
