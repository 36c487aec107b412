"""Record files: JSON Lines and Parquet inputs read as streams, and JSONL outputs that are appended
to, resumed after a crash and written atomically. Every error names the file and line (or Parquet
row) at fault. Used by `predict` and by the `synth` pipeline."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, Optional, Set, Tuple, Union

from .atomic_files import atomic_writer
from .errors import BadInputError

PathLike = Union[str, Path]
TypeSpec = Union[type, Tuple[type, ...]]


class InputError(BadInputError):
    """Bad input, with the file and line (or row) at fault in the message."""


@dataclass(frozen=True)
class TextRecord:
    id: str
    text: str
    where: str  # "file:line" (JSONL) or "file:row N" (Parquet), for messages
    fields: Optional[Dict[str, Any]] = None  # the whole input object, when asked for (keep_fields)


def text_id(text: str) -> str:
    """The id given to input records that have none: stable across runs, shards and workers."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def decode_utf8(data: bytes, name: str, first_line: int = 1) -> str:
    """``data`` (which starts at line ``first_line`` of ``name``) as text; bytes that are not
    UTF-8 are an error naming ``name`` and the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = first_line + data.count(b"\n", 0, error.start)
        raise InputError(f"{name}:{line}: not UTF-8 ({error.reason} at byte {error.start}); convert it, e.g. with iconv -t UTF-8") from error


def read_utf8_stdin() -> str:
    """All of standard input as UTF-8 text (not the locale's encoding, and never lone surrogates
    standing for undecodable bytes)."""
    if hasattr(sys.stdin, "buffer"):
        return decode_utf8(sys.stdin.buffer.read(), "<stdin>")
    return sys.stdin.read()  # a stream that is text already (an embedding program's)


def iter_json_lines(path: PathLike) -> Iterator[Tuple[str, int, Dict[str, Any]]]:
    """(``"file:line"``, byte offset of the line, object) for every non-blank line of a JSONL
    file: the one place where JSON lines are parsed and checked to be objects."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    offset = 0
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            where = f"{path}:{line_number}"
            try:
                value = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as error:
                raise InputError(f"{where}: not UTF-8 ({error.reason} at byte {error.start})") from error
            except json.JSONDecodeError as error:
                raise InputError(f"{where}: not valid JSON ({error.msg})") from error
            if not isinstance(value, dict):
                raise InputError(f"{where}: expected a JSON object, got {type(value).__name__}")
            yield where, start, value


def iter_json_objects(path: PathLike) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(``"file:line"``, object) for every non-blank line of a JSONL file."""
    for where, _, value in iter_json_lines(path):
        yield where, value


def _type_names(kinds: Tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in kinds)


def check_field(value: Any, where: str, key: str, expected: TypeSpec, hint: str = "") -> None:
    """``value`` (the record's ``key``) is present and of the ``expected`` type(s); booleans never
    pass for integers."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if value is None:
        raise InputError(f"{where}: field {key!r} is missing or null{hint}")
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise InputError(f"{where}: field {key!r} must be {_type_names(kinds)}, got {type(value).__name__}{hint}")


def iter_jsonl(path: PathLike, required: Optional[Dict[str, TypeSpec]] = None) -> Iterator[Dict[str, Any]]:
    """Objects of a JSONL file, each with the ``required`` keys of the given type(s)."""
    for where, record in iter_json_objects(path):
        for key, expected in (required or {}).items():
            check_field(record.get(key), where, key, expected)
        yield record


def _text_record(raw: Dict[str, Any], where: str, text_field: str, id_field: str, keep_fields: bool) -> TextRecord:
    text = raw.get(text_field)
    check_field(text, where, text_field, str, hint="; see --text-field")
    identifier = raw.get(id_field)
    if identifier is None:
        identifier = text_id(text)
    else:
        check_field(identifier, where, id_field, (str, int), hint="; see --id-field")
    return TextRecord(str(identifier), text, where, raw if keep_fields else None)


def read_text_records(path: PathLike, text_field: str = "text", id_field: str = "id", keep_fields: bool = False) -> Iterator[TextRecord]:
    """Stream the records of a JSONL (any name) or Parquet (``.parquet``) file, in file order.
    Records without ``id_field`` get :func:`text_id`. ``keep_fields`` also keeps every field (for
    Parquet: reads every column, not only the text and id)."""
    path = Path(path)
    if path.suffix != ".parquet":
        for where, raw in iter_json_objects(path):
            yield _text_record(raw, where, text_field, id_field, keep_fields)
        return
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    parquet = _open_parquet(path)
    names = parquet.schema_arrow.names
    if text_field not in names:
        raise InputError(f"{path}: no column {text_field!r} (columns: {names}); see --text-field")
    columns = None if keep_fields else [text_field] + ([id_field] if id_field in names else [])
    row = 0
    for batch in _parquet_batches(parquet, path, columns):
        for raw in batch.to_pylist():
            yield _text_record(raw, f"{path}:row {row}", text_field, id_field, keep_fields)
            row += 1


def _open_parquet(path: Path):
    import pyarrow
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except pyarrow.ArrowException as error:
        raise InputError(f"{path}: not a readable Parquet file ({error})") from error


def _parquet_batches(parquet, path: Path, columns) -> Iterator[Any]:
    import pyarrow

    batches = parquet.iter_batches(columns=columns, batch_size=4096)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except pyarrow.ArrowException as error:  # a damaged row group, found when read
            raise InputError(f"{path}: not a readable Parquet file ({error})") from error
        yield batch


def unique_ids(records: Iterable[TextRecord]) -> Iterator[TextRecord]:
    """``records``, with an error at the first id used twice. Sharded readers apply it to their
    own shard only: a repeated id always hashes to the same shard, so that is enough."""
    seen: Set[str] = set()
    for record in records:
        if record.id in seen:
            raise InputError(f"{record.where}: id {record.id!r} is used by an earlier record too; ids must be unique")
        seen.add(record.id)
        yield record


def iter_texts(path: PathLike, text_field: str = "text", id_field: str = "id", keep_fields: bool = False) -> Iterator[TextRecord]:
    """:func:`read_text_records` with unique ids."""
    return unique_ids(read_text_records(path, text_field, id_field, keep_fields))


def count_input_records(path: PathLike) -> Optional[int]:
    """How many records an input holds, cheaply (for progress bars): Parquet metadata, or the
    newlines of a JSONL file (blank lines included). None if the file is missing."""
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix == ".parquet":
        return _open_parquet(path).metadata.num_rows
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def recover_appended_output(path: PathLike, id_field: str = "id") -> Set[str]:
    """Ids (as strings) already in an output that is appended to record by record (streamed, so
    outputs of any size). A crash can leave only a half-written last line: it is cut off (its
    record is redone). Any other bad line is an error."""
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
                    ids.add(str(json.loads(line)[id_field]))
                except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
                    if line.endswith(b"\n"):
                        raise InputError(f"{path}:{line_number}: not a JSON record with an {id_field!r}; cannot resume from this file") from None
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


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def read_json_file(path: PathLike) -> Any:
    """The value of a strict JSON file (no NaN / Infinity); an error names the file and line."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from error
    except ValueError as error:
        raise InputError(f"{path}: not valid JSON ({error})") from error


def write_json_atomic(path: PathLike, value: Any) -> None:
    """Strict JSON (NaN or infinities are refused before anything is written)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"
    with atomic_writer(path) as handle:
        handle.write(text)
