"""Where inference time goes: wall time of one ``model.inference`` call split into
tokenization (word splitting, sub-token counting, batch encoding), encoder (backbone +
projection), words (sub-token pooling + BiLSTM), span head (span representations, label
projection, span x label scores), decoding (candidate extraction + greedy selection) and the
rest (Python glue, windowing, tensor moves).

Stages are timed by wrapping the methods the inference path calls, on this model instance only
(class-level for the decoder), and unwrapped afterwards."""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence, Tuple

from ..modeling import SpanDecoder

STAGES = ("tokenization", "encoder", "words", "span_head", "decoding")


def _timed(function, stage: str, totals: Dict[str, float], depth: List[int]):
    def wrapper(*args, **kwargs):
        # nested timed calls (e.g. split_words inside a timed caller) count once, outermost
        depth[0] += 1
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                totals[stage] += time.perf_counter() - start

    return wrapper


@contextmanager
def stage_timers(model) -> Iterator[Dict[str, float]]:
    totals: Dict[str, float] = defaultdict(float)
    depth = [0]
    processor = model.processor
    patches: List[Tuple[object, str, object, bool]] = []  # (owner, name, original, was_instance_attr)

    def patch(owner, name: str, stage: str) -> None:
        instance_attr = name in vars(owner)
        original = getattr(owner, name)
        patches.append((owner, name, vars(owner).get(name), instance_attr))
        setattr(owner, name, _timed(original, stage, totals, depth))

    for name in ("split_words", "word_token_counts", "encode_texts", "encode_labels"):
        patch(processor, name, "tokenization")
    patch(model, "encode_text", "encoder")
    if model.config.is_bi_encoder:
        patch(model, "encode_labels", "encoder")
    patch(model, "encode_words", "words")
    patch(model, "score_spans", "span_head")
    patch(SpanDecoder, "candidates", "decoding")
    patch(SpanDecoder, "select", "decoding")
    try:
        yield totals
    finally:
        for owner, name, original, instance_attr in reversed(patches):
            if instance_attr:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def profile_inference(model, texts: Sequence[str], labels, batch_size: int, threshold: float) -> Dict[str, float]:
    """Seconds per stage (and ``other``, ``total``) of one ``model.inference`` call."""
    with stage_timers(model) as totals:
        start = time.perf_counter()
        model.inference(list(texts), labels, batch_size=batch_size, threshold=threshold)
        total = time.perf_counter() - start
    result = {stage: round(totals.get(stage, 0.0), 4) for stage in STAGES}
    result["other"] = round(total - sum(totals.get(stage, 0.0) for stage in STAGES), 4)
    result["total"] = round(total, 4)
    return result
