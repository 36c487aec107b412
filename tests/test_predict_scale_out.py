"""`predict --input` at scale: shards (in-process and as real launcher processes), merge,
crash-resume and bad input, on real NCBI-disease abstracts with the shipped default model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gliner_biomed.batch_predict import PredictFileConfig, merge_predictions, predict_file
from gliner_biomed.cli import main
from gliner_biomed.dataset_builders.readers.pubtator import read_pubtator
from gliner_biomed.io_records import InputError, text_id
from gliner_biomed.models import DEFAULT_MODEL_DIR, load_model
from gliner_biomed.sharding import in_progress_path, shard_of, shard_path

LABELS = ("disease", "chemical", "gene")
DOCUMENTS = 8


@pytest.fixture(scope="module")
def abstracts(fixture_corpora_dir):
    """(PMID, title + abstract) of the first NCBI-disease test documents."""
    documents = read_pubtator(fixture_corpora_dir / "pubtator" / "NCBIdisease_Test.PubTator")
    return [(document.document_id, document.text) for document, _ in zip(documents, range(DOCUMENTS))]


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def jsonl_input(abstracts, tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "abstracts.jsonl"
    path.write_text("".join(json.dumps({"id": pmid, "text": text, "source": "ncbi"}) + "\n" for pmid, text in abstracts))
    return path


@pytest.fixture(scope="module")
def single_run(model, jsonl_input, tmp_path_factory):
    """text -> output line of one process over the whole input (the reference for the shards)."""
    out = tmp_path_factory.mktemp("single") / "out.jsonl"
    stats = predict_file(model, config(jsonl_input, out))
    assert stats.predicted == DOCUMENTS and stats.entities > DOCUMENTS  # the trained model finds entities
    return {row["text"]: row for row in read_lines(out)}


def config(input_path: Path, out: Path, **overrides) -> PredictFileConfig:
    settings = dict(input=input_path, output=out, labels=LABELS, model=str(DEFAULT_MODEL_DIR), progress=False)
    return PredictFileConfig(**{**settings, **overrides})


def read_lines(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_same_entities(got, expected) -> None:
    """Same spans, labels and mentions; scores equal up to float rounding (documents batched with
    other neighbours go through differently padded matrix products)."""
    assert [(e["start"], e["end"], e["text"], e["label"]) for e in got] == [(e["start"], e["end"], e["text"], e["label"]) for e in expected]
    assert all(abs(a["score"] - b["score"]) < 1e-4 for a, b in zip(got, expected))


def assert_offsets(rows, text_field: str = "text", entities_field: str = "entities") -> None:
    for row in rows:
        for entity in row[entities_field]:
            assert row[text_field][entity["start"] : entity["end"]] == entity["text"]


def test_two_shards_of_a_jsonl_input_merge_into_the_single_process_result(model, abstracts, jsonl_input, single_run, tmp_path):
    out = tmp_path / "pred.jsonl"
    for index in range(2):
        stats = predict_file(model, config(jsonl_input, out, num_shards=2, shard_index=index, chunk_size=4))
        assert stats.scanned == DOCUMENTS and stats.other_shards == DOCUMENTS - stats.predicted
        shard = shard_path(out, 2, index)
        assert shard.is_file() and not in_progress_path(shard).exists()
        assert all(shard_of(row["id"], 2) == index for row in read_lines(shard))

    merged = tmp_path / "merged.jsonl"
    counts = merge_predictions(out, merged)
    assert counts["records"] == counts["input_records"] == DOCUMENTS and counts["files"] == 2
    rows = read_lines(merged)
    assert [row["id"] for row in rows] == [pmid for pmid, _ in abstracts]  # each input id once, in input order
    for row in rows:
        assert row["source"] == "ncbi" and single_run[row["text"]]["id"] == row["id"]
        assert_same_entities(row["entities"], single_run[row["text"]]["entities"])
    assert_offsets(rows)


def test_two_shards_of_a_parquet_input_with_other_field_names(model, abstracts, single_run, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "abstracts.parquet"
    table = pa.table({"pmid": [int(pmid) for pmid, _ in abstracts], "abstract": [text for _, text in abstracts],
                      "year": [2000 + i for i in range(DOCUMENTS)]})
    pq.write_table(table, source, row_group_size=5)
    out = tmp_path / "pred.jsonl"
    fields = dict(text_field="abstract", id_field="pmid", output_field="predicted", chunk_size=3)
    for index in range(2):
        predict_file(model, config(source, out, num_shards=2, shard_index=index, **fields))
    merged = tmp_path / "merged.jsonl"
    assert merge_predictions(out, merged)["records"] == DOCUMENTS
    rows = read_lines(merged)
    assert [row["pmid"] for row in rows] == [int(pmid) for pmid, _ in abstracts]  # integer ids stay integers
    assert [row["year"] for row in rows] == list(range(2000, 2000 + DOCUMENTS))  # every column kept
    for row in rows:
        assert_same_entities(row["predicted"], single_run[row["abstract"]]["entities"])
    assert_offsets(rows, "abstract", "predicted")


def test_launcher_processes_take_their_shard_from_rank_and_world_size(abstracts, jsonl_input, single_run, tmp_path):
    """Two real worker processes under torchrun (what `accelerate launch --multi_gpu` runs too),
    then the merge command."""
    out = tmp_path / "pred.jsonl"
    predict = ["-m", "gliner_biomed.cli", "predict", "--labels", ",".join(LABELS), "--input", str(jsonl_input),
               "--output", str(out), "--chunk-size", "4", "--no-progress"]
    environment = {key: value for key, value in os.environ.items() if key not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    launched = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"] + predict,
                              capture_output=True, text=True, env=environment, timeout=600)
    assert launched.returncode == 0, launched.stderr[-3000:]
    summaries = [json.loads(line) for line in launched.stdout.splitlines() if line.startswith("{")]
    assert sorted(summary["output"] for summary in summaries) == [str(shard_path(out, 2, i)) for i in range(2)]
    assert sum(summary["predicted"] for summary in summaries) == DOCUMENTS

    merged = tmp_path / "merged.jsonl"
    assert main(["predict-merge", "--shards-of", str(out), "--out", str(merged)]) == 0
    rows = read_lines(merged)
    assert [row["id"] for row in rows] == [pmid for pmid, _ in abstracts]
    for row in rows:
        assert_same_entities(row["entities"], single_run[row["text"]]["entities"])


class SimulatedCrash(Exception):
    pass


class CrashAfter:
    """The model, dying on its ``calls + 1``-th inference call."""

    def __init__(self, model, calls: int):
        self.model, self.calls = model, calls

    def inference(self, *args, **kwargs):
        if self.calls == 0:
            raise SimulatedCrash()
        self.calls -= 1
        return self.model.inference(*args, **kwargs)


def test_crash_and_torn_last_line_resume_to_the_same_result(model, abstracts, single_run, tmp_path):
    source = tmp_path / "no_ids.jsonl"  # ids derived from the text
    source.write_text("".join(json.dumps({"text": text}) + "\n" for _, text in abstracts))
    out = tmp_path / "pred.jsonl"
    with pytest.raises(SimulatedCrash):
        predict_file(CrashAfter(model, calls=2), config(source, out, chunk_size=2))
    partial = in_progress_path(out)
    written = partial.read_text(encoding="utf-8").splitlines(keepends=True)
    assert not out.exists() and len(written) == 4  # two chunks flushed, no finished file
    with partial.open("a", encoding="utf-8") as handle:  # the crash tore the next line
        handle.write(written[-1][:60])

    stats = predict_file(model, config(source, out, chunk_size=2))
    assert (stats.already_done, stats.predicted) == (4, DOCUMENTS - 4)
    rows = read_lines(out)
    assert [row["id"] for row in rows] == [text_id(text) for _, text in abstracts]  # nothing lost, nothing twice
    for row in rows:
        assert_same_entities(row["entities"], single_run[row["text"]]["entities"])
    assert not partial.exists()

    again = predict_file(model, config(source, out, chunk_size=2))  # a finished run, run again: nothing to do
    assert (again.already_done, again.predicted) == (DOCUMENTS, 0) and read_lines(out) == rows


def test_resume_refuses_other_settings(model, tmp_path):
    out = tmp_path / "pred.jsonl"
    source = tmp_path / "one.jsonl"
    source.write_text('{"id": "a", "text": "Cystic fibrosis is caused by CFTR mutations."}\n')
    predict_file(model, config(source, out))
    with pytest.raises(InputError, match=r"written with other settings \(labels: \['disease', 'chemical', 'gene'\] there, \['disease'\] here"):
        predict_file(model, config(source, out, labels=("disease",)))


def test_bad_shard_arguments_fail_before_loading_the_model(jsonl_input, tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "pred.jsonl")
    common = ["predict", "--labels", "disease", "--input", str(jsonl_input), "--output", out]
    assert main(common + ["--num-shards", "2", "--shard-index", "2"]) == 2
    assert "--shard-index 2 is not in [0, --num-shards 2)" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "1")
    assert main(common + ["--num-shards", "2"]) == 2
    assert "--num-shards 2 differs from WORLD_SIZE 4" in capsys.readouterr().err
    monkeypatch.delenv("RANK")
    assert main(common + ["--shard-index", "auto"]) == 2
    assert "needs the RANK and WORLD_SIZE environment variables" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_merge_refuses_an_incomplete_shard_set(model, jsonl_input, tmp_path, capsys):
    out = tmp_path / "pred.jsonl"
    predict_file(model, config(jsonl_input, out, num_shards=3, shard_index=0))
    with pytest.raises(SimulatedCrash):
        predict_file(CrashAfter(model, calls=0), config(jsonl_input, out, num_shards=3, shard_index=2))
    merged = tmp_path / "merged.jsonl"
    assert main(["predict-merge", "--shards-of", str(out), "--out", str(merged)]) == 2
    error = capsys.readouterr().err
    assert "shards [1, 2] of 3 are missing" in error and "shards [2] are still in progress" in error
    assert not merged.exists()


def test_bad_records_name_file_and_line(model, tmp_path):
    source = tmp_path / "docs.jsonl"
    source.write_text('{"id": "a", "text": "Cystic fibrosis."}\n\n{"id": "b", "body": "no text"}\n')
    with pytest.raises(InputError, match=rf"{source}:3: field 'text' is missing or null; see --text-field"):
        predict_file(model, config(source, tmp_path / "out.jsonl"))
    source.write_text('{"id": "a", "text": "Cystic fibrosis."}\n{"id": "a", "text": "Again."}\n')
    with pytest.raises(InputError, match=rf"{source}:2: id 'a' is used by an earlier record"):
        predict_file(model, config(source, tmp_path / "out2.jsonl"))
    source.write_text('{"id": "a", "text": "Cystic fibrosis.", "entities": []}\n')
    with pytest.raises(InputError, match=rf"{source}:1: the input already has a field 'entities'.*--output-field"):
        predict_file(model, config(source, tmp_path / "out3.jsonl"))
