"""Options shared by all readers and the one place where a mention is checked against its text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import FrozenSet, Optional, Tuple

from ..records import CorpusFormatError, Location, SourceEntity
from ..report import IssueLog


@dataclass(frozen=True)
class ReadOptions:
    """How readers treat bad records.

    lenient: skip a malformed/unrepairable record and count it (``record_skipped``) instead of
        raising :class:`CorpusFormatError`.
    repair_offsets: when a mention string does not match ``text[start:end]``, try (in order)
        the same offsets with a surface that differs only in case/punctuation/spacing (keep the
        offsets, take the text's surface), then the nearest exact occurrence of the mention
        within ``repair_window`` characters (shift the offsets). Each repair is logged
        (``mention_repaired``) with old and new values.
    known_bad_records: ``(file name, line)`` of records known to be broken in the published
        corpus (listed with the corpus, see ``CorpusSpec.known_bad_records``): skipped and counted
        (``record_skipped``) even when not lenient, so that any other bad record still fails.
    """

    lenient: bool = False
    repair_offsets: bool = False
    repair_window: int = 32
    known_bad_records: FrozenSet[Tuple[str, int]] = frozenset()


def fail(options: ReadOptions, log: IssueLog, where: Location, message: str) -> None:
    """Raise, or in lenient mode (or for a known bad record) record the skipped record."""
    known_bad = (PurePath(where.path).name, where.line) in options.known_bad_records
    if not options.lenient and not known_bad:
        raise CorpusFormatError(message, where)
    log.add("record_skipped", where, message)


_NOT_ALNUM = re.compile(r"[\W_]+")


def _loose(text: str) -> str:
    return _NOT_ALNUM.sub("", text).casefold()


def _nearest_occurrence(text: str, mention: str, start: int, window: int) -> Optional[int]:
    best: Optional[int] = None
    low, high = max(0, start - window), min(len(text), start + window + 1)
    position = text.find(mention, low)
    while position != -1 and position < high:
        if best is None or abs(position - start) < abs(best - start):
            best = position
        position = text.find(mention, position + 1)
    return best


def checked_entity(
    text: str,
    start: int,
    end: int,
    entity_type: str,
    mention: Optional[str],
    where: Location,
    options: ReadOptions,
    log: IssueLog,
    fragments: Optional[Tuple[Tuple[int, int], ...]] = None,
) -> Optional[SourceEntity]:
    """A :class:`SourceEntity` whose offsets are proven against ``text``, or None when skipped.

    ``mention=None`` means the format carries no mention string (offsets only).
    """
    if not entity_type:
        fail(options, log, where, "empty entity type")
        return None
    in_text = 0 <= start < end <= len(text)
    if not in_text and (mention is None or not options.repair_offsets):
        fail(options, log, where, f"offsets {start}-{end} outside the text (length {len(text)}) or empty")
        return None
    surface = text[start:end] if in_text else ""
    if in_text and (mention is None or surface == mention):
        return SourceEntity(start, end, entity_type, surface, fragments, where)
    if options.repair_offsets and mention:
        if in_text and _loose(surface) and _loose(surface) == _loose(mention):
            log.add("mention_repaired", where, f"{mention!r} -> text surface {surface!r} at {start}-{end}")
            return SourceEntity(start, end, entity_type, surface, fragments, where)
        nearest = _nearest_occurrence(text, mention, start, options.repair_window)
        if nearest is not None:
            new_end = nearest + len(mention)
            log.add("mention_repaired", where, f"{mention!r} at {start}-{end} (text {surface!r}) -> {nearest}-{new_end}")
            return SourceEntity(nearest, new_end, entity_type, mention, None, where)
    fail(options, log, where, f"mention {mention!r} does not match text[{start}:{end}] = {surface!r}")
    return None
