"""Span JSONL, the one-schema format (and the synthetic-data pipeline's output): one object per line
``{"id", "text", "entities": [{"start", "end", "label", "mention"}], "tokenized_text", "ner"}``.

``entities`` (character offsets) are authoritative; ``tokenized_text``/``ner``, when present, are
compared with the view recomputed from ``entities`` and a difference is logged as
``ner_disagrees_with_entities`` (the builders always emit the recomputed view).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, List, Optional, Union

from ..records import Location, SourceDocument, SourceEntity, text_lines
from ..report import IssueLog
from ..word_view import word_view
from .options import ReadOptions, checked_entity, fail


def read_span_jsonl(
    path: Union[str, Path], options: ReadOptions = ReadOptions(), log: Optional[IssueLog] = None
) -> Iterator[SourceDocument]:
    log = log if log is not None else IssueLog()
    path = Path(path)
    for line_number, line in text_lines(path):
        if not line.strip():
            continue
        where = Location(str(path), line_number)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            fail(options, log, where, f"invalid JSON ({error.msg}, column {error.colno}): truncated line?")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not isinstance(record.get("entities"), list):
            fail(options, log, where, "want an object with 'text' (string) and 'entities' (list)")
            continue
        document_id = str(record.get("document_id") or record.get("id") or f"{path.stem}-{line_number}")
        where = Location(str(path), line_number, document_id)
        text = record["text"]
        entities: List[SourceEntity] = []
        for entity in record["entities"]:
            keys_ok = isinstance(entity, dict) and all(key in entity for key in ("start", "end", "label", "mention"))
            if not keys_ok or not isinstance(entity["start"], int) or not isinstance(entity["end"], int):
                fail(options, log, where, f"entity {entity!r} lacks integer start/end, label or mention")
                continue
            checked = checked_entity(
                text, entity["start"], entity["end"], str(entity["label"]), str(entity["mention"]), where, options, log
            )
            if checked is not None:
                entities.append(checked)
        if "tokenized_text" in record or "ner" in record:
            words, ner, _ = word_view(text, [(e.start, e.end, e.type) for e in entities])
            supplied_ner = sorted({tuple(span) for span in record.get("ner") or []})
            if record.get("tokenized_text") != words or supplied_ner != [tuple(span) for span in ner]:
                log.add("ner_disagrees_with_entities", where, "supplied tokenized_text/ner replaced by the view recomputed from entities")
        yield SourceDocument(document_id, text, tuple(entities), where)
