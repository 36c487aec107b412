"""DeBERTa-v2 attention computed one text at a time (`modeling/modeling_gliner.py`) gives
bit for bit the states of transformers' module, on real NCBI-disease abstracts, for the
attention variants DeBERTa configs can select, and the same span scores through whole models."""

from __future__ import annotations

import pytest
import torch
from transformers import DebertaV2Config, DebertaV2Model
from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention

from model_factory import (
    NCBI_TEST, PARITY_LABELS, TINY_DEBERTA_V3, build_converted_model, build_tiny_deberta, pubtator_texts, selective_threshold,
)  # fmt: skip

from gliner_biomed.modeling import PerTextDisentangledSelfAttention, set_per_text_attention
from gliner_biomed.models import load_model


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(build_tiny_deberta(tmp_path_factory.mktemp("tiny-deberta"))))


@pytest.fixture(scope="module")
def batch(tokenizer):
    # 16 abstracts of different lengths: padding, masked rows and long relative distances
    # (past the 128 exact buckets) all occur
    texts = pubtator_texts(NCBI_TEST)[:16]
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=480, return_tensors="pt")
    lengths = encoded["attention_mask"].sum(1)
    assert lengths.max() > 300 and lengths.min() < lengths.max() - 100
    return encoded


SHAPES = {  # overrides of the tiny DeBERTa-v3 of model_factory
    # DeBERTa-v3 (GLiNER-biomed's backbones): shared keys, c2p + p2c, log buckets
    "v3-small-heads": dict(hidden_size=768, num_attention_heads=12, intermediate_size=3072),
    "v3-tiny": dict(),
    "own-position-keys-c2p-only": dict(share_att_key=False, pos_att_type=["c2p"]),
    "own-position-keys-p2c-only": dict(share_att_key=False, pos_att_type=["p2c"]),
    "no-buckets": dict(position_buckets=-1, max_relative_positions=-1),
    "no-relative-attention": dict(relative_attention=False, position_biased_input=True),
}


def deberta(vocab_size: int, **overrides) -> DebertaV2Model:
    """A random DeBERTa-v2 encoder with deberta-v3-small's 512 positions."""
    torch.manual_seed(0)
    config = DebertaV2Config(**{**TINY_DEBERTA_V3, "vocab_size": vocab_size, "max_position_embeddings": 512, **overrides})
    return DebertaV2Model(config).eval()


@pytest.mark.parametrize("shape", SHAPES)
def test_states_are_bit_identical_to_transformers(shape, tokenizer, batch):
    encoder = deberta(len(tokenizer), **SHAPES[shape])
    length = int(batch["attention_mask"][0].sum())
    single = {"input_ids": batch["input_ids"][:1, :length], "attention_mask": batch["attention_mask"][:1, :length]}
    with torch.inference_mode():
        plain, plain_single = encoder(**batch).last_hidden_state, encoder(**single).last_hidden_state
        assert set_per_text_attention(encoder, True) == 2
        assert all(type(layer.attention.self) is PerTextDisentangledSelfAttention for layer in encoder.encoder.layer)
        per_text, per_text_single = encoder(**batch).last_hidden_state, encoder(**single).last_hidden_state
    assert torch.equal(per_text, plain), (per_text - plain).abs().max().item()
    assert torch.equal(per_text_single, plain_single)  # batch size 1 (no padding)


def test_training_and_switching_back_use_transformers_code(tokenizer, batch):
    encoder = deberta(len(tokenizer), **SHAPES["v3-tiny"])
    set_per_text_attention(encoder, True)
    encoder.train()
    torch.manual_seed(1)
    states = encoder(**batch).last_hidden_state  # gradients recorded: the parent's forward
    states.sum().backward()
    assert encoder.encoder.layer[0].attention.self.query_proj.weight.grad.abs().sum() > 0
    assert set_per_text_attention(encoder, False) == 2
    assert all(type(layer.attention.self) is DisentangledSelfAttention for layer in encoder.encoder.layer)


@pytest.fixture(scope="module", params=["uni", "bi"])
def deberta_model(request, tmp_path_factory):
    return load_model(str(build_converted_model(tmp_path_factory.mktemp(request.param), request.param, "tiny-deberta")))


def test_gliner_models_score_every_span_the_same(deberta_model):
    model = deberta_model
    assert model.config.per_text_attention  # the default
    texts = pubtator_texts(NCBI_TEST)[:40]
    threshold = selective_threshold(model, texts[:4], PARITY_LABELS)

    def candidates():
        scored = model.score_documents(texts, PARITY_LABELS, batch_size=16, threshold=threshold)
        return [[(c.start, c.end, c.label, c.score) for c in document.candidates] for document in scored]

    per_text = candidates()
    model.set_per_text_attention(False)
    try:
        plain = candidates()
    finally:
        model.set_per_text_attention(True)
    assert sum(map(len, plain)) > 100
    assert per_text == plain


def per_text_layers(model) -> list:
    return [type(module) is PerTextDisentangledSelfAttention for module in model.modules() if isinstance(module, DisentangledSelfAttention)]


def test_trainer_built_and_adapter_packaged_models_keep_the_per_text_attention(tmp_path_factory, tmp_path):
    """The trainer and the adapter-package loader put pretrained backbones in after the model's
    __init__; the attention they end up with must still be the per-text one, and a LoRA package
    saved and reloaded (merged or not) must score spans as the model that was saved."""
    from trainers.model_setup import LoraSpec, ModelSpec, add_lora, build_model
    from trainers.packaging import load_adapter_package, save_model_folder

    backbone = build_tiny_deberta(tmp_path_factory.mktemp("tiny-deberta-trainer"))
    model = build_model(ModelSpec(encoder=str(backbone), hidden_size=32, max_len=600))
    assert per_text_layers(model) == [True, True]
    add_lora(model, LoraSpec(r=4, alpha=8))
    assert per_text_layers(model) == [True, True]
    torch.manual_seed(0)
    with torch.no_grad():  # a non-trivial adapter, so that a lost adapter would show
        for name, parameter in model.text_encoder.named_parameters():
            if "lora_B" in name:
                parameter.normal_(std=0.2)
    model.eval()
    texts = pubtator_texts(NCBI_TEST)[:8]
    threshold = selective_threshold(model, texts[:2], PARITY_LABELS)
    expected = model.inference(texts, PARITY_LABELS, threshold=threshold)
    assert sum(map(len, expected)) > 0
    folder = save_model_folder(model, tmp_path / "package", base={"encoder": str(backbone)})
    for merge in (False, True):
        loaded = load_adapter_package(folder, merge=merge)
        assert per_text_layers(loaded) == [True, True]
        got = loaded.inference(texts, PARITY_LABELS, threshold=threshold)
        assert [[(e["start"], e["end"], e["label"]) for e in d] for d in got] == [
            [(e["start"], e["end"], e["label"]) for e in d] for d in expected
        ]
