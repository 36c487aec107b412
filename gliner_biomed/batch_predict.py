"""Entities for every document of a large JSONL or Parquet input: streamed, predicted in chunks,
split across workers by shard, resumable, and merged without duplicates.

Each worker streams the whole input and keeps the records of its shard (``sharding.shard_of``),
handing the model ``chunk_size`` documents at a time: the model sorts a call's documents by length,
so a chunk of a few hundred gives batches that pad little while memory stays bounded. Output lines
are appended to ``OUT.shard-I-of-N.jsonl.partial`` and flushed after every chunk; the file is
renamed to ``OUT.shard-I-of-N.jsonl`` when the worker has finished, so a finished shard file is a
complete one. Re-running the same command resumes: ids already written are skipped, a line cut
short by a crash is dropped and predicted again. The settings that decide the entities (model,
labels, threshold, decoding, fields, sharding, input) are kept beside each shard
(``.settings.json``): a resume or a merge with other settings is refused rather than mixed."""

from __future__ import annotations

import datetime
import decimal
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from tqdm.auto import tqdm

from .io_records import (
    InputError,
    TextRecord,
    count_input_records,
    iter_texts,
    read_json_file,
    read_text_records,
    recover_appended_output,
    unique_ids,
    write_json_atomic,
)
from .options import check_threshold, setting_differences
from .output_lock import exclusive_output
from .sharding import IN_PROGRESS_SUFFIX, in_progress_path, list_shard_files, merge_outputs, shard_of, shard_path

SETTINGS_SUFFIX = ".settings.json"


@dataclass(frozen=True)
class PredictFileConfig:
    input: Path  # JSONL (one object per document) or Parquet
    output: Path  # the merged output's name; this worker writes shard_path(output, num_shards, shard_index)
    labels: Tuple[str, ...]
    model: str  # model folder or repo id, recorded in the settings (a resume must not mix models)
    threshold: float = 0.5
    flat_ner: bool = True
    multi_label: bool = False
    text_field: str = "text"
    id_field: str = "id"  # records without it get io_records.text_id(text), written into the output
    output_field: str = "entities"
    batch_size: int = 8  # windows per forward pass
    chunk_size: int = 256  # documents per model call (sorted by length inside it)
    num_shards: int = 1
    shard_index: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        # checked before any file is created: a refused run leaves nothing that blocks the next
        check_threshold(self.threshold)
        if self.chunk_size < 1 or self.batch_size < 1:
            raise InputError(f"--chunk-size ({self.chunk_size}) and --batch-size ({self.batch_size}) must be at least 1")

    def shard_output(self) -> Path:
        return shard_path(self.output, self.num_shards, self.shard_index)

    def settings(self) -> Dict[str, Any]:
        """What decides the output lines: equal for every shard of one run (batch and chunk sizes
        are not part of it: they change scores by float rounding only)."""
        return {
            "input": str(Path(self.input).resolve()),
            "model": self.model,
            "labels": list(self.labels),
            "threshold": self.threshold,
            "flat_ner": self.flat_ner,
            "multi_label": self.multi_label,
            "text_field": self.text_field,
            "id_field": self.id_field,
            "output_field": self.output_field,
            "num_shards": self.num_shards,
        }


@dataclass
class PredictStats:
    output: str
    scanned: int = 0  # input records read, all shards
    other_shards: int = 0
    already_done: int = 0  # in the output from an earlier (interrupted) run
    predicted: int = 0
    entities: int = 0

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def settings_path(shard_output: Path) -> Path:
    return shard_output.with_name(shard_output.name + SETTINGS_SUFFIX)


def _prepare_output(config: PredictFileConfig) -> Path:
    """The in-progress file to append to, after checking that earlier output (if any) was made
    with the same settings."""
    final = config.shard_output()
    partial = in_progress_path(final)
    recorded_at = settings_path(final)
    earlier = [path for path in (final, partial) if path.exists()]
    if len(earlier) == 2:
        raise InputError(f"both {final} and {partial} exist; keep the one you trust and delete the other")
    if earlier:
        if not recorded_at.is_file():
            raise InputError(f"{earlier[0]} exists but {recorded_at} does not: not written by this command; delete it or choose another --output")
        differences = setting_differences(read_json_file(recorded_at), config.settings())
        if differences:
            raise InputError(f"{earlier[0]} was written with other settings ({'; '.join(differences)}); "
                             "delete it (and its .settings.json) or choose another --output")
        if final.exists():  # a finished shard run again: picks up records added to the input since
            os.replace(final, partial)
    else:
        write_json_atomic(recorded_at, config.settings())
    return partial


