"""The names that mark an adapter package (see packaging), kept apart from packaging so that
code which only asks "is this an adapter package?" (publishing, the model card) does not import
torch and the modeling code."""

from __future__ import annotations

import json
from pathlib import Path

PACKAGE_FILE = "gliner_biomed_adapter.json"
HEADS_FILE = "heads.safetensors"
ADAPTER_FOLDER = "encoder_adapter"
PACKAGE_FORMAT = 1


def is_adapter_package(path) -> bool:
    return (Path(path) / PACKAGE_FILE).is_file()


def read_package(path) -> dict:
    """The adapter package description of the package folder ``path`` (its PACKAGE_FILE); a
    format this version does not read is refused with the file named."""
    file = Path(path) / PACKAGE_FILE
    package = json.loads(file.read_text(encoding="utf-8"))
    if package.get("format") != PACKAGE_FORMAT:
        raise ValueError(f"{file}: unsupported package format {package.get('format')!r}")
    return package
