"""Splitting a large input across workers and merging their outputs without duplicates.

A record belongs to shard ``int(sha256(id)[:16], 16) % num_shards``: independent of file order,
so every worker can stream the same input and keep its own records, and a record lands in the
same shard on every run (resume works per shard). ``accelerate launch`` / ``torchrun`` workers
take their shard from ``RANK`` and ``WORLD_SIZE``."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .records import InputError, atomic_writer, iter_jsonl

_SHARD_NAME = re.compile(r"\.shard-(\d{5})-of-(\d{5})(\.[^.]*)?$")


def shard_of(record_id: str, num_shards: int) -> int:
    return int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:16], 16) % num_shards


def resolve_shard(num_shards: Optional[int], shard_index: Optional[Union[int, str]]) -> Tuple[int, int]:
    """(num_shards, shard_index); ``"auto"`` (or both None under a launcher) reads RANK/WORLD_SIZE."""
    if shard_index == "auto" or (shard_index is None and num_shards is None and "WORLD_SIZE" in os.environ):
        try:
            return int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
        except (KeyError, ValueError) as error:
            raise InputError("--shard-index auto needs the RANK and WORLD_SIZE environment variables (set by accelerate launch / torchrun)") from error
    num_shards = 1 if num_shards is None else int(num_shards)
    shard_index = 0 if shard_index is None else int(shard_index)
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise InputError(f"--shard-index {shard_index} is not in [0, --num-shards {num_shards})")
    return num_shards, shard_index


def shard_path(path: Union[str, Path], num_shards: int, shard_index: int) -> Path:
    """``ann.jsonl`` -> ``ann.shard-00002-of-00008.jsonl`` (unchanged for a single shard)."""
    path = Path(path)
    if num_shards == 1:
        return path
    return path.with_name(f"{path.stem}.shard-{shard_index:05d}-of-{num_shards:05d}{path.suffix}")


def check_complete_shard_set(paths: Sequence[Path]) -> None:
    """Shard-named inputs must be one complete set (all of 0..N-1, same N): a missing shard would
    silently lose records."""
    named = [(path, _SHARD_NAME.search(path.name)) for path in paths]
    sharded = [(path, match) for path, match in named if match]
    if not sharded:
        return
    totals = {int(match.group(2)) for _, match in sharded}
    if len(totals) != 1:
        raise InputError(f"shard files from different shardings (of {sorted(totals)}): {[str(p) for p, _ in sharded]}")
    total = totals.pop()
    present = {int(match.group(1)) for _, match in sharded}
    missing = sorted(set(range(total)) - present)
    if missing:
        raise InputError(f"shards {missing} of {total} are missing from the merge inputs (pass --allow-missing-shards to merge anyway)")


def merge_outputs(inputs: Iterable[Union[str, Path]], out: Union[str, Path], check_shards: bool = True) -> Counter:
    """Concatenate JSONL record files into ``out`` (atomically), keeping the first record of each
    id. The same id with a different text is an error (two different inputs were mixed)."""
    paths = [Path(path) for path in inputs]
    if check_shards:
        check_complete_shard_set(paths)
    counts: Counter = Counter()
    first_seen: Dict[str, Tuple[str, str]] = {}  # id -> (where, sha of text)
    with atomic_writer(out) as handle:
        for path in paths:
            for record in iter_jsonl(path, {"id": str}):
                text_hash = hashlib.sha256(str(record.get("text")).encode("utf-8")).hexdigest()
                previous = first_seen.get(record["id"])
                if previous is not None:
                    if previous[1] != text_hash:
                        raise InputError(f"{path}: id {record['id']!r} has a different text than in {previous[0]}")
                    counts["duplicates_dropped"] += 1
                    continue
                first_seen[record["id"]] = (str(path), text_hash)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                counts["records"] += 1
    counts["files"] = len(paths)
    return counts


def list_shard_files(pattern_path: Union[str, Path]) -> List[Path]:
    """All ``stem.shard-*-of-*.suffix`` files beside ``pattern_path`` (``ann.jsonl``)."""
    path = Path(pattern_path)
    return sorted(path.parent.glob(f"{path.stem}.shard-*-of-*{path.suffix}"))
