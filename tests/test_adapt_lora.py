"""LoRA adapters: save / load / merge give the same scores as the trained model in memory;
few-shot adaptation and the few-shot curve on real corpora (tiny runs)."""

from __future__ import annotations

import json
import random

import pytest
import torch

from train_helpers import tiny_encoder  # noqa: F401  (fixture)

from gliner_biomed.trainers.collator import LabelSampling, SpanCollator
from gliner_biomed.trainers.model_setup import LoraSpec, ModelSpec, add_lora, build_model, has_lora
from gliner_biomed.trainers.packaging import (ADAPTER_FOLDER, PACKAGE_FILE, export_full_model, load_adapter_package,
                                              save_model_folder)

EXAMPLES = [
    {"tokenized_text": "Naloxone reverses the antihypertensive effect of clonidine .".split(), "ner": [[0, 0, "chemical"], [7, 7, "chemical"]]},
    {"tokenized_text": "Hereditary breast cancer is linked to BRCA1 .".split(), "ner": [[0, 2, "disease"], [6, 6, "gene"]]},
]
LABELS = [["chemical", "disease", "gene"], ["gene", "chemical", "disease"]]


def logits_of(model) -> torch.Tensor:
    model.eval()
    batch = SpanCollator(model, LabelSampling())(EXAMPLES, random.Random(0), label_sets=LABELS)
    batch.pop("span_labels")
    with torch.no_grad():
        return model(**batch).logits


@pytest.fixture(scope="module")
def lora_model(tiny_encoder):
    torch.manual_seed(0)
    model = build_model(ModelSpec(encoder=str(tiny_encoder), hidden_size=32, max_width=6))
    add_lora(model, LoraSpec(r=4, alpha=8))
    with torch.no_grad():  # a trained-looking adapter: LoRA B starts at zero, token deltas too
        for name, parameter in model.named_parameters():
            if parameter.requires_grad and name.startswith("text_encoder."):
                parameter.normal_(0, 0.2)
    return model


def test_lora_trains_only_adapter_tokens_and_heads(lora_model):
    trainable = {name for name, p in lora_model.named_parameters() if p.requires_grad}
    encoder = {name for name in trainable if name.startswith("text_encoder.")}
    assert encoder and all("lora_" in name or "trainable_tokens" in name for name in encoder)
    assert any(name.startswith("span_head.") for name in trainable)


def test_lora_save_load_merge_equality(lora_model, tiny_encoder, tmp_path):
    from gliner_biomed.models import load_model

    expected = logits_of(lora_model)
    folder = save_model_folder(lora_model, tmp_path / "package", base={"encoder": str(tiny_encoder)})
    assert (folder / PACKAGE_FILE).is_file() and (folder / ADAPTER_FOLDER / "adapter_config.json").is_file()
    assert not list(folder.rglob("*.py")) and "auto_map" not in json.loads((folder / "config.json").read_text())
    assert not (folder / "model.safetensors").exists()  # the base encoder is not copied
    from safetensors import safe_open

    with safe_open(str(folder / ADAPTER_FOLDER / "adapter_model.safetensors"), "pt") as adapter:
        assert not [k for k in adapter.keys() if "base_layer" in k]  # nor its (resized) embedding matrix

    unmerged = load_adapter_package(folder, merge=False)
    assert has_lora(unmerged)
    torch.testing.assert_close(logits_of(unmerged), expected, rtol=0, atol=1e-6)
    merged = load_model(str(folder))
    assert not has_lora(merged)
    torch.testing.assert_close(logits_of(merged), expected, rtol=1e-5, atol=1e-5)

    # Standalone export: a full folder that transformers loads with remote code alone.
    from transformers import AutoModel

    export_full_model(folder, tmp_path / "full")
    standalone = AutoModel.from_pretrained(str(tmp_path / "full"), trust_remote_code=True)
    torch.testing.assert_close(logits_of(standalone), expected, rtol=1e-5, atol=1e-5)


def test_half_precision_heads_and_wrong_base(lora_model, tiny_encoder, tmp_path):
    full = save_model_folder(lora_model, tmp_path / "fp32", base={"encoder": str(tiny_encoder)})
    half = save_model_folder(lora_model, tmp_path / "fp16", base={"encoder": str(tiny_encoder)}, heads_dtype=torch.float16)
    assert (half / "heads.safetensors").stat().st_size < 0.6 * (full / "heads.safetensors").stat().st_size
    torch.testing.assert_close(logits_of(load_adapter_package(half)), logits_of(lora_model), rtol=0, atol=0.05)

    package = json.loads((full / PACKAGE_FILE).read_text())
    package["base_encoder"]["sha256"] = "0" * 64
    (full / PACKAGE_FILE).write_text(json.dumps(package))
    with pytest.raises(ValueError, match="different weights"):
        load_adapter_package(full)


@pytest.fixture(scope="module")
def tiny_base_model(tiny_encoder, tmp_path_factory):
    torch.manual_seed(1)
    model = build_model(ModelSpec(encoder=str(tiny_encoder), hidden_size=32, max_width=6))
    return save_model_folder(model, tmp_path_factory.mktemp("base") / "model")


