"""Splitting a large input across workers and merging their outputs without duplicates.

A record belongs to shard ``int(sha256(id)[:16], 16) % num_shards``: independent of file order,
so every worker can stream the same input and keep its own records, and a record lands in the
same shard on every run (resume works per shard). ``accelerate launch`` / ``torchrun`` workers
take their shard from ``RANK`` and ``WORLD_SIZE``. Used by `predict` and `synth annotate`."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .atomic_files import atomic_writer
from .io_records import InputError, iter_json_lines

_SHARD_NAME = re.compile(r"\.shard-(\d{5})-of-(\d{5})(\.[^.]*)?$")
IN_PROGRESS_SUFFIX = ".partial"


def shard_of(record_id: str, num_shards: int) -> int:
    return int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:16], 16) % num_shards


def resolve_shard(num_shards: Optional[int], shard_index: Optional[Union[int, str]]) -> Tuple[int, int]:
    """(num_shards, shard_index). ``"auto"``, or no shard index under a launcher (``WORLD_SIZE``
    set), reads RANK/WORLD_SIZE; otherwise the defaults are one shard, index 0."""
    if shard_index == "auto" or (shard_index is None and "WORLD_SIZE" in os.environ):
        try:
            world_size, rank = int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
        except (KeyError, ValueError) as error:
            raise InputError("--shard-index auto needs the RANK and WORLD_SIZE environment variables (set by accelerate launch / torchrun)") from error
        if num_shards is not None and int(num_shards) != world_size:
            # every worker would otherwise pick a shard of a different split: records lost or doubled
            raise InputError(f"--num-shards {num_shards} differs from WORLD_SIZE {world_size} of the launcher; drop --num-shards or pass --shard-index too")
        num_shards, shard_index = world_size, rank
    num_shards = 1 if num_shards is None else int(num_shards)
    shard_index = 0 if shard_index is None else int(shard_index)
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise InputError(f"--shard-index {shard_index} is not in [0, --num-shards {num_shards})")
    return num_shards, shard_index


def default_worker_device() -> str:
    """``cuda:LOCAL_RANK`` when CUDA is available (one GPU per accelerate/torchrun worker; more
    workers than GPUs share them round-robin), else ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0)) % torch.cuda.device_count()}"
    return "cpu"


def shard_path(path: Union[str, Path], num_shards: int, shard_index: int) -> Path:
    """``ann.jsonl`` -> ``ann.shard-00002-of-00008.jsonl`` (unchanged for a single shard)."""
    path = Path(path)
    if num_shards == 1:
        return path
    return path.with_name(f"{path.stem}.shard-{shard_index:05d}-of-{num_shards:05d}{path.suffix}")


def in_progress_path(path: Union[str, Path]) -> Path:
    """Where a worker appends its output until it has finished: ``OUT.jsonl.partial``. The
    finished file is renamed onto ``OUT.jsonl``, so a shard file exists only once complete."""
    path = Path(path)
    return path.with_name(path.name + IN_PROGRESS_SUFFIX)


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
        example, _ = sharded[0]
        unfinished = [index for index in missing if in_progress_path(_rename_shard(example, index)).exists()]
        hint = f"; shards {unfinished} are still in progress ({IN_PROGRESS_SUFFIX} files): rerun those workers to finish them" if unfinished else ""
        raise InputError(f"shards {missing} of {total} are missing from the merge inputs{hint} (pass --allow-missing-shards to merge anyway)")


def _rename_shard(path: Path, index: int) -> Path:
    match = _SHARD_NAME.search(path.name)
    return path.with_name(path.name[: match.start(1)] + f"{index:05d}" + path.name[match.end(1) :])


def merge_outputs(
    inputs: Iterable[Union[str, Path]],
    out: Union[str, Path],
    check_shards: bool = True,
    id_field: str = "id",
    text_field: str = "text",
    expected_ids: Optional[Iterable[Tuple[str, str]]] = None,
) -> Counter:
    """Merge JSONL record files into ``out`` (atomically), keeping the first record of each id;
    lines are copied byte for byte. The same id with a different text is an error (two different
    inputs were mixed).

    Without ``expected_ids`` the records keep file order. With ``expected_ids`` ((id, where) of
    the original input, in its order) they follow that order, and an input id missing from the
    merged files, or a merged id not in the input, is an error: nothing lost, nothing foreign."""
    paths = [Path(path) for path in inputs]
    if check_shards:
        check_complete_shard_set(paths)
    counts: Counter = Counter()
    # id -> (file index, byte offset of its line, sha of its text): ids only, not records, in memory
    located: Dict[str, Tuple[int, int, str]] = {}
    for file_index, path in enumerate(paths):
        for where, offset, record in iter_json_lines(path):
            identifier = record.get(id_field)
            if identifier is None or isinstance(identifier, bool) or not isinstance(identifier, (str, int)):
                raise InputError(f"{where}: field {id_field!r} is missing or not a string/integer")
            identifier = str(identifier)
            text_hash = hashlib.sha256(str(record.get(text_field)).encode("utf-8")).hexdigest()
            previous = located.get(identifier)
            if previous is not None:
                if previous[2] != text_hash:
                    raise InputError(f"{where}: id {identifier!r} has a different text than in {paths[previous[0]]}")
                counts["duplicates_dropped"] += 1
                continue
            located[identifier] = (file_index, offset, text_hash)
    if expected_ids is None:
        order: Iterable[str] = list(located)
    else:
        order = _input_order(expected_ids, located)
        counts["input_records"] = len(order)
    handles = [path.open("rb") for path in paths]
    try:
        with atomic_writer(out, "wb") as merged:
            for identifier in order:
                file_index, offset, _ = located[identifier]
                handle = handles[file_index]
                handle.seek(offset)
                line = handle.readline()
                merged.write(line if line.endswith(b"\n") else line + b"\n")
                counts["records"] += 1
    finally:
        for handle in handles:
            handle.close()
    counts["files"] = len(paths)
    return counts


def _input_order(expected_ids: Iterable[Tuple[str, str]], located: Dict[str, Tuple[int, int, str]]) -> List[str]:
    order: List[str] = []
    missing: List[str] = []
    for identifier, where in expected_ids:
        if identifier in located:
            order.append(identifier)
        else:
            missing.append(f"{identifier!r} ({where})")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(f"{len(missing)} input records are in no merged file: {shown}")
    if len(order) != len(located):
        foreign = sorted(set(located) - set(order))
        raise InputError(f"{len(foreign)} merged records are not in the input (another input's outputs?): {foreign[:5]}")
    return order


def list_shard_files(pattern_path: Union[str, Path]) -> List[Path]:
    """All finished ``stem.shard-*-of-*.suffix`` files beside ``pattern_path`` (``ann.jsonl``)."""
    path = Path(pattern_path)
    return sorted(path.parent.glob(f"{path.stem}.shard-*-of-*{path.suffix}"))
