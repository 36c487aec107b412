"""PubTator: ``PMID|t|title``, ``PMID|a|abstract``, then ``PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>id]``
lines with offsets into ``title + " " + abstract`` (end exclusive); a blank line ends a document.

Relation lines (``PMID<TAB>relation<TAB>id1<TAB>id2``) carry no mention and are not read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

from ..records import CorpusFormatError, Location, SourceDocument, SourceEntity, text_lines
from ..report import IssueLog
from .options import ReadOptions, checked_entity, fail

_TEXT_LINE = re.compile(r"^([^|\t]+)\|([ta])\|(.*)$")


class _OpenDocument:
    def __init__(self, document_id: str, title: str, where: Location):
        self.document_id = document_id
        self.title = title
        self.abstract: Optional[str] = None
        self.where = where
        self.entities: List[SourceEntity] = []

    @property
    def text(self) -> str:
        return f"{self.title} {self.abstract}"

    def close(self) -> SourceDocument:
        title_end = len(self.title)
        passages = ((0, title_end), (title_end + 1, title_end + 1 + len(self.abstract or "")))
        return SourceDocument(self.document_id, self.text, tuple(self.entities), self.where, passages=passages)


def read_pubtator(
    path: Union[str, Path], options: ReadOptions = ReadOptions(), log: Optional[IssueLog] = None
) -> Iterator[SourceDocument]:
    """Yield the documents of a PubTator file in file order (duplicates kept)."""
    log = log if log is not None else IssueLog()
    path = Path(path)
    current: Optional[_OpenDocument] = None
    last_line_ended = True
    for line_number, raw_line in text_lines(path):
        last_line_ended = raw_line.endswith("\n")
        line = raw_line.rstrip("\r\n")
        where = Location(str(path), line_number)
        if not line.strip():
            if current is not None:
                if current.abstract is None:
                    raise CorpusFormatError(f"document {current.document_id} has a title but no abstract line", where)
                yield current.close()
                current = None
            continue
        text_match = _TEXT_LINE.match(line)
        if text_match:
            document_id, kind, content = text_match.groups()
            if kind == "t":
                if current is not None:
                    if current.abstract is None:
                        raise CorpusFormatError(f"document {current.document_id} has no abstract line", where)
                    # A new title without a blank line still starts a new document.
                    yield current.close()
                current = _OpenDocument(document_id, content, Location(str(path), line_number, document_id))
                continue
            if current is None or current.document_id != document_id or current.abstract is not None:
                raise CorpusFormatError(f"abstract line for {document_id} does not follow its title line", where)
            if current.entities:
                raise CorpusFormatError(f"abstract line for {document_id} after its annotations", where)
            current.abstract = content
            continue
        fields = line.split("\t")
        if current is not None:
            where = Location(str(path), line_number, current.document_id)
        if current is None:
            raise CorpusFormatError(f"annotation line outside a document (no title line before it): {line[:80]!r}", where)
        if fields[0] != current.document_id:
            fail(options, log, where, f"annotation for document {fields[0]!r} inside document {current.document_id!r}")
            continue
        if current.abstract is None:
            raise CorpusFormatError(f"annotation line before the abstract line of {current.document_id}", where)
        if len(fields) == 4 and not fields[1].isdigit():
            continue  # relation line: no mention to read
        if len(fields) < 5 or not fields[1].isdigit() or not fields[2].isdigit():
            fail(options, log, where, f"malformed annotation line (want PMID, start, end, mention, type[, id]): {line[:120]!r}")
            continue
        entity = checked_entity(
            current.text, int(fields[1]), int(fields[2]), fields[4], fields[3], where, options, log
        )
        if entity is not None:
            current.entities.append(entity)
    if current is not None:
        if current.abstract is None:
            raise CorpusFormatError(f"file ends inside document {current.document_id} (no abstract line): truncated?", Location(str(path)))
        if not last_line_ended:  # a file cut short mid-line: the last text or annotation is partial
            fail(options, log, Location(str(path), line_number, current.document_id),
                 "the file ends in the middle of this line (no line end): truncated? the document is not read")
            return
        yield current.close()
