"""brat standoff: ``NAME.txt`` holds the text, ``NAME.ann`` the annotations.

Text-bound lines ``T1<TAB>Type START END[;START END...]<TAB>covered text`` are mentions (for a
discontinuous mention the covered text is the fragments' texts joined by single spaces).
Relations, events, attributes, normalizations and notes (``R``, ``E``, ``A``/``M``, ``N``, ``#``,
``*``) are not mentions and are not read. A discontinuous mention is kept as the extent from its
first fragment's start to its last fragment's end and logged as ``discontinuous_mention``.
Fragments may be listed out of text order (Chia lists them in reading order of the mention, e.g.
``111 162;88 95`` for "illness ... medical"); the covered text follows the listed order, the
extent and the stored fragments follow the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from ..records import CorpusFormatError, Location, SourceDocument, SourceEntity, read_utf8, text_lines
from ..report import IssueLog
from .options import ReadOptions, checked_entity, fail

_NON_MENTION_PREFIXES = ("R", "E", "A", "M", "N", "#", "*")


def _parse_fragments(spec: str) -> Optional[List[Tuple[int, int]]]:
    fragments = []
    for piece in spec.split(";"):
        bounds = piece.split()
        if len(bounds) != 2 or not bounds[0].isdigit() or not bounds[1].isdigit():
            return None
        fragments.append((int(bounds[0]), int(bounds[1])))
    return fragments


def read_brat_document(
    txt_path: Union[str, Path],
    ann_path: Optional[Union[str, Path]] = None,
    options: ReadOptions = ReadOptions(),
    log: Optional[IssueLog] = None,
) -> SourceDocument:
    log = log if log is not None else IssueLog()
    txt_path = Path(txt_path)
    ann_path = Path(ann_path) if ann_path is not None else txt_path.with_suffix(".ann")
    if not txt_path.is_file():
        raise CorpusFormatError("text file missing for this annotation file", Location(str(ann_path)))
    if not ann_path.is_file():
        raise CorpusFormatError("annotation file missing for this text file", Location(str(txt_path)))
    # read whole, "\r\n" kept as two characters: brat offsets count every character of the file.
    text = read_utf8(txt_path)
    document_id = txt_path.stem
    entities: List[SourceEntity] = []
    for line_number, raw_line in text_lines(ann_path):
        line = raw_line.rstrip("\r\n")
        where = Location(str(ann_path), line_number, document_id)
        if not line.strip():
            continue
        if line.startswith(_NON_MENTION_PREFIXES):
            continue
        if not line.startswith("T"):
            fail(options, log, where, f"unknown annotation line {line[:80]!r}")
            continue
        fields = line.split("\t")
        if len(fields) != 3 or " " not in fields[1]:
            fail(options, log, where, f"want 'T<id><TAB>Type START END<TAB>text', got {line[:80]!r}")
            continue
        entity_type, _, spec = fields[1].partition(" ")
        fragments = _parse_fragments(spec)
        if not fragments:
            fail(options, log, where, f"bad offsets {spec!r} (want 'START END' or 'S1 E1;S2 E2')")
            continue
        if len(fragments) == 1:
            (start, end), = fragments
            entity = checked_entity(text, start, end, entity_type, fields[2], where, options, log)
        else:
            bad = [(s, e) for s, e in fragments if not 0 <= s < e <= len(text)]
            in_text_order = sorted(fragments)
            disjoint = all(in_text_order[i][1] <= in_text_order[i + 1][0] for i in range(len(fragments) - 1))
            covered = " ".join(text[s:e] for s, e in fragments)
            if bad or not disjoint:
                fail(options, log, where, f"fragments {fragments} outside the text (length {len(text)}) or overlapping")
                continue
            if covered != fields[2]:
                fail(options, log, where, f"mention {fields[2]!r} does not match fragment text {covered!r}")
                continue
            start, end = in_text_order[0][0], in_text_order[-1][1]
            entity = checked_entity(text, start, end, entity_type, None, where, options, log, tuple(in_text_order))
            listed = "" if in_text_order == fragments else " (listed out of text order)"
            log.add("discontinuous_mention", where, f"{entity_type} fragments {fragments}{listed} = {covered!r}; kept as {start}-{end}")
        if entity is not None:
            entities.append(entity)
    return SourceDocument(document_id, text, tuple(entities), Location(str(txt_path), None, document_id))


def read_brat(
    directory: Union[str, Path], options: ReadOptions = ReadOptions(), log: Optional[IssueLog] = None
) -> Iterator[SourceDocument]:
    """Every ``*.ann`` / ``*.txt`` pair of a directory, sorted by file name."""
    directory = Path(directory)
    ann_files = sorted(directory.glob("*.ann"))
    if not ann_files:
        raise CorpusFormatError("no .ann files found", Location(str(directory)))
    for ann_path in ann_files:
        yield read_brat_document(ann_path.with_suffix(".txt"), ann_path, options, log)
