"""`synth annotate` over real sockets against a local replay server that answers with the
recorded completions (valid, fenced, truncated, wrong offsets, hallucinations, 429/5xx, broken
bodies): retries, request cache, resume after a crash, sharding and merge."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from gliner_biomed.synth.annotate import AnnotateConfig, annotate
from gliner_biomed.synth.client import BackendError, OpenAIChatBackend, OpenAIConfig
from gliner_biomed.io_records import InputError, recover_appended_output
from gliner_biomed.synth.replay_server import ReplayServer, load_recordings
from gliner_biomed.sharding import merge_outputs, resolve_shard, shard_of, shard_path

RECORDINGS = Path(__file__).resolve().parent / "data" / "synth" / "recorded_completions.jsonl"


@pytest.fixture(scope="module")
def recordings():
    return load_recordings(RECORDINGS)


@pytest.fixture
def texts(tmp_path, recordings) -> Path:
    path = tmp_path / "texts.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for recording in recordings:
            handle.write(json.dumps({"id": recording["id"], "text": recording["text"]}) + "\n")
    return path


@pytest.fixture
def server(recordings):
    with ReplayServer(recordings) as running:
        yield running


def backend_for(server, max_retries=6, timeout_s=10.0, concurrency=4) -> OpenAIChatBackend:
    config = OpenAIConfig(server.base_url, "teacher-model", max_retries=max_retries, timeout_s=timeout_s,
                          backoff_initial_s=0.01, backoff_max_s=0.05)
    return OpenAIChatBackend(config, max_connections=concurrency)


def read_records(path: Path):
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def statuses(server) -> Counter:
    return Counter(entry.status for entry in server.log)


def test_annotate_retries_then_resume_sends_nothing_twice(tmp_path, texts, server, recordings):
    out = tmp_path / "ann.jsonl"
    config = AnnotateConfig(texts, out, concurrency=4, progress=False)
    # A retry budget of 2 is too short for the texts that fail 3-4 times in a row: they are not
    # written, reported as failed, and picked up by the next run.
    stats = annotate(config, backend_for(server, max_retries=2))
    long_outages = {r["id"] for r in recordings if sum(step["status"] != 200 or "raw_body" in step for step in r["script"]) > 2}
    assert {failure["id"] for failure in stats.failed} == long_outages
    assert stats.completed == len(recordings) - len(long_outages)
    first_run = read_records(out)
    assert len(first_run) == stats.completed
    retried = {r["id"] for r in recordings if len(r["script"]) == 2}  # one 429/500 then the answer
    assert all(record["attempts"] == 2 for record in first_run if record["id"] in retried)
    assert {429, 500} <= set(statuses(server))

    requests_before = len(server.log)
    stats = annotate(config, backend_for(server, max_retries=2))
    assert stats.already_done == len(first_run) and stats.completed == len(long_outages) and not stats.failed
    assert {entry.recording_id for entry in server.log[requests_before:]} == long_outages  # only the missing ones
    final = read_records(out)
    assert sorted(r["id"] for r in final) == sorted(r["id"] for r in recordings)  # nothing lost, nothing twice

    by_id = {r["id"]: r for r in recordings}
    for record in final:  # the record is the recorded answer, verbatim
        answer = by_id[record["id"]]["script"][-1]
        assert record["response"] == answer["content"] and record["usage"] == answer["usage"]
        assert record["finish_reason"] == answer["finish_reason"] and record["model"] == "teacher-model"
        assert record["prompt_version"] == "biomed_ner_v1"

    # Output lost (or a new output file): everything comes from the cache, no request is sent.
    requests_before = len(server.log)
    out.unlink()
    stats = annotate(config, backend_for(server))
    assert stats.from_cache == len(recordings) and stats.completed == 0
    assert len(server.log) == requests_before
    from_cache = {r["id"]: r for r in read_records(out)}
    assert from_cache == {r["id"]: {**r, "attempts": 0, "cached": True} for r in final}


def test_cache_key_changes_with_model_and_labels(tmp_path, texts, server, recordings):
    out = tmp_path / "ann.jsonl"
    annotate(AnnotateConfig(texts, out, limit=3, progress=False), backend_for(server))
    sent = len(server.log)
    other = tmp_path / "ann-genes.jsonl"  # same texts, another label set: a different request
    annotate(AnnotateConfig(texts, other, labels=("gene",), cache=tmp_path / "ann.jsonl.cache.sqlite", limit=3, progress=False),
             backend_for(server))
    assert len(server.log) > sent
    request = server.log[-1].body
    assert "- gene:" in request["messages"][1]["content"] and "- disease:" not in request["messages"][1]["content"]


def test_non_retryable_status_fails_at_once(server):
    backend = backend_for(server)
    with pytest.raises(BackendError, match="HTTP 404"):
        backend.complete([{"role": "user", "content": "a text that was never recorded"}])
    assert backend.stats.outcomes == Counter({"404": 1})


def test_timeouts_are_retried_then_reported(recordings):
    with ReplayServer(recordings[:1], delay_s=0.5) as slow:
        backend = backend_for(slow, max_retries=1, timeout_s=0.1)
        with pytest.raises(BackendError, match="timeout"):
            backend.complete([{"role": "user", "content": recordings[0]["text"]}])
        assert backend.stats.outcomes == Counter({"timeout": 2})


def test_retry_after_header_is_honoured(recordings):
    script = [{"status": 429, "retry_after": 0.3}, recordings[0]["script"][-1]]
    with ReplayServer([{**recordings[0], "script": script}]) as server:
        slept = []
        backend = OpenAIChatBackend(OpenAIConfig(server.base_url, "m", backoff_initial_s=5.0), sleep=slept.append)
        completion = backend.complete([{"role": "user", "content": recordings[0]["text"]}])
        assert slept == [0.3] and completion.attempts == 2


def test_crash_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path, texts, recordings):
    """A real crash: the CLI runs in a subprocess that is SIGKILLed mid-run."""
    out = tmp_path / "ann.jsonl"
    concurrency = 2
    with ReplayServer(recordings, delay_s=0.15) as server:
        command = [sys.executable, "-m", "gliner_biomed.synth.cli", "synth", "annotate", "--input", str(texts), "--out", str(out),
                   "--base-url", server.base_url, "--model", "teacher-model", "--concurrency", str(concurrency),
                   "--backoff-initial", "0.01", "--backoff-max", "0.05", "--no-progress"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 8):
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        written_before_crash = set(read_ids_safely(out))
        assert 8 <= len(written_before_crash) < len(recordings), "the kill should land mid-run"
        answered_before = Counter(e.recording_id for e in server.log if e.answered)
        crash_point = len(server.log)

        stats = annotate(AnnotateConfig(texts, out, concurrency=concurrency, progress=False), backend_for(server))
        assert not stats.failed
        ids = [record["id"] for record in read_records(out)]
        assert sorted(ids) == sorted(r["id"] for r in recordings)  # nothing lost, nothing duplicated
        resent = {e.recording_id for e in server.log[crash_point:]}
        assert not resent & written_before_crash  # nothing written was asked again
        # answered twice: only requests that were in flight when the process died (their answer
        # reached neither the cache nor the output)
        answered_twice = [i for i, n in Counter(e.recording_id for e in server.log if e.answered).items() if n > 1]
        assert len(answered_twice) <= concurrency and all(answered_before[i] == 1 for i in answered_twice)


def read_ids_safely(path: Path):
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            ids.append(json.loads(line)["id"])
        except json.JSONDecodeError:  # a line the kill cut short: resume repairs it
            pass
    return ids


def test_half_written_last_line_is_cut_and_redone(tmp_path):
    out = tmp_path / "ann.jsonl"
    out.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n{"id": "c", "te', encoding="utf-8")
    assert recover_appended_output(out) == {"a", "b"}
    assert out.read_text(encoding="utf-8") == '{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n'
    out.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"ann.jsonl:2"):
        recover_appended_output(out)


def test_bad_input_names_file_and_line(tmp_path, server):
    bad = tmp_path / "texts.jsonl"
    bad.write_text('{"id": "1", "text": "ok"}\n{"id": "2", "body": "no text"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"texts.jsonl:2: field 'text'"):
        annotate(AnnotateConfig(bad, tmp_path / "o.jsonl", progress=False), backend_for(server))
    bad.write_text('{"id": "1", "text": "ok"}\n{"id": "1", "text": "again"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"texts.jsonl:2: id '1' is used by an earlier record"):
        annotate(AnnotateConfig(bad, tmp_path / "o.jsonl", progress=False), backend_for(server))


def test_shards_split_the_input_and_merge_without_duplicates(tmp_path, texts, server, recordings, monkeypatch):
    out = tmp_path / "ann.jsonl"
    shared_cache = tmp_path / "cache.sqlite"
    for index in range(3):
        config = AnnotateConfig(texts, shard_path(out, 3, index), cache=shared_cache, num_shards=3, shard_index=index, progress=False)
        stats = annotate(config, backend_for(server))
        assert stats.other_shards == len(recordings) - stats.completed
    shard_files = [shard_path(out, 3, index) for index in range(3)]
    per_shard = [set(r["id"] for r in read_records(path)) for path in shard_files]
    assert all(per_shard) and sum(map(len, per_shard)) == len(recordings)
    assert all(shard_of(i, 3) == index for index, ids in enumerate(per_shard) for i in ids)

    merged = tmp_path / "merged.jsonl"
    counts = merge_outputs(shard_files + shard_files[:1], merged, check_shards=True)  # a file given twice
    assert counts["records"] == len(recordings) and counts["duplicates_dropped"] == len(per_shard[0])
    assert sorted(r["id"] for r in read_records(merged)) == sorted(r["id"] for r in recordings)
    with pytest.raises(InputError, match=r"shards \[2\] of 3 are missing"):
        merge_outputs(shard_files[:2], tmp_path / "partial.jsonl")
    assert not (tmp_path / "partial.jsonl").exists()

    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "2")
    assert resolve_shard(None, "auto") == (3, 2)  # accelerate launch / torchrun workers
    with pytest.raises(InputError, match="--shard-index 3"):
        resolve_shard(3, 3)


def test_parquet_input_is_streamed_with_row_numbers(tmp_path, recordings):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gliner_biomed.io_records import iter_texts, text_id

    path = tmp_path / "abstracts.parquet"
    table = pa.table({"pmid": [r["id"] for r in recordings[:5]], "abstract": [r["text"] for r in recordings[:5]]})
    pq.write_table(table, path, row_group_size=2)
    records = list(iter_texts(path, text_field="abstract", id_field="pmid"))
    assert [(r.id, r.text) for r in records] == [(r["id"], r["text"]) for r in recordings[:5]]
    assert records[3].where == f"{path}:row 3"
    unnamed = list(iter_texts(path, text_field="abstract", id_field="no_such_column"))  # ids from the text
    assert [r.id for r in unnamed] == [text_id(r["text"]) for r in recordings[:5]]
    with pytest.raises(InputError, match=r"abstracts.parquet: no column 'text'"):
        list(iter_texts(path))


def test_complete_last_record_without_newline_is_kept(tmp_path):
    out = tmp_path / "ann.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b"}', encoding="utf-8")
    assert recover_appended_output(out) == {"a", "b"}
    assert out.read_text(encoding="utf-8") == '{"id": "a"}\n{"id": "b"}\n'
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert recover_appended_output(empty) == set() and empty.read_text() == ""
