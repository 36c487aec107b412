"""Source-level records every reader produces, before label mapping and word splitting.

Readers turn a file format into :class:`SourceDocument` objects whose entities carry the
corpus's own type names and exact character offsets into the document text; everything after
that (label maps, sentence splitting, the GLiNER word view) is format-independent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

from ..errors import BadInputError
from ..io_records import decode_utf8


class CorpusFormatError(BadInputError):
    """Bad input: always names the file and line (or document) it comes from."""

    def __init__(self, message: str, where: "Location"):
        self.where = where
        super().__init__(f"{where}: {message}")


def text_lines(path: Union[str, Path]) -> Iterator[Tuple[int, str]]:
    """(1-based number, line with its ending) of a UTF-8 corpus file; a byte that is not UTF-8
    (a Latin-1 file, say) is an error naming the file and line. Lines end at "\n" only."""
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, decode_utf8(raw, str(path), number)


def read_utf8(path: Union[str, Path]) -> str:
    """A whole UTF-8 file, every character kept ("\r\n" stays two); errors name file and line."""
    return decode_utf8(Path(path).read_bytes(), str(path))


@dataclass(frozen=True)
class Location:
    """Where a record comes from: file plus 1-based line, or a document id for formats without lines."""

    path: str
    line: Optional[int] = None
    document_id: Optional[str] = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.document_id is not None:
            parts.append(f"document {self.document_id}")
        return ", ".join(parts)


@dataclass(frozen=True)
class SourceEntity:
    """One mention: ``text[start:end] == mention`` (end exclusive), ``type`` as the corpus names it.

    ``fragments`` is set only for discontinuous mentions (brat ``0 5;10 15``, BioC with several
    locations); ``start``/``end``/``mention`` then cover the whole extent from the first fragment's
    start to the last fragment's end, so the offset invariant still holds.
    """

    start: int
    end: int
    type: str
    mention: str
    fragments: Optional[Tuple[Tuple[int, int], ...]] = None
    where: Optional[Location] = field(default=None, compare=False)


@dataclass(frozen=True)
class SourceDocument:
    document_id: str
    text: str
    entities: Tuple[SourceEntity, ...]
    where: Optional[Location] = field(default=None, compare=False)
    # Sentence extents (start, end) when the source marks them (CoNLL files); otherwise
    # sentence-level examples come from the rule-based splitter run inside each passage.
    sentences: Optional[Tuple[Tuple[int, int], ...]] = None
    # Passage extents (title, abstract, BioC passages): sentence splitting never crosses them.
    passages: Optional[Tuple[Tuple[int, int], ...]] = None
