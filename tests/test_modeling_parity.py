"""Converted models compute what the reference `gliner` package computes: logits within 1e-5
and identical entity lists on NCBI-disease test documents (all 100 on the tiny backbone, the first
40 on MiniLM in the default run), for uni- and bi-encoders on a tiny DeBERTa-v3-shaped backbone
and on the real MiniLM, in all four decoding modes."""

from __future__ import annotations

import pytest
import torch

from model_factory import (
    NCBI_TEST,
    PARITY_LABELS,
    build_converted_model,
    pubtator_texts,
    reference_pass,
    selective_threshold,
)

pytest.importorskip("gliner")

BACKBONES = ["tiny-deberta", "minilm"]
KINDS = ["uni", "bi"]


@pytest.fixture(scope="module")
def ncbi_test_texts():
    texts = pubtator_texts(NCBI_TEST)
    assert len(texts) == 100
    return texts


# The default run proves each backbone and each head against the reference: tiny DeBERTa with the
# bi-encoder head, MiniLM with the uni-encoder head. The two other pairs (120 s together) add no path
# of their own and run with -m slow.
SLOW_PAIRS = {("minilm", "bi"), ("tiny-deberta", "uni")}
PAIRS = [pytest.param((b, k), marks=pytest.mark.slow) if (b, k) in SLOW_PAIRS else (b, k) for b in BACKBONES for k in KINDS]
# MiniLM reads 100 abstracts three times (the reference's pass, our logits, our entities): 80 s of
# the default run on one core. Its pairs compare the first 40; the tiny backbone compares all 100.
DOCUMENTS = {"tiny-deberta": 100, "minilm": 40}


@pytest.fixture(scope="module")
def prepared_pairs():
    """Model pairs built so far, by (backbone, kind): each is built once for both tests, whatever
    order the tests run in (pytest-xdist may interleave the parameters of a module fixture,
    which would build a pair twice)."""
    return {}


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
def model_pair(request, prepared_pairs, tmp_path_factory, ncbi_test_texts):
    """The reference and our conversion of one random-weight model, with the reference's one pass
    over the test documents (its logits and its entities in all modes) shared by both tests."""
    if request.param not in prepared_pairs:
        texts = ncbi_test_texts[: DOCUMENTS[request.param[0]]]
        prepared_pairs[request.param] = prepare_pair(*request.param, tmp_path_factory, texts)
    return prepared_pairs[request.param]


def prepare_pair(backbone, kind, tmp_path_factory, texts):
    from gliner import GLiNER

    from gliner_biomed.models import load_model

    root = tmp_path_factory.mktemp(f"{backbone}-{kind}")
    converted = build_converted_model(root, kind, backbone)
    reference = GLiNER.from_pretrained(str(root / "reference"), local_files_only=True)
    reference.eval()
    ours = load_model(str(converted))
    threshold = selective_threshold(ours, texts[:4], PARITY_LABELS)
    with torch.inference_mode():
        expected = reference_pass(reference, texts, PARITY_LABELS, threshold)
    return backbone, kind, ours, threshold, expected, texts


def fits_in_one_reference_pass(model, text: str) -> bool:
    """Whether the reference reads the whole text (it silently truncates longer ones)."""
    processor = model.processor
    words = [word for word, _, _ in processor.split_words(text)]
    prompt = 0 if model.config.is_bi_encoder else processor.prompt_token_count(PARITY_LABELS)
    tokens = sum(processor.word_token_counts(words)) + prompt
    return len(words) <= model.config.max_len and tokens <= processor.max_sequence_tokens


def test_logits_match_reference(model_pair):
    backbone, kind, ours, _, expected, texts = model_pair
    fits = [fits_in_one_reference_pass(ours, text) for text in texts]
    # MiniLM (512 positions) cannot read 3 of the 100 abstracts with the prompt in one pass.
    assert sum(fits) >= len(texts) - 3
    processor = ours.processor
    worst, compared = 0.0, 0
    for batch in expected.batches:  # the reference's batches, less the texts it truncates
        rows = [i for i in batch if fits[i]]
        words = [[word for word, _, _ in processor.split_words(texts[i])] for i in rows]
        inputs = processor.encode_texts(words, None if kind == "bi" else [PARITY_LABELS] * len(rows))
        if kind == "bi":
            inputs.update(processor.encode_labels(PARITY_LABELS))
        with torch.inference_mode():
            output = ours(**inputs)
        for position, (row, row_words) in enumerate(zip(rows, words)):
            reference_logits = expected.logits[row]
            assert reference_logits.shape == (len(row_words), *output.logits.shape[2:]), (row, reference_logits.shape)
            mask = output.span_mask[position, : len(row_words)]
            mine = output.logits[position, : len(row_words)]
            worst = max(worst, (mine[mask] - reference_logits[mask]).abs().max().item())
            compared += 1
    print(f"{backbone}-{kind}: {compared} documents, max |logit difference| {worst:.3g}")
    assert compared == sum(fits)
    assert worst <= 1e-5, f"{backbone}-{kind}: max |logit difference| {worst:.3g}"


def entity_key(entities):
    return [(e["start"], e["end"], e["label"], e["text"]) for e in entities]


def test_entities_match_reference_in_all_modes(model_pair):
    backbone, kind, ours, threshold, expected, texts = model_pair
    # Batched as the reference batches (input order, 8 per batch), so that float rounding is
    # the same and near-ties between labels break the same way.
    scored = ours.score_documents(texts, PARITY_LABELS, threshold=threshold, sort_by_length=False)
    fits = [fits_in_one_reference_pass(ours, text) for text in texts]
    assert sum(fits) >= len(texts) - 3
    for (flat_ner, multi_label), reference_documents in expected.entities.items():
        total = 0
        for index, (document, reference_entities) in enumerate(zip(scored, reference_documents)):
            entities = document.entities(threshold, flat_ner, multi_label)
            for entity in entities:
                assert texts[index][entity["start"] : entity["end"]] == entity["text"]
            if not fits[index]:
                continue  # the reference truncates this abstract; windowing is tested elsewhere
            assert entity_key(entities) == entity_key(reference_entities), (backbone, kind, flat_ner, multi_label, index)
            for mine, theirs in zip(entities, reference_entities):
                assert abs(mine["score"] - theirs["score"]) <= 1e-5
            total += len(entities)
        # Decoding is selective at this threshold, not all-or-nothing.
        assert len(texts) <= total <= len(texts) * 300, (flat_ner, multi_label, total)
