"""Sentence-level examples: rule-based sentence boundaries that never cut a mention."""

from __future__ import annotations

import re
from typing import Iterable, List, Sequence, Tuple

# A boundary is whitespace after sentence-final punctuation (plus closing quotes/brackets) when
# the next sentence starts like a sentence: capital letter, digit or opening bracket/quote.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*(\s+)(?=[A-Z0-9(\[\"'])")
# Tokens ending in "." that do not end sentences in biomedical abstracts.
_ABBREVIATIONS = {
    "e.g.", "i.e.", "et al.", "al.", "fig.", "figs.", "vs.", "approx.", "ca.", "cf.", "dr.", "no.",
    "nos.", "vol.", "ref.", "refs.", "resp.", "sp.", "spp.", "st.", "mr.", "mrs.", "prof.", "etc.",
}


def _ends_with_abbreviation(text: str, period_end: int) -> bool:
    preceding = text[max(0, period_end - 8):period_end].split()
    if not preceding:
        return False
    last = preceding[-1].lower()
    # A single capital letter before the period is an initial ("J. Smith", "E. coli").
    return last in _ABBREVIATIONS or bool(re.fullmatch(r"[a-z]\.", last))


def rule_boundaries(text: str, start: int, end: int) -> List[int]:
    """Positions in ``text[start:end]`` where a new sentence starts."""
    boundaries = []
    for match in _BOUNDARY.finditer(text, start, end):
        if match.group(0)[0] == "." and _ends_with_abbreviation(text, match.start() + 1):
            continue
        boundaries.append(match.end())
    return boundaries


def sentence_spans(
    text: str,
    mentions: Iterable[Tuple[int, int]],
    sentences: Sequence[Tuple[int, int]] = (),
    passages: Sequence[Tuple[int, int]] = (),
) -> Tuple[List[Tuple[int, int]], int]:
    """Sentence extents covering every mention, and how many boundaries were dropped to avoid cuts.

    Boundaries come from ``sentences`` when the source marks them, else from the rules run inside
    each passage (passage starts are boundaries too). A boundary strictly inside a mention is
    removed (the two sentences merge). Each extent is trimmed of surrounding whitespace, never
    past a mention.
    """
    if sentences:
        cut_points = sorted({s for s, _ in sentences} - {0})
    else:
        regions = list(passages) or [(0, len(text))]
        cut_points = set()
        for region_start, region_end in regions:
            if region_start > 0:
                cut_points.add(region_start)
            cut_points.update(rule_boundaries(text, region_start, region_end))
        cut_points = sorted(cut_points)
    mentions = sorted(mentions)
    inside = set()
    for start, end in mentions:
        for point in cut_points:
            if start < point < end:
                inside.add(point)
    kept = [point for point in cut_points if point not in inside and 0 < point < len(text)]
    edges = [0] + kept + [len(text)]
    spans: List[Tuple[int, int]] = []
    mention_index = 0
    for left, right in zip(edges, edges[1:]):
        own = []
        while mention_index < len(mentions) and mentions[mention_index][0] < right:
            own.append(mentions[mention_index])
            mention_index += 1
        first_mention = min((s for s, _ in own), default=right)
        last_mention = max((e for _, e in own), default=left)
        trimmed_left = left
        while trimmed_left < min(right, first_mention) and text[trimmed_left].isspace():
            trimmed_left += 1
        trimmed_right = right
        while trimmed_right > max(trimmed_left, last_mention) and text[trimmed_right - 1].isspace():
            trimmed_right -= 1
        if trimmed_left < trimmed_right:
            spans.append((trimmed_left, trimmed_right))
    return spans, len(inside)