def _json_value(value: Any) -> Any:
    """Parquet values that JSON has no type for."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"a value of type {type(value).__name__} cannot be written as JSON")


def _output_line(record: TextRecord, entities: List[Dict[str, Any]], config: PredictFileConfig) -> str:
    fields = dict(record.fields or {})
    if config.output_field in fields:
        raise InputError(f"{record.where}: the input already has a field {config.output_field!r}; name the predictions otherwise with --output-field")
    if fields.get(config.id_field) is None:
        fields[config.id_field] = record.id  # a derived id: resume and merge find the record by it
    for entity in entities:
        if record.text[entity["start"] : entity["end"]] != entity["text"]:
            raise RuntimeError(f"{record.where}: entity {entity} does not match the text at its offsets")
    fields[config.output_field] = entities
    try:
        return json.dumps(fields, ensure_ascii=False, default=_json_value) + "\n"
    except TypeError as error:
        raise InputError(f"{record.where}: {error}") from error


def predict_file(model, config: PredictFileConfig) -> PredictStats:
    """Predict the documents of ``config.input`` that belong to this worker's shard and are not
    yet in its output; ``model`` has ``inference(texts, labels, batch_size, threshold, flat_ner,
    multi_label)``. Returns the counts; the finished shard file is ``config.shard_output()``."""
    final = config.shard_output()
    with exclusive_output(final, "--output"):
        return _predict_unlocked(model, config, final)


def _predict_unlocked(model, config: PredictFileConfig, final: Path) -> PredictStats:
    partial = _prepare_output(config)
    done = recover_appended_output(partial, config.id_field)
    stats = PredictStats(output=str(final))
    labels = list(config.labels)
    total = count_input_records(config.input)

    with partial.open("a", encoding="utf-8") as out, tqdm(total=total, unit="doc", desc=f"predict {final.name}",
                                                             disable=not config.progress) as bar:

        def mine() -> Iterator[TextRecord]:
            for record in read_text_records(config.input, config.text_field, config.id_field, keep_fields=True):
                stats.scanned += 1
                bar.update(1)
                if config.num_shards > 1 and shard_of(record.id, config.num_shards) != config.shard_index:
                    stats.other_shards += 1
                    continue
                yield record

        def flush(chunk: List[TextRecord]) -> None:
            predictions = model.inference([record.text for record in chunk], labels, batch_size=config.batch_size,
                                          threshold=config.threshold, flat_ner=config.flat_ner, multi_label=config.multi_label)
            out.write("".join(_output_line(record, entities, config) for record, entities in zip(chunk, predictions)))
            out.flush()  # a chunk is on disk before the next one starts: a crash loses at most one chunk
            stats.predicted += len(chunk)
            stats.entities += sum(map(len, predictions))
            bar.set_postfix(predicted=stats.predicted, refresh=False)

        chunk: List[TextRecord] = []
        for record in unique_ids(mine()):
            if record.id in done:
                stats.already_done += 1
                continue
            chunk.append(record)
            if len(chunk) >= config.chunk_size:
                flush(chunk)
                chunk = []
        if chunk:
            flush(chunk)
    os.replace(partial, final)
    return stats


def merge_predictions(shards_of: Path, out: Path, allow_missing_shards: bool = False, input_order: bool = True) -> Counter:
    """Merge the finished shard files of ``shards_of`` (the ``--output`` of the workers) into
    ``out``. The shards must share their settings. With ``input_order`` the input named in the
    settings is read again: the merged lines follow its order, and every input id must appear
    exactly once."""
    shards = [path for path in list_shard_files(shards_of) if Path(out).resolve() != path.resolve()]
    if not shards:
        unfinished = sorted(Path(shards_of).parent.glob(f"{Path(shards_of).stem}.shard-*-of-*{Path(shards_of).suffix}{IN_PROGRESS_SUFFIX}"))
        hint = f"; unfinished: {[str(path) for path in unfinished]} (rerun those workers)" if unfinished else ""
        raise InputError(f"no finished shard files {Path(shards_of).stem}.shard-*-of-*{Path(shards_of).suffix} beside {shards_of}{hint}")
    settings = _shared_settings(shards)
    expected_ids: Optional[Iterator[Tuple[str, str]]] = None
    if input_order:
        source = Path(settings["input"])
        if not source.is_file():
            raise InputError(f"the input the shards were predicted from, {source}, is gone; pass --file-order to merge without it")
        expected_ids = ((record.id, record.where) for record in iter_texts(source, settings["text_field"], settings["id_field"]))
    return merge_outputs(shards, out, check_shards=not allow_missing_shards, id_field=settings["id_field"],
                         text_field=settings["text_field"], expected_ids=expected_ids)


def _shared_settings(shards: Sequence[Path]) -> Dict[str, Any]:
    first: Optional[Tuple[Path, Dict[str, Any]]] = None
    for shard in shards:
        recorded_at = settings_path(shard)
        if not recorded_at.is_file():
            raise InputError(f"{recorded_at} is missing: {shard} was not written by `gliner-biomed predict`")
        settings = read_json_file(recorded_at)
        if first is None:
            first = (shard, settings)
        elif settings != first[1]:
            raise InputError(f"{shard} and {first[0]} were predicted with different settings: {'; '.join(setting_differences(first[1], settings))}")
    return first[1]
