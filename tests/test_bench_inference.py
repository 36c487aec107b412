"""The inference benchmark runs end to end on a tiny setting (2 abstracts of each test set,
the MiniLM model against the reference package) and writes a JSON file and a Markdown table
that agree; the stage profile leaves the model as it was."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # ~75 s: runs the whole benchmark on 2 documents; `pytest -m slow`

from model_factory import build_converted_model

pytest.importorskip("gliner")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def minilm_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-minilm")
    converted = build_converted_model(root, "uni", "minilm")
    return converted, root / "reference"


@pytest.mark.corpus("ncbi-disease", "bc5cdr")
def test_bench_command_writes_json_and_markdown(minilm_pair, corpora_dir, tmp_path):
    from gliner_biomed.cli import main

    converted, reference = minilm_pair
    out = tmp_path / "bench"
    code = main(["bench", "--pair", f"minilm={converted}:{reference}", "--out", str(out), "--corpora-dir", str(corpora_dir),
                 "--docs-per-corpus", "2", "--labels", "3", "--batch-sizes", "1,2", "--long-document-words", "600,1200"])  # fmt: skip
    assert code == 0
    results = json.loads((out / "bench_results.json").read_text())
    table = (out / "bench_results.md").read_text()
    (model,) = results["models"]
    assert [(r["corpus"], r["batch_size"]) for r in model["runs"]] == [
        ("ncbi-disease", 1), ("ncbi-disease", 2), ("bc5cdr", 1), ("bc5cdr", 2)
    ]  # fmt: skip
    for run in model["runs"]:
        summary = run["summary"]
        assert run["documents"] == 2 and run["words"] > 100
        assert summary["ours_docs_per_s"] > 0 and summary["reference_docs_per_s"] > 0
        ratio = summary["ours_docs_per_s"] / summary["reference_docs_per_s"]
        assert summary["ratio_docs_per_s"] == pytest.approx(ratio, rel=1e-2)
        # same weights, same threshold, texts that fit in one pass: the same entities
        assert summary["identical"], run["repeats"][0]["comparison"]
        assert summary["onnx_fp32_identical_to_pytorch"]
        assert 0.0 <= summary["onnx_int8_f1_vs_pytorch"] <= 1.0
        assert f"**{summary['ratio_docs_per_s']:.2f}**" in table
    assert set(model["profile"]) == {"batch_1", "batch_2"}
    for stages in model["profile"].values():
        assert stages["encoder"] > 0 and stages["total"] >= stages["encoder"] + stages["span_head"]
    assert [row["words"] >= target for row, target in zip(model["long_document"], (600, 1200))] == [True, True]
    assert results["machine"]["cpus_available"] >= 1 and "load_average_at_end" in results["machine"]


def test_profile_restores_the_model(minilm_pair):
    from gliner_biomed.bench.profile import profile_inference
    from gliner_biomed.modeling import SpanDecoder
    from gliner_biomed.models import load_model

    model = load_model(str(minilm_pair[0]))
    before = (model.encode_text, SpanDecoder.candidates, model.processor.split_words)
    stages = profile_inference(model, ["Familial breast cancer with BRCA1 mutations."], ["disease"], 1, 0.5)
    assert stages["total"] > 0
    assert "encode_text" not in vars(model) and SpanDecoder.candidates is before[1]
    assert model.processor.split_words is before[2]


def test_bench_rejects_a_missing_folder(tmp_path, capsys):
    from gliner_biomed.cli import main

    code = main(["bench", "--pair", f"x={tmp_path / 'nope'}:{tmp_path}", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "is not a folder" in capsys.readouterr().err
