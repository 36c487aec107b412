"""JSON Lines input with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple


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
