"""Reading inputs (JSONL or Parquet, streamed) and JSONL outputs that are appended to, resumed
and written atomically. Errors name the file and line (or Parquet row)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Set, Union

from ..atomic_files import atomic_writer


class InputError(ValueError):
    """Bad input, with the file and line (or row) at fault in the message."""


@dataclass(frozen=True)
class TextRecord:
    id: str
    text: str
    where: str  # "file:line" (JSONL) or "file:row N" (Parquet), for messages


def text_id(text: str) -> str:
    """The id given to input records that have none: stable across runs, shards and workers."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _record(raw: Any, where: str, text_field: str, id_field: str) -> TextRecord:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    text = raw.get(text_field)
    if not isinstance(text, str):
        raise InputError(f"{where}: field {text_field!r} must be a string (got {type(text).__name__}); see --text-field")
    identifier = raw.get(id_field)
    if identifier is None:
        identifier = text_id(text)
    elif not isinstance(identifier, (str, int)) or isinstance(identifier, bool):
        raise InputError(f"{where}: field {id_field!r} must be a string or an integer")
    return TextRecord(str(identifier), text, where)


def iter_texts(path: Union[str, Path], text_field: str = "text", id_field: str = "id") -> Iterator[TextRecord]:
    """Stream the records of a JSONL (``.jsonl``, ``.json``) or Parquet (``.parquet``) file.
    Records without ``id_field`` get :func:`text_id`; a repeated id is an error."""
    path = Path(path)
    seen: Set[str] = set()
    for record in _iter_raw(path, text_field, id_field):
        if record.id in seen:
            raise InputError(f"{record.where}: id {record.id!r} is used by an earlier record too; ids must be unique")
        seen.add(record.id)
        yield record


def _iter_raw(path: Path, text_field: str, id_field: str) -> Iterator[TextRecord]:
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        if text_field not in names:
            raise InputError(f"{path}: no column {text_field!r} (columns: {names}); see --text-field")
        columns = [text_field] + ([id_field] if id_field in names else [])
        row = 0
        for batch in parquet.iter_batches(columns=columns, batch_size=4096):
            for raw in batch.to_pylist():
                yield _record(raw, f"{path}:row {row}", text_field, id_field)
                row += 1
        return
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{where}: not valid JSON ({error.msg})") from error
            yield _record(raw, where, text_field, id_field)


def iter_jsonl(path: Union[str, Path], required: Optional[Dict[str, type]] = None) -> Iterator[Dict[str, Any]]:
    """Objects of a JSONL file, with the ``required`` keys of the given types."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{line_number}: not valid JSON ({error.msg})") from error
            if not isinstance(record, dict):
                raise InputError(f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}")
            for key, expected in (required or {}).items():
                if not isinstance(record.get(key), expected):
                    raise InputError(f"{path}:{line_number}: key {key!r} missing or not {expected.__name__}")
            yield record


def recover_appended_output(path: Union[str, Path]) -> Set[str]:
    """Ids already in an output that is appended to record by record (streamed, so outputs of
    any size). A crash can leave only a half-written last line: it is cut off (its record is
    redone). Any other bad line is an error."""
    path = Path(path)
    if not path.exists():
        return set()
    ids: Set[str] = set()
    good_end = 0  # byte offset just after the last good line
    newline_missing = False
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    ids.add(str(json.loads(line)["id"]))
                except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
                    if line.endswith(b"\n"):
                        raise InputError(f"{path}:{line_number}: not a JSON record with an 'id'; cannot resume from this file") from None
                    break  # the last line, cut short by the crash
            good_end += len(line)
            newline_missing = not line.endswith(b"\n")
    if good_end < path.stat().st_size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
    elif newline_missing:  # a complete last record whose newline was not written
        with path.open("ab") as handle:
            handle.write(b"\n")
    return ids


def write_json_atomic(path: Union[str, Path], value: Any) -> None:
    with atomic_writer(path) as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False, sort_keys=True)
        handle.write("\n")
