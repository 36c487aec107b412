"""Hub-ready dataset repositories: Parquet shards per split, card, label map and validation report.
Uploading one is gliner_biomed.publishing's job (`datasets push` and `publish --dataset`)."""

from __future__ import annotations

import copy
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import yaml

from ..atomic_files import atomic_folder
from .builder import BiomedNERBuilder
from .card import render_card
from .pipeline import BuildOptions

DEFAULT_MAX_SHARD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class ExportConfig:
    levels: Sequence[str] = ("document",)  # the first is the default config
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES
    overwrite: bool = False


def export_dataset_repo(
    name: str,
    out_dir: Union[str, Path],
    options: BuildOptions = BuildOptions(),
    export: ExportConfig = ExportConfig(),
    label_map_override: Optional[Mapping[str, Optional[str]]] = None,
) -> Path:
    """Write a folder that ``datasets.load_dataset(out_dir)`` loads with no remote code.

    The folder is assembled under a temporary sibling name and renamed at the end (atomic_folder),
    so an interrupted build never leaves a half-written repo behind (rerunning starts clean).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not export.overwrite:
        raise FileExistsError(f"{out_dir} exists; pass --overwrite to replace it")
    if not export.levels:
        raise ValueError("at least one level is needed")
    with atomic_folder(out_dir, overwrite=export.overwrite) as staging:
        builds, data_files, infos = {}, {}, {}
        for level in export.levels:
            level_options = BuildOptions(**{**options.__dict__, "level": level})
            builder = BiomedNERBuilder(
                config_name=name,
                cache_dir=str(staging / ".cache"),
                label_map_override=dict(label_map_override) if label_map_override else None,
                **{key: value for key, value in level_options.__dict__.items()},
            )
            builder.download_and_prepare()
            dataset = builder.as_dataset()
            data_files[level] = {}
            for split, split_dataset in dataset.items():
                shards = max(1, math.ceil(split_dataset.data.nbytes / export.max_shard_bytes))
                folder = staging / "data" / level
                folder.mkdir(parents=True, exist_ok=True)
                for index in range(shards):
                    shard = split_dataset.shard(shards, index, contiguous=True)
                    shard.to_parquet(str(folder / f"{split}-{index:05d}-of-{shards:05d}.parquet"))
                data_files[level][split] = f"data/{level}/{split}-*.parquet"
            builds[level] = builder.corpus_build
            # The card's dataset_info: features, splits (examples, Arrow bytes), and the Parquet bytes one downloads.
            infos[level] = copy.deepcopy(builder.info)
            infos[level].download_size = sum(path.stat().st_size for path in (staging / "data" / level).glob("*.parquet"))
        shutil.rmtree(staging / ".cache")
        default = builds[export.levels[0]]
        (staging / "label_map.yaml").write_text(
            yaml.safe_dump(default.label_map, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        report = {level: build.report(portable=True) for level, build in builds.items()}
        (staging / "validation_report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
        render_card(builds, data_files, export.levels[0], infos).save(staging / "README.md")
    return out_dir
