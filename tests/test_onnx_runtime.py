"""The ONNX Runtime path predicts what the PyTorch path predicts (fp32), on real NCBI-disease
test abstracts, for uni- and bi-encoders converted from random-weight reference models; the
int8 path runs and its difference is measured (not assumed to be zero)."""

from __future__ import annotations

import json

import pytest

from model_factory import NCBI_TEST, PARITY_LABELS, build_converted_model, pubtator_texts, selective_threshold

pytest.importorskip("onnxruntime")
pytest.importorskip("gliner")

NUM_DOCS = 12


@pytest.fixture(scope="module")
def ncbi_texts():
    texts = pubtator_texts(NCBI_TEST)[:NUM_DOCS]
    # one long document made of several abstracts, so that windowing is part of the comparison
    return texts + [" ".join(pubtator_texts(NCBI_TEST)[20:26])]


@pytest.fixture(scope="module", params=["uni", "bi"])
def exported(request, tmp_path_factory):
    from gliner_biomed.models import load_model
    from gliner_biomed.onnx import ExportOptions, export_onnx

    root = tmp_path_factory.mktemp(f"onnx-{request.param}")
    model = load_model(str(build_converted_model(root, request.param, "minilm")))
    folder = export_onnx(model, root / "onnx", ExportOptions(int8=True))
    return request.param, model, folder


@pytest.fixture(scope="module")
def pytorch_entities():
    """The PyTorch path's threshold and entities, by (kind, batch size), computed once for the
    fp32 and int8 comparisons of each model."""
    cache = {}

    def get(kind, model, texts, batch_size):
        if kind not in cache:
            cache[kind] = {"threshold": selective_threshold(model, texts[:4], PARITY_LABELS, keep=0.02)}
        if batch_size not in cache[kind]:
            threshold = cache[kind]["threshold"]
            cache[kind][batch_size] = model.inference(texts, PARITY_LABELS, batch_size=batch_size, threshold=threshold)
        return cache[kind]["threshold"], cache[kind][batch_size]

    return get


def keys(entities):
    return [(e["start"], e["end"], e["label"]) for e in entities]


def test_export_folder_is_self_contained(exported):
    kind, _, folder = exported
    manifest = json.loads((folder / "onnx_manifest.json").read_text())
    expected = ["model.onnx"] + (["labels_encoder.onnx"] if kind == "bi" else [])
    assert manifest["graphs"] == expected
    assert manifest["int8_graphs"] == [name.replace(".onnx", ".int8.onnx") for name in expected]
    for name in expected + manifest["int8_graphs"] + ["config.json", "tokenizer.json"]:
        assert (folder / name).is_file(), name


@pytest.mark.parametrize("batch_size", [1, 5])
def test_fp32_onnx_predicts_the_pytorch_entities(exported, ncbi_texts, pytorch_entities, batch_size):
    from gliner_biomed.onnx import OnnxGLiNER

    kind, model, folder = exported
    runner = OnnxGLiNER.from_pretrained(folder)
    threshold, expected = pytorch_entities(kind, model, ncbi_texts, batch_size)
    got = runner.inference(ncbi_texts, PARITY_LABELS, batch_size=batch_size, threshold=threshold)
    assert sum(map(len, expected)) >= 2 * len(ncbi_texts)  # selective, not empty
    for text, mine, theirs in zip(ncbi_texts, got, expected):
        assert keys(mine) == keys(theirs)
        for entity, reference in zip(mine, theirs):
            assert text[entity["start"] : entity["end"]] == entity["text"]
            assert abs(entity["score"] - reference["score"]) < 1e-4


def test_int8_runs_and_its_difference_is_measured(exported, ncbi_texts, pytorch_entities):
    from gliner_biomed.onnx import OnnxGLiNER
    from gliner_biomed.onnx.compare import entity_agreement

    kind, model, folder = exported
    threshold, reference = pytorch_entities(kind, model, ncbi_texts, 5)
    quantized = OnnxGLiNER.from_pretrained(folder, int8=True).inference(ncbi_texts, PARITY_LABELS, batch_size=5, threshold=threshold)
    agreement = entity_agreement(quantized, reference)
    assert agreement["reference_entities"] == sum(map(len, reference))
    assert 0.0 <= agreement["f1"] <= 1.0
    for text, entities in zip(ncbi_texts, quantized):
        for entity in entities:
            assert text[entity["start"] : entity["end"]] == entity["text"]
    print(f"{kind}: int8 vs fp32 entity F1 {agreement['f1']:.4f}")


def test_uni_encoder_batches_must_share_the_prompt(exported):
    from gliner_biomed.onnx import OnnxGLiNER

    kind, model, folder = exported
    if kind != "uni":
        pytest.skip("bi-encoders take label embeddings, not prompts")
    runner = OnnxGLiNER.from_pretrained(folder)
    inputs = runner.processor.encode_texts([["Cystic", "fibrosis"]] * 2, [["disease"], ["gene"]])
    with pytest.raises(ValueError, match="same label prompt"):
        runner(**inputs)


def test_export_refuses_a_non_empty_folder(exported, tmp_path):
    from gliner_biomed.onnx import export_onnx

    _, model, _ = exported
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        export_onnx(model, tmp_path)
