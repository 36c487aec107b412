"""GLiNER JSON: a list (``.json``) or one object per line (``.jsonl``) of
``{"tokenized_text": [words...], "ner": [[start_word, end_word_inclusive, label], ...]}``, the
format of GLiNER training sets such as Pile-NER. Reading joins the words with single spaces to
make the text; writing takes the GLiNER view of examples in the one schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator, List, Mapping, Optional, Union

from ...atomic_files import atomic_writer

from ..records import CorpusFormatError, Location, SourceDocument, SourceEntity, read_utf8, text_lines
from ..report import IssueLog
from .options import ReadOptions, fail


def _records(path: Path) -> Iterator[tuple]:
    """(location, record) pairs; JSON lists are located by index, JSONL by line."""
    if path.suffix == ".jsonl":
        for line_number, line in text_lines(path):
            if not line.strip():
                continue
            where = Location(str(path), line_number)
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as error:
                raise CorpusFormatError(f"invalid JSON ({error.msg}, column {error.colno}): truncated line?", where) from error
        return
    try:
        data = json.loads(read_utf8(path))
    except json.JSONDecodeError as error:
        raise CorpusFormatError(f"invalid JSON ({error.msg}, column {error.colno}): truncated file?", Location(str(path), error.lineno)) from error
    if not isinstance(data, list):
        raise CorpusFormatError("want a JSON list of {tokenized_text, ner} objects", Location(str(path)))
    for index, record in enumerate(data):
        yield Location(str(path), None, f"record {index}"), record


def read_gliner_json(
    path: Union[str, Path],
    options: ReadOptions = ReadOptions(),
    log: Optional[IssueLog] = None,
    document_prefix: str = "",
) -> Iterator[SourceDocument]:
    """Yield one document per record; ids are the record's ``id`` if present, else ``{prefix}{n:06d}``."""
    log = log if log is not None else IssueLog()
    path = Path(path)
    for index, (where, record) in enumerate(_records(path)):
        words = record.get("tokenized_text") if isinstance(record, dict) else None
        spans = record.get("ner") if isinstance(record, dict) else None
        if not isinstance(words, list) or not isinstance(spans, list) or not all(isinstance(w, str) and w for w in words):
            fail(options, log, where, "want {'tokenized_text': [non-empty strings], 'ner': [[start, end, label], ...]}")
            continue
        offsets, cursor = [], 0
        for word in words:
            offsets.append((cursor, cursor + len(word)))
            cursor += len(word) + 1
        text = " ".join(words)
        entities: List[SourceEntity] = []
        for span in spans:
            valid = (
                isinstance(span, list) and len(span) == 3
                and isinstance(span[0], int) and isinstance(span[1], int) and isinstance(span[2], str)
                and 0 <= span[0] <= span[1] < len(words) and span[2]
            )
            if not valid:
                fail(options, log, where, f"bad ner span {span!r} for {len(words)} words (want [start, end_inclusive, label])")
                continue
            start, end = offsets[span[0]][0], offsets[span[1]][1]
            entities.append(SourceEntity(start, end, span[2], text[start:end], None, where))
        document_id = str(record.get("id", f"{document_prefix}{index:06d}"))
        yield SourceDocument(document_id, text, tuple(entities), where)


def write_gliner_json(examples: Iterable[Mapping], path: Union[str, Path]) -> int:
    """Write the GLiNER view (``tokenized_text`` + ``ner``) of examples as a JSON list; returns the count.

    The file is written under a temporary name and renamed, so a reader never sees half a file.
    """
    path = Path(path)
    records = [{"tokenized_text": list(example["tokenized_text"]), "ner": [list(span) for span in example["ner"]]} for example in examples]
    with atomic_writer(path) as handle:
        json.dump(records, handle, ensure_ascii=False)
    return len(records)
