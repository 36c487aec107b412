"""CoNLL-style token files: one ``token<TAB>tag`` per line (tag in the last column), a blank line
between sentences, IOB (IOB1/IOB2) or IOBES/BILOU tags.

Tokens are joined with single spaces to make the text, so entity character offsets are exact
over that text. Tag sequences are decoded with conlleval's chunk rules: an I-/E- tag that does
not continue an open chunk of its type starts a new chunk, and each such start is logged as
``broken_tag_sequence``. Without ``-DOCSTART-`` lines every sentence is its own document; with
them, a document is the sentences between two markers joined by newlines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from ..records import Location, SourceDocument, SourceEntity, text_lines
from ..report import IssueLog
from .options import ReadOptions, fail

_TAG = re.compile(r"^(?:O|([BIESLU])-(.+))$")
# BILOU spelled as IOBES.
_PREFIX_ALIASES = {"L": "E", "U": "S"}


@dataclass
class _Token:
    text: str
    prefix: str  # "O", "B", "I", "E", "S"
    type: str
    line: int


def _chunk_starts(prev: _Token, token: _Token) -> bool:
    """conlleval's startOfChunk."""
    if token.prefix in ("B", "S"):
        return True
    if token.prefix in ("I", "E"):
        if prev.prefix in ("E", "S", "O"):
            return True
        return prev.type != token.type
    return False


def _chunk_ends(prev: _Token, token: _Token) -> bool:
    """conlleval's endOfChunk (token may be the sentence-final sentinel "O")."""
    if prev.prefix in ("E", "S"):
        return True
    if prev.prefix in ("B", "I"):
        return token.prefix in ("B", "S", "O") or prev.type != token.type
    return False


_OUTSIDE = _Token("", "O", "", 0)


def _decode_sentence(
    tokens: List[_Token], path: Path, log: IssueLog
) -> Tuple[str, List[Tuple[int, int, str, int]]]:
    """Text of the sentence and its chunks as (start_char, end_char, type, first_line)."""
    offsets: List[Tuple[int, int]] = []
    cursor = 0
    for token in tokens:
        offsets.append((cursor, cursor + len(token.text)))
        cursor += len(token.text) + 1
    text = " ".join(token.text for token in tokens)
    chunks: List[Tuple[int, int, str, int]] = []
    open_chunk: Optional[List] = None
    prev = _OUTSIDE
    for index, token in enumerate(tokens + [_OUTSIDE]):
        if open_chunk is not None and _chunk_ends(prev, token):
            chunks.append((open_chunk[0], offsets[index - 1][1], open_chunk[1], open_chunk[2]))
            open_chunk = None
        if index < len(tokens) and _chunk_starts(prev, token):
            if token.prefix in ("I", "E"):
                log.add(
                    "broken_tag_sequence",
                    Location(str(path), token.line),
                    f"{token.prefix}-{token.type} after {prev.prefix + '-' + prev.type if prev.prefix != 'O' else 'O'}",
                )
            open_chunk = [offsets[index][0], token.type, token.line]
        prev = token
    return text, chunks


def read_conll(
    path: Union[str, Path],
    options: ReadOptions = ReadOptions(),
    log: Optional[IssueLog] = None,
    document_prefix: str = "",
) -> Iterator[SourceDocument]:
    """Yield documents (see module docstring) with ids ``{document_prefix}{n:05d}`` in file order."""
    log = log if log is not None else IssueLog()
    path = Path(path)
    sentences: List[Tuple[str, List[Tuple[int, int, str, int]], int]] = []
    document_count = 0
    has_doc_markers = False

    def make_document(parts: List[Tuple[str, List[Tuple[int, int, str, int]], int]]) -> SourceDocument:
        nonlocal document_count
        document_id = f"{document_prefix}{document_count:05d}"
        document_count += 1
        pieces, entities, spans = [], [], []
        cursor = 0
        for text, chunks, first_line in parts:
            spans.append((cursor, cursor + len(text)))
            for start, end, entity_type, line in chunks:
                entities.append(
                    SourceEntity(cursor + start, cursor + end, entity_type, text[start:end], None, Location(str(path), line))
                )
            pieces.append(text)
            cursor += len(text) + 1
        where = Location(str(path), parts[0][2], document_id)
        return SourceDocument(document_id, "\n".join(pieces), tuple(entities), where, tuple(spans))

    tokens: List[_Token] = []

    def close_sentence() -> None:
        nonlocal tokens
        if tokens:
            text, chunks = _decode_sentence(tokens, path, log)
            sentences.append((text, chunks, tokens[0].line))
            tokens = []

    for line_number, raw_line in text_lines(path):
        line = raw_line.rstrip("\r\n")
        if not line.strip():
            close_sentence()
            if not has_doc_markers:
                for sentence in sentences:
                    yield make_document([sentence])
                sentences = []
            continue
        if line.startswith("-DOCSTART-"):
            close_sentence()
            if sentences:
                yield make_document(sentences)
                sentences = []
            has_doc_markers = True
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        where = Location(str(path), line_number)
        if len(columns) < 2 or not columns[0].strip():
            fail(options, log, where, f"want 'token<TAB>tag', got {line[:80]!r}")
            continue
        token_text, tag = columns[0].strip(), columns[-1].strip()
        if any(character.isspace() for character in token_text):
            fail(options, log, where, f"token contains whitespace: {token_text!r}")
            continue
        match = _TAG.match(tag)
        if not match:
            fail(options, log, where, f"tag {tag!r} is not O or [BIESLU]-TYPE")
            continue
        prefix = match.group(1) or "O"
        tokens.append(_Token(token_text, _PREFIX_ALIASES.get(prefix, prefix), match.group(2) or "", line_number))
    close_sentence()
    if sentences:
        if has_doc_markers:
            yield make_document(sentences)
        else:
            for sentence in sentences:
                yield make_document([sentence])
