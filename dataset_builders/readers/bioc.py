"""BioC XML: ``collection/document`` with an ``id`` and ``passage`` elements (``offset``,
``text`` or ``sentence`` children), each holding ``annotation`` elements with an
``<infon key="type">`` and one or more ``<location offset= length=>`` (offsets are document
absolute, as in the BioC specification) and the mention ``text``.

The document text puts every passage (or sentence) text at its offset and fills the gaps with
spaces, so PubTator-style title/abstract documents get ``title + " " + abstract``. An
annotation with several locations is a discontinuous mention, kept as its covering extent and
logged as ``discontinuous_mention``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from ..records import CorpusFormatError, Location, SourceDocument, SourceEntity
from ..report import IssueLog
from .options import ReadOptions, checked_entity, fail


def _int(element: ET.Element, tag: str, where: Location) -> int:
    value = element.findtext(tag)
    if value is None or not value.strip().lstrip("-").isdigit():
        raise CorpusFormatError(f"<{element.tag}> without an integer <{tag}> (got {value!r})", where)
    return int(value)


def _annotation_type(annotation: ET.Element) -> str:
    for infon in annotation.findall("infon"):
        if (infon.get("key") or "").lower() == "type":
            return (infon.text or "").strip()
    return ""


def _document(element: ET.Element, path: Path, options: ReadOptions, log: IssueLog) -> SourceDocument:
    document_id = (element.findtext("id") or "").strip()
    where = Location(str(path), None, document_id or "?")
    if not document_id:
        raise CorpusFormatError("<document> without <id>", where)
    # (offset, text) of every text-bearing unit: a passage's own text, else its sentences.
    units: List[Tuple[int, str]] = []
    passage_spans: List[Tuple[int, int]] = []
    annotations: List[ET.Element] = []
    for passage in element.findall("passage"):
        passage_offset = _int(passage, "offset", where)
        passage_text = passage.findtext("text")
        sentences = passage.findall("sentence")
        if passage_text is not None:
            units.append((passage_offset, passage_text))
            passage_end = passage_offset + len(passage_text)
        else:
            passage_end = passage_offset
            for sentence in sentences:
                sentence_text = sentence.findtext("text") or ""
                sentence_offset = _int(sentence, "offset", where)
                units.append((sentence_offset, sentence_text))
                passage_end = max(passage_end, sentence_offset + len(sentence_text))
        passage_spans.append((passage_offset, passage_end))
        annotations.extend(passage.findall("annotation"))
        for sentence in sentences:
            annotations.extend(sentence.findall("annotation"))
    pieces: List[str] = []
    length = 0
    for offset, unit_text in sorted(units, key=lambda unit: unit[0]):
        if offset < length:
            raise CorpusFormatError(f"passage/sentence at offset {offset} overlaps the previous one (ends at {length})", where)
        pieces.append(" " * (offset - length))
        pieces.append(unit_text)
        length = offset + len(unit_text)
    text = "".join(pieces)
    entities: List[SourceEntity] = []
    for annotation in annotations:
        annotation_where = Location(str(path), None, f"{document_id} annotation {annotation.get('id', '?')}")
        locations = annotation.findall("location")
        fragments = []
        for location in locations:
            offset, span_length = location.get("offset"), location.get("length")
            if offset is None or span_length is None or not offset.isdigit() or not span_length.isdigit():
                fragments = None
                break
            fragments.append((int(offset), int(offset) + int(span_length)))
        entity_type = _annotation_type(annotation)
        if not fragments:
            fail(options, log, annotation_where, "annotation without valid <location offset= length=>")
            continue
        fragments.sort()
        mention = annotation.findtext("text")
        if len(fragments) == 1:
            (start, end), = fragments
            entity = checked_entity(text, start, end, entity_type, mention, annotation_where, options, log)
        else:
            if any(not 0 <= s < e <= len(text) for s, e in fragments):
                fail(options, log, annotation_where, f"locations {fragments} outside the text (length {len(text)})")
                continue
            start, end = fragments[0][0], fragments[-1][1]
            entity = checked_entity(text, start, end, entity_type, None, annotation_where, options, log, tuple(fragments))
            log.add(
                "discontinuous_mention", annotation_where,
                f"{entity_type} locations {fragments} ({mention!r}); kept as {start}-{end}",
            )
        if entity is not None:
            entities.append(entity)
    return SourceDocument(document_id, text, tuple(entities), where, passages=tuple(passage_spans))


def read_bioc_xml(
    path: Union[str, Path], options: ReadOptions = ReadOptions(), log: Optional[IssueLog] = None
) -> Iterator[SourceDocument]:
    """Yield the documents of a BioC XML collection in file order (streamed)."""
    log = log if log is not None else IssueLog()
    path = Path(path)
    try:
        for _, element in ET.iterparse(str(path), events=("end",)):
            if element.tag == "document":
                yield _document(element, path, options, log)
                element.clear()
    except ET.ParseError as error:
        line, column = error.position
        raise CorpusFormatError(f"XML error at column {column}: {error} (truncated file?)", Location(str(path), line)) from error
