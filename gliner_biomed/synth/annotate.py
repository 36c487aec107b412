"""The annotation run: texts -> prompts -> backend -> one JSONL record per text.

Crash-safe and idempotent: each record is appended and flushed as soon as its completion
arrives; on restart, ids already in the output are skipped (a half-written last line is cut and
redone); every completion is put in the request cache before it is written, so a re-run sends
nothing that was already answered. A text whose request fails for good is not written (and is
retried by the next run): the run reports it and exits non-zero."""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from tqdm.auto import tqdm

from .cache import RequestCache, request_key
from .client import BackendError, Completion
from .prompts import DEFAULT_PROMPT, Messages, load_prompt
from ..io_records import TextRecord, iter_texts, recover_appended_output
from ..output_lock import exclusive_output
from ..sharding import shard_of
from ..log import get_logger

logger = get_logger(__name__)


@dataclass(frozen=True)
class AnnotateConfig:
    input: Path
    out: Path  # this shard's output (see sharding.shard_path)
    prompt: str = DEFAULT_PROMPT
    labels: Optional[Tuple[str, ...]] = None  # default: the prompt's default_labels
    text_field: str = "text"
    id_field: str = "id"
    cache: Optional[Path] = None  # default: <out>.cache.sqlite; share one across shard workers if you like
    concurrency: int = 8  # requests in flight (HTTP backend); the local backend batches instead
    batch_size: int = 8  # texts per generate() call (local backend)
    num_shards: int = 1
    shard_index: int = 0
    limit: Optional[int] = None  # annotate at most this many new texts (a trial run)
    progress: bool = True

    def cache_path(self) -> Path:
        return self.cache or self.out.with_name(self.out.name + ".cache.sqlite")


@dataclass
class AnnotateStats:
    already_done: int = 0  # skipped: already in the output (resume)
    other_shards: int = 0
    from_cache: int = 0
    completed: int = 0  # newly written from fresh requests
    failed: List[Dict[str, str]] = field(default_factory=list)  # {"id", "where", "error"}

    def as_dict(self) -> Dict:
        return asdict(self)


def _output_record(record: TextRecord, prompt_version: str, model: str, labels: Sequence[str], completion: Dict, cached: bool) -> Dict:
    return {
        "id": record.id,
        "text": record.text,
        "prompt_version": prompt_version,
        "model": model,
        "labels": list(labels),
        "response": completion["content"],
        "finish_reason": completion["finish_reason"],
        "usage": completion["usage"],
        "attempts": 0 if cached else completion["attempts"],  # HTTP requests this run sent for it
        "cached": cached,
    }


def annotate(config: AnnotateConfig, backend) -> AnnotateStats:
    """Annotate the texts of ``config.input`` that belong to this shard and are not yet in
    ``config.out``. ``backend`` has ``model``, ``parallel``, ``generation_params()``,
    ``complete(messages)`` and ``complete_batch([messages, ...])``. A backend with
    ``reads_text`` (the patterns backend) takes no prompt and no label set: its one message is
    the text, and its records have open labels (``labels: []``, kept as found by `synth ground`)."""
    with exclusive_output(config.out, "--out"):  # two runs would append the same texts twice
        return _annotate_unlocked(config, backend)


def _annotate_unlocked(config: AnnotateConfig, backend) -> AnnotateStats:
    if getattr(backend, "reads_text", False):
        prompt_version, labels = backend.model, ()

        def render(text: str) -> Messages:
            return [{"role": "user", "content": text}]
    else:
        prompt = load_prompt(config.prompt)
        prompt_version, labels = prompt.version, tuple(config.labels or prompt.default_labels)

        def render(text: str) -> Messages:
            return prompt.render(text, labels)
    params = backend.generation_params()
    stats = AnnotateStats()
    done = recover_appended_output(config.out)
    # A backend whose answers cost nothing to recompute (patterns) skips the cache: a per-text
    # sqlite commit would cost more than the answer itself.
    cache = RequestCache(config.cache_path()) if getattr(backend, "worth_caching", True) else _NoCache()
    config.out.parent.mkdir(parents=True, exist_ok=True)

    def pending():
        new = 0
        for record in iter_texts(config.input, config.text_field, config.id_field):
            if config.num_shards > 1 and shard_of(record.id, config.num_shards) != config.shard_index:
                stats.other_shards += 1
            elif record.id in done:
                stats.already_done += 1
            elif config.limit is None or new < config.limit:
                new += 1
                messages = render(record.text)
                yield record, messages, request_key(prompt_version, backend.model, messages, params)

    with config.out.open("a", encoding="utf-8") as out, tqdm(desc=f"annotate {config.out.name}", unit="text", disable=not config.progress) as bar:

        def write(record: TextRecord, completion: Dict, cached: bool) -> None:
            out.write(json.dumps(_output_record(record, prompt_version, backend.model, labels, completion, cached), ensure_ascii=False) + "\n")
            out.flush()
            done.add(record.id)
            bar.update(1)

        def fresh(record: TextRecord, messages: Messages, key: str) -> Dict:
            completion = asdict(backend.complete(messages))
            cache.put(key, completion)  # before the output line: a crash in between costs no request
            return completion

        def to_send():
            for record, messages, key in pending():
                cached = cache.get(key)
                if cached is not None:
                    write(record, cached, cached=True)
                    stats.from_cache += 1
                else:
                    yield record, messages, key

        try:
            if backend.parallel:
                _run_threaded(to_send(), fresh, write, stats, config.concurrency)
            else:
                _run_batched(to_send(), backend, cache, write, stats, config.batch_size)
        finally:
            cache.close()
    return stats


class _NoCache:
    def get(self, key: str) -> None:
        return None

    def put(self, key: str, value: Dict) -> None:
        pass

    def close(self) -> None:
        pass


def _fail(stats: AnnotateStats, record: TextRecord, error: Exception) -> None:
    stats.failed.append({"id": record.id, "where": record.where, "error": str(error)})
    logger.warning(f"annotate: {record.where}: id {record.id!r} failed, will be retried by the next run: {error}")


def _run_threaded(items, fresh, write, stats: AnnotateStats, concurrency: int) -> None:
    in_flight: Dict[Future, TextRecord] = {}

    def drain(block_until_below: int) -> None:
        while len(in_flight) >= block_until_below:
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                record = in_flight.pop(future)
                try:
                    completion = future.result()
                except BackendError as error:
                    _fail(stats, record, error)
                    continue
                write(record, completion, cached=False)  # only this thread writes the output
                stats.completed += 1

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for record, messages, key in items:
            in_flight[pool.submit(fresh, record, messages, key)] = record
            drain(block_until_below=2 * concurrency)  # bounded: a huge input is streamed, not queued
        drain(block_until_below=1)


def _run_batched(items, backend, cache: RequestCache, write, stats: AnnotateStats, batch_size: int) -> None:
    batch: List[Tuple[TextRecord, Messages, str]] = []

    def flush() -> None:
        try:
            completions: List[Completion] = backend.complete_batch([messages for _, messages, _ in batch])
        except BackendError as error:
            for record, _, _ in batch:
                _fail(stats, record, error)
        else:
            for (record, _, key), completion in zip(batch, completions):
                completion = asdict(completion)
                cache.put(key, completion)
                write(record, completion, cached=False)
                stats.completed += 1
        batch.clear()

    for item in items:
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
