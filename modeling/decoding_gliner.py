"""Turning span scores into entity lists."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Sequence

import torch


def as_float32(value: float) -> float:
    """``value`` rounded to float32, the precision in which scores are compared to thresholds."""
    return struct.unpack("f", struct.pack("f", value))[0]


@dataclass(frozen=True)
class SpanCandidate:
    """A span (word indices, end inclusive) scored above the threshold for one label."""

    start: int
    end: int
    label: str
    score: float
    label_index: int = 0


class SpanDecoder:
    """Greedy decoding of scored spans, with the reference's semantics.

    * a span/label is a candidate when ``sigmoid(logit) > threshold`` (strictly greater);
    * candidates are taken by decreasing score; one is kept unless it clashes with a kept one;
    * ``flat_ner=True``: spans clash when they share any word; ``flat_ner=False``: they clash
      when they overlap without one containing the other (nesting allowed);
    * the same span with another label clashes unless ``multi_label=True``.

    Equal scores (float32 sigmoids of close logits can be exactly equal) are ordered by start
    word, then width, then the label's position in the label list, as in the reference.
    """

    def __init__(self, max_width: int):
        self.max_width = max_width

    def candidates(
        self,
        logits: torch.Tensor,
        num_words: int,
        label_names: Sequence[str],
        threshold: float,
        word_offset: int = 0,
        min_start: int = 0,
        max_start: int | None = None,
        label_offset: int = 0,
    ) -> List[SpanCandidate]:
        """
        Args:
            logits: `(num_words_padded, max_width, num_labels)` scores of one text (window).
            num_words: real words in the window; spans past it are ignored.
            label_names: name of each label column.
            threshold: probability threshold (strict).
            word_offset: added to word indices (position of the window in its document).
            min_start, max_start: keep only spans whose start (window-relative) lies in
                ``[min_start, max_start)``: the part of a window that owns its spans.
            label_offset: position of the first label column in the whole label list (when a
                large label set is read in several passes).
        """
        probs = torch.sigmoid(logits.float())
        starts, widths, labels = torch.nonzero(probs > threshold, as_tuple=True)
        ends = starts + widths
        keep = (ends < num_words) & (starts >= min_start)
        if max_start is not None:
            keep &= starts < max_start
        starts, widths, labels, ends = starts[keep], widths[keep], labels[keep], ends[keep]
        scores = probs[starts, widths, labels].tolist()
        return [
            SpanCandidate(start + word_offset, end + word_offset, label_names[label], score, label + label_offset)
            for start, end, label, score in zip(starts.tolist(), ends.tolist(), labels.tolist(), scores)
        ]

    @staticmethod
    def _clash(a: SpanCandidate, b: SpanCandidate, flat_ner: bool, multi_label: bool) -> bool:
        if a.start == b.start and a.end == b.end:
            return not multi_label
        disjoint = a.start > b.end or b.start > a.end
        if flat_ner:
            return not disjoint
        nested = (a.start <= b.start and a.end >= b.end) or (b.start <= a.start and b.end >= a.end)
        return not (disjoint or nested)

    def select(self, candidates: List[SpanCandidate], flat_ner: bool, multi_label: bool) -> List[SpanCandidate]:
        """Greedy selection; the result is sorted by start word (stable for equal starts)."""
        ranked = sorted(candidates, key=lambda c: (-c.score, c.start, c.end, c.label_index))
        kept: List[SpanCandidate] = []
        for candidate in ranked:
            if not any(self._clash(candidate, other, flat_ner, multi_label) for other in kept):
                kept.append(candidate)
        kept.sort(key=lambda c: c.start)
        return kept
