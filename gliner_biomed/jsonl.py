"""JSON Lines input and output with errors that name the file and line, and atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple


class InputError(ValueError):
    """Bad input, with the file and line at fault in the message."""


def read_jsonl(path: Path, required: Dict[str, Tuple[type, ...]]) -> List[Dict[str, Any]]:
    """All records of a JSONL file; every record must be an object with the ``required`` keys
    of the given types. Blank lines are skipped."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{line_number}: not valid JSON ({error.msg})") from error
            if not isinstance(record, dict):
                raise InputError(f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}")
            for key, expected in required.items():
                if key not in record:
                    raise InputError(f"{path}:{line_number}: missing key {key!r}")
                if not isinstance(record[key], expected) or isinstance(record[key], bool):
                    allowed = " or ".join(kind.__name__ for kind in expected)
                    raise InputError(
                        f"{path}:{line_number}: {key!r} must be {allowed}, got {type(record[key]).__name__}"
                    )
            records.append(record)
    return records


@contextmanager
def atomic_writer(path: Path) -> Iterator[Any]:
    """A text handle on a temporary file beside ``path``, renamed to ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
