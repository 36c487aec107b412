"""The speed levers against the plain path on real NCBI-disease abstracts: length-bucketed
batching and fused span scoring."""

from __future__ import annotations

import pytest
import torch

from model_factory import NCBI_TEST, PARITY_LABELS, build_converted_model, pubtator_texts, selective_threshold

from gliner_biomed.models import load_model

MODES = [(flat, multi) for flat in (True, False) for multi in (False, True)]


def key(entities):
    return [(e["start"], e["end"], e["label"]) for e in entities]


# The levers live in the span head and the batching, which uni- and bi-encoders share; the bi-encoder
# runs (44 s) are in the slow set.
@pytest.fixture(scope="module", params=["uni", pytest.param("bi", marks=pytest.mark.slow)])
def model(request, tmp_path_factory):
    return load_model(str(build_converted_model(tmp_path_factory.mktemp(request.param), request.param, "minilm")))


@pytest.fixture(scope="module")
def texts():
    return pubtator_texts(NCBI_TEST)[:50]


def test_length_bucketing_changes_nothing(model, texts):
    texts = texts[:32]  # two batches of 16, in length order against input order
    threshold = selective_threshold(model, texts[:4], PARITY_LABELS)
    bucketed = model.score_documents(texts, PARITY_LABELS, batch_size=16, threshold=threshold)
    in_order = model.score_documents(texts, PARITY_LABELS, batch_size=16, threshold=threshold, sort_by_length=False)
    for flat, multi in MODES:
        assert [key(d.entities(threshold, flat, multi)) for d in bucketed] == [
            key(d.entities(threshold, flat, multi)) for d in in_order
        ]


@pytest.mark.slow  # the default run checks the fused head on the trained default model (below)
def test_fused_span_scoring_matches_plain_path(model, texts):
    processor = model.processor
    subset = texts[:16]
    words = [[w for w, _, _ in processor.split_words(t)][:300] for t in subset]
    inputs = processor.encode_texts(words, None if model.config.is_bi_encoder else [PARITY_LABELS] * len(subset))
    if model.config.is_bi_encoder:
        inputs.update(processor.encode_labels(PARITY_LABELS))
    try:
        with torch.inference_mode():
            plain = model(**inputs)
            model.config.fused_span_scoring = True
            fused = model(**inputs)
        mask = plain.span_mask
        assert (plain.logits[mask] - fused.logits[mask]).abs().max().item() <= 1e-5

        threshold = selective_threshold(model, texts[:4], PARITY_LABELS)
        fast = model.score_documents(texts, PARITY_LABELS, batch_size=16, threshold=threshold)
    finally:
        model.config.fused_span_scoring = False
    slow = model.score_documents(texts, PARITY_LABELS, batch_size=16, threshold=threshold)
    for flat, multi in MODES:
        same = sum(
            key(a.entities(threshold, flat, multi)) == key(b.entities(threshold, flat, multi)) for a, b in zip(fast, slow)
        )
        # Rounding differs by ~1e-6, which decides between candidates that tie within that noise:
        # measured 98-100 identical abstracts of 100 per mode on these random-weight models.
        assert same >= len(texts) - 2, (flat, multi, same)


def test_fused_span_scoring_gives_the_exact_entities_of_the_trained_default_model(texts):
    """The shipped default model reads with the fused head; on a trained model the ~1e-6 rounding
    difference decides nothing: the same entities as the exact head in every mode."""
    model = load_model(None)
    assert model.config.fused_span_scoring
    texts = texts[:24]
    fast = model.score_documents(texts, ["disease", "chemical", "gene or gene product"], batch_size=16, threshold=0.3)
    model.config.fused_span_scoring = False
    exact = model.score_documents(texts, ["disease", "chemical", "gene or gene product"], batch_size=16, threshold=0.3)
    found = 0
    for threshold in (0.3, 0.5, 0.7):
        for flat, multi in MODES:
            got = [key(d.entities(threshold, flat, multi)) for d in fast]
            assert got == [key(d.entities(threshold, flat, multi)) for d in exact], (threshold, flat, multi)
            found += sum(map(len, got))
    assert found > 100


def test_greedy_selection_keeps_what_checking_every_kept_span_keeps():
    """SpanDecoder.select checks a candidate only against the kept spans that can overlap it (long
    documents made it quadratic); on dense random candidates it keeps exactly what the plain
    greedy definition (benchmarks/span_selection.py) keeps, in every mode."""
    import importlib.util
    import random
    from pathlib import Path

    from gliner_biomed.modeling.processing_gliner import SpanCandidate, SpanDecoder

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "span_selection.py"
    spec = importlib.util.spec_from_file_location("span_selection", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    rng = random.Random(5)
    candidates = []
    for _ in range(3000):
        start = rng.randrange(400)
        label = rng.randrange(3)
        # scores on a coarse grid, so that ties are broken by start, width and label
        candidates.append(SpanCandidate(start, start + rng.randrange(12), f"type {label}", rng.randrange(200) / 200, label))
    decoder = SpanDecoder(max_width=12)
    for flat, multi in MODES:
        kept = decoder.select(candidates, flat, multi)
        assert kept == benchmark.plain_greedy(candidates, flat, multi), (flat, multi)
        assert len(kept) > 100
