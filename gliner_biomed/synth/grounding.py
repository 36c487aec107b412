"""Grounding: every mention an LLM returns is located in the text, or dropped and counted.

Order of trust for one mention:
1. offsets given by the LLM that select exactly the mention (``offset``);
2. exact occurrences of the mention in the text (``exact``), then occurrences that differ only in
   case, runs of whitespace or dash characters (``normalised``); an occurrence must not start or
   end inside a word (``ALL`` is not grounded in ``ALLELE``);
3. among the occurrences: the one nearest to wrong LLM offsets (``offset_corrected``), the one
   named by an ``occurrence`` index, else all of them (or the first, with ``occurrences="first"``).
A mention with no occurrence is a hallucination (``not_in_text``). Labels go through the
:class:`~gliner_biomed.synth.labels.LabelNormaliser`. GLiNER predicts word spans, so an entity
whose boundary falls inside a word of the shared splitter is dropped or snapped to the enclosing
words (``unaligned``), counted either way.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import AbstractSet, Dict, List, Optional, Sequence, Tuple

from .labels import LabelNormaliser
from .parsing import RawMention

OCCURRENCE_POLICIES = ("all", "first")
UNALIGNED_POLICIES = ("drop", "snap")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_DASH_CLASS = "[" + re.escape(_DASHES) + "]"


@dataclass(frozen=True)
class GroundingConfig:
    occurrences: str = "all"  # mentions without offsets or occurrence index: ground "all" occurrences or the "first"
    unaligned: str = "drop"  # entity boundary inside a word: "drop" it or "snap" it to the enclosing words
    normalised_match: bool = True  # fall back to case/whitespace/dash-insensitive matching

    def __post_init__(self) -> None:
        if self.occurrences not in OCCURRENCE_POLICIES:
            raise ValueError(f"occurrences must be one of {OCCURRENCE_POLICIES}, got {self.occurrences!r}")
        if self.unaligned not in UNALIGNED_POLICIES:
            raise ValueError(f"unaligned must be one of {UNALIGNED_POLICIES}, got {self.unaligned!r}")


@dataclass
class GroundingResult:
    entities: List[Dict]  # {"start", "end", "label", "mention"}, sorted, text[start:end] == mention
    tokenized_text: List[str]
    ner: List[List]  # [start_word, end_word_inclusive, label]
    counts: Counter = field(default_factory=Counter)  # mentions by outcome, see ground_mentions
    labels_seen: Counter = field(default_factory=Counter)  # (raw label, canonical or None)


def _at_word_edges(text: str, start: int, end: int) -> bool:
    """The span neither starts nor ends in the middle of a run of word characters."""
    if start > 0 and text[start].isalnum() and text[start - 1].isalnum():
        return False
    if end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        return False
    return True


def _normalised_pattern(mention: str) -> "re.Pattern[str]":
    chunks = []
    for chunk in mention.split():
        chunks.append("".join(_DASH_CLASS if char in _DASHES else re.escape(char) for char in chunk))
    return re.compile(r"\s+".join(chunks), re.IGNORECASE)


def find_occurrences(text: str, mention: str, normalised: bool = True) -> Tuple[List[Tuple[int, int]], str]:
    """(spans, kind): exact occurrences of ``mention`` at word edges, else normalised ones;
    kind is ``exact``, ``normalised`` or ``none``."""
    spans = []
    start = text.find(mention)
    while start >= 0:
        if _at_word_edges(text, start, start + len(mention)):
            spans.append((start, start + len(mention)))
        start = text.find(mention, start + 1)
    if spans:
        return spans, "exact"
    if normalised and mention.split():
        spans = [m.span() for m in _normalised_pattern(mention).finditer(text) if _at_word_edges(text, *m.span())]
        if spans:
            return spans, "normalised"
    return [], "none"


class _WordIndex:
    def __init__(self, text: str):
        # Imported here: gliner_biomed.modeling loads torch, which the CLI and the HTTP path
        # (annotate, merge) should not pay for at start-up.
        from gliner_biomed.modeling import split_words

        self.words = split_words(text)
        self.starts = [start for _, start, _ in self.words]
        self.ends = [end for _, _, end in self.words]
        self.word_at_start = {start: index for index, start in enumerate(self.starts)}
        self.word_at_end = {end: index for index, end in enumerate(self.ends)}

    def word_span(self, start: int, end: int) -> Optional[Tuple[int, int]]:
        first, last = self.word_at_start.get(start), self.word_at_end.get(end)
        return None if first is None or last is None else (first, last)

    def snapped(self, start: int, end: int) -> Tuple[int, int]:
        """The smallest span of whole words that covers ``[start, end)``."""
        first = max(bisect.bisect_right(self.starts, start) - 1, 0)
        last = max(bisect.bisect_left(self.ends, end), first)
        last = min(last, len(self.words) - 1)
        return self.starts[first], self.ends[last]


def _locate(text: str, raw: RawMention, config: GroundingConfig, counts: Counter) -> List[Tuple[int, int]]:
    """Character spans for one raw mention (counting how they were found), [] if none."""
    if raw.start is not None and raw.end is not None and text[raw.start:raw.end] == raw.mention:
        counts["offset"] += 1
        return [(raw.start, raw.end)]
    mention = raw.mention.strip()
    spans, kind = find_occurrences(text, mention, config.normalised_match)
    if not spans:
        counts["dropped_not_in_text"] += 1
        return []
    if raw.start is not None:
        counts["offset_corrected"] += 1
        return [min(spans, key=lambda span: (abs(span[0] - raw.start), span[0]))]
    counts[kind] += 1
    if raw.occurrence is not None:
        if raw.occurrence >= len(spans):
            counts["dropped_occurrence_out_of_range"] += 1
            return []
        return [spans[raw.occurrence]]
    return spans if config.occurrences == "all" else spans[:1]


def ground_mentions(
    text: str,
    mentions: Sequence[RawMention],
    normaliser: LabelNormaliser,
    config: GroundingConfig = GroundingConfig(),
    allowed_labels: Optional[AbstractSet[str]] = None,
) -> GroundingResult:
    """Ground ``mentions`` in ``text``. ``counts`` keys: ``proposed``; how mentions were found
    (``offset``, ``exact``, ``normalised``, ``offset_corrected``); ``grounded`` (mentions with at
    least one span kept); drops per mention (``dropped_empty_label``, ``dropped_label_not_allowed``
    (canonical label not in ``allowed_labels``, when given), ``dropped_not_in_text``,
    ``dropped_occurrence_out_of_range``, ``dropped_not_word_aligned``); per span: ``spans_not_word_aligned``,
    ``spans_snapped_to_words``, ``spans_duplicate``, ``spans_same_span_other_label``, ``entities``."""
    counts: Counter = Counter()
    labels_seen: Counter = Counter()
    words = _WordIndex(text)
    kept: Dict[Tuple[int, int, str], None] = {}
    for raw in mentions:
        counts["proposed"] += 1
        label = normaliser(raw.label)
        labels_seen[(raw.label, label)] += 1
        if label is None:
            counts["dropped_empty_label"] += 1
            continue
        if allowed_labels is not None and label not in allowed_labels:
            counts["dropped_label_not_allowed"] += 1
            continue
        spans = _locate(text, raw, config, counts)
        any_kept = False
        for start, end in spans:
            if words.word_span(start, end) is None:
                counts["spans_not_word_aligned"] += 1
                if config.unaligned == "drop":
                    continue
                start, end = words.snapped(start, end)
                counts["spans_snapped_to_words"] += 1
            key = (start, end, label)
            if key in kept:
                counts["spans_duplicate"] += 1
            else:
                kept[key] = None
            any_kept = True
        if any_kept:
            counts["grounded"] += 1
        elif spans:  # found in the text, but every span was inside a word
            counts["dropped_not_word_aligned"] += 1
    spans_by_position = Counter((start, end) for start, end, _ in kept)
    counts["spans_same_span_other_label"] += sum(n - 1 for n in spans_by_position.values())
    entities = [{"start": s, "end": e, "label": label, "mention": text[s:e]} for s, e, label in sorted(kept)]
    ner = sorted({(*words.word_span(e["start"], e["end"]), e["label"]) for e in entities})
    counts["entities"] += len(entities)
    return GroundingResult(entities, [word for word, _, _ in words.words], [list(span) for span in ner], counts, labels_seen)