def test_adapt_few_shot_lora_versus_full(tiny_base_model, tmp_path):
    from gliner_biomed.models import load_model
    from gliner_biomed.trainers.adapt import AdaptConfig, adapt
    from gliner_biomed.trainers.packaging import head_state_dict

    config = AdaptConfig(model=str(tiny_base_model), data="ncbi-disease:train", shots=2, steps=2, batch_size=2,
                         eval_max_documents=2, compare_full=True, train_heads=False, out=str(tmp_path / "adapt"), threads=1)
    result = adapt(config)
    assert result["entity_types"] == ["disease"] and result["examples"] >= 2
    assert 0.0 <= result["lora_f1"] <= 1.0 and 0.0 <= result["full_f1"] <= 1.0
    assert json.loads((tmp_path / "adapt" / "results.json").read_text())["lora_f1"] == result["lora_f1"]
    adapted = load_model(str(tmp_path / "adapt" / "adapter"))
    base = load_model(str(tiny_base_model))
    # Frozen heads stay the base model's; the encoder moved.
    for name, tensor in head_state_dict(base).items():
        assert torch.equal(tensor, head_state_dict(adapted)[name]), name
    assert any(not torch.equal(a, b) for a, b in zip(base.text_encoder.state_dict().values(), adapted.text_encoder.state_dict().values()))


def test_few_shot_curve_json_png_and_resume(tiny_base_model, tmp_path):
    from gliner_biomed.trainers.adapt import CurveConfig, few_shot_curve

    config = CurveConfig(model=str(tiny_base_model), corpora=["ncbi-disease"], shots=[0, 1], seeds=[0, 1], steps=1,
                         batch_size=2, eval_max_documents=2, out=str(tmp_path / "curve"), threads=1)
    summary = few_shot_curve(config)
    points = summary["curves"]["ncbi-disease"]
    assert [p["shots"] for p in points] == [0, 1] and [p["runs"] for p in points] == [1, 2]
    assert (tmp_path / "curve" / "few_shot_curve.png").stat().st_size > 1000
    assert json.loads((tmp_path / "curve" / "few_shot_curve.json").read_text())["curves"] == summary["curves"]
    lines = (tmp_path / "curve" / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 3
    few_shot_curve(config)  # everything done: nothing is run again
    assert (tmp_path / "curve" / "runs.jsonl").read_text().splitlines() == lines


def test_continue_adapter_trains_the_packages_own_adapter_and_bi_encoder_over_it(lora_model, tiny_encoder, tmp_path):
    """continue_adapter: the package's adapter (not a merged copy) is what trains, over the same
    base, so the result is again an adapter of that base; with labels_encoder the same text
    encoder and heads become a bi-encoder whose frozen labels tower is named, not copied."""
    from safetensors.torch import load_file

    from gliner_biomed.trainers.config import TrainConfig
    from gliner_biomed.trainers.loop import initial_model
    from gliner_biomed.trainers.model_setup import set_trainable
    from gliner_biomed.trainers.packaging import HEADS_FILE, head_state_dict

    package = save_model_folder(lora_model, tmp_path / "package", base={"encoder": str(tiny_encoder)})
    config = TrainConfig(init_model=str(package), continue_adapter=True, lora=True, output_dir=str(tmp_path / "run"))
    model, base = initial_model(config)
    assert has_lora(model) and base == {"encoder": str(tiny_encoder.resolve())}
    torch.testing.assert_close(logits_of(model), logits_of(lora_model), rtol=0, atol=1e-6)
    set_trainable(model, train_heads=True)
    assert any("lora_" in name for name, p in model.named_parameters() if p.requires_grad)

    bi_config = TrainConfig(init_model=str(package), continue_adapter=True, lora=True, labels_encoder=str(tiny_encoder),
                            output_dir=str(tmp_path / "run-bi"))
    bi, bi_base = initial_model(bi_config)
    assert bi.config.is_bi_encoder and has_lora(bi) and bi_base["labels_encoder"] == str(tiny_encoder)
    uni_heads = head_state_dict(lora_model)
    for name, tensor in head_state_dict(bi, skip_labels_encoder=True).items():
        if name in uni_heads:
            assert torch.equal(tensor, uni_heads[name]), name
    set_trainable(bi, train_heads=True)
    assert not any(p.requires_grad for p in bi.labels_encoder.parameters())
    with torch.no_grad():  # a trained-looking label projection
        for parameter in bi.label_projection.parameters():
            parameter.add_(0.1)
    saved = save_model_folder(bi, tmp_path / "bi", base=bi_base)
    assert not [k for k in load_file(str(saved / HEADS_FILE)) if k.startswith("labels_encoder.")]
    recorded = json.loads((saved / PACKAGE_FILE).read_text())["base_labels_encoder"]
    assert recorded["path"] == str(tiny_encoder.resolve()) and len(recorded["sha256"]) == 64
    torch.testing.assert_close(logits_of(load_adapter_package(saved, merge=False)), logits_of(bi), rtol=0, atol=1e-6)


def test_new_uni_package_over_the_pip_minilm_moves_its_markers_and_class_token(tmp_path):
    """A new uni-encoder over the pip-packaged MiniLM is saved as a standard adapter: the markers
    move from added rows to [unused0]/[unused1], and the class token index moves with them, so the
    reloaded package scores as the model in memory."""
    from model_factory import minilm_dir

    torch.manual_seed(0)
    model = build_model(ModelSpec(encoder=str(minilm_dir()), hidden_size=32, max_width=6))
    add_lora(model, LoraSpec(r=4, alpha=8))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.requires_grad and name.startswith("text_encoder."):
                parameter.normal_(0, 0.02)
    expected = logits_of(model)
    folder = save_model_folder(model, tmp_path / "package", base={"encoder": str(minilm_dir())})
    config = json.loads((folder / "config.json").read_text())
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    assert config["class_token_index"] == tokenizer["model"]["vocab"]["<<ENT>>"] == 1
    assert config["encoder_config"]["vocab_size"] == len(tokenizer["model"]["vocab"])
    torch.testing.assert_close(logits_of(load_adapter_package(folder, merge=False)), expected, rtol=0, atol=1e-5)
