"""The whole synthetic-data chain, end to end, over real sockets: texts -> `synth annotate` (two
shard workers against the local replay server of recorded completions) -> `synth merge` ->
`synth ground` -> the dataset builder's `synthetic` config -> a `datasets` Dataset -> a few
optimizer steps of a GLiNER model (the project's trainer, tiny DeBERTa-shaped encoder) on that
Dataset's rows, and the saved model folder loaded back and predicting.

Training here proves that the builder's rows are trainable as they are (every grounded entity
reaches the loss as a positive target, the loss falls, the saved model works); it does not show
that 12 steps teach a tiny random encoder to find entities: most of the early loss drop is the
model learning to reject spans (ranking grounded spans above the rest took ~30 steps of the real
MiniLM, too slow for the default test run)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
from pathlib import Path

import pytest
import torch

from gliner_biomed.dataset_builders.builder import BiomedNERBuilder, ner_triples
from gliner_biomed.synth.cli import main as synth_main
from gliner_biomed.synth.replay_server import ReplayServer, load_recordings
from model_factory import selective_threshold
from test_train_loop import fixed_batch_loss
from train_helpers import tiny_encoder, tiny_train_config  # noqa: F401  (fixture)

RECORDINGS = Path(__file__).resolve().parent / "data" / "synth" / "recorded_completions.jsonl"


def run_synth(command) -> str:
    """Runs a `synth` command in-process; fails the test on a non-zero status; returns its stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = synth_main(command)
    assert status == 0, (command, out.getvalue()[-2000:])
    return out.getvalue()


@pytest.fixture(scope="module")
def synthetic_chain(tmp_path_factory):
    """texts -> annotate (2 shards, local server) -> merge -> ground -> builder: the recordings,
    the grounded file, its report, the builder and its train Dataset."""
    tmp_path = tmp_path_factory.mktemp("synth_chain")
    recordings = load_recordings(RECORDINGS)
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"pmid": r["id"], "abstract": r["text"]}) + "\n" for r in recordings), encoding="utf-8")
    annotations = tmp_path / "ann.jsonl"
    with ReplayServer(recordings) as server:
        for shard in ("0", "1"):
            run_synth(["synth", "annotate", "--input", str(texts), "--text-field", "abstract", "--id-field", "pmid",
                       "--out", str(annotations), "--base-url", server.base_url, "--model", "teacher-model",
                       "--num-shards", "2", "--shard-index", shard, "--concurrency", "4", "--max-retries", "4",
                       "--backoff-initial", "0.01", "--backoff-max", "0.05", "--no-progress"])
    merged = run_synth(["synth", "merge", "--shards-of", str(annotations), "--out", str(annotations)])
    assert json.loads(merged) == {"records": len(recordings), "files": 2}

    grounded = tmp_path / "grounded.jsonl"
    run_synth(["synth", "ground", "--annotations", str(annotations), "--out", str(grounded), "--no-progress"])
    report = json.loads((tmp_path / "grounded.jsonl.report.json").read_text())

    builder = BiomedNERBuilder(config_name="synthetic", synthetic_source=str(grounded), cache_dir=str(tmp_path / "hf_cache"))
    builder.download_and_prepare()
    dataset = builder.as_dataset(split="train")
    return {"recordings": recordings, "grounded": grounded, "report": report, "builder": builder, "dataset": dataset}


def test_texts_to_synthetic_dataset(synthetic_chain):
    recordings, grounded, report = synthetic_chain["recordings"], synthetic_chain["grounded"], synthetic_chain["report"]
    dataset = synthetic_chain["dataset"]
    assert report["texts"]["written"] == len(recordings) and report["grounded_share"] > 0.9
    issues = synthetic_chain["builder"].corpus_build.splits["train"].log.counts()
    # the grounded file is exactly what the builder recomputes: no repairs, no disagreement, no loss
    assert not {"ner_disagrees_with_entities", "not_word_aligned", "mention_repaired", "record_skipped"} & set(issues)

    rows = {row["id"]: row for row in dataset}
    lines = [json.loads(line) for line in grounded.read_text().splitlines()]
    assert sorted(rows) == sorted(r["id"] for r in recordings)
    for line in lines:
        row = rows[line["id"]]
        assert row["text"] == line["text"] and row["tokenized_text"] == line["tokenized_text"]
        assert [dict(e) for e in row["entities"]] == line["entities"]
        assert ner_triples(row["ner"]) == line["ner"]
    assert sum(len(row["entities"]) for row in dataset) == report["mentions"]["entities"]
    assert {span["label"] for row in dataset for span in row["ner"]} == set(report["label_distribution"])



MAX_WORDS = 96  # as the trainer cuts its own sources (TrainConfig.max_words), smaller for speed
STEPS = 12


def training_examples(dataset, max_words: int):
    """The Dataset's document rows as trainer examples: cut as load_source cuts a corpus
    (trainers.data.cut_example: never through an entity), each asking for the synthetic corpus's
    other types as negatives (load_source's corpus_types)."""
    from gliner_biomed.trainers.data import cut_example

    types = sorted({span["label"] for row in dataset for span in row["ner"]})
    examples = []
    for row in dataset:
        document = {"id": row["id"], "tokenized_text": row["tokenized_text"], "ner": ner_triples(row["ner"])}
        examples += [{**piece, "corpus": "synthetic", "corpus_types": types} for piece in cut_example(document, max_words)]
    return examples, types


def test_synthetic_dataset_trains_a_gliner_model(synthetic_chain, tiny_encoder, tmp_path):
    from gliner_biomed.models import load_model
    from gliner_biomed.trainers.collator import sample_label_sets
    from gliner_biomed.trainers.loop import Trainer

    dataset, report = synthetic_chain["dataset"], synthetic_chain["report"]
    grounded_labels = set(report["label_distribution"])
    examples, types = training_examples(dataset, MAX_WORDS)
    assert len(examples) > len(dataset)  # documents were cut...
    assert sum(len(e["ner"]) for e in examples) == report["mentions"]["entities"]  # ...without losing an entity
    assert set(types) == grounded_labels

    config = tiny_train_config(tiny_encoder, tmp_path / "run", data=["synthetic:train"], max_steps=STEPS, batch_size=4,
                               lr_encoder=2e-3, lr_heads=2e-3, warmup_ratio=0.0, save_every=STEPS, max_width=8)
    trainer = Trainer(config, examples=examples)

    # What the loss will see: the run's batches are synthetic examples, their prompts ask only
    # for grounded labels, and every grounded entity (narrower than max_width) is a positive target.
    by_id = {e["id"]: e for e in examples}
    run_batches = [batch for _, (_, batch) in zip(range(STEPS), trainer.schedule.batches())]
    assert all(e["id"] in by_id for batch in run_batches for e in batch)
    for number, batch in enumerate(run_batches[:3]):
        label_sets = sample_label_sets(batch, trainer.collator.sampling, random.Random(number))
        assert {label for labels in label_sets for label in labels} <= grounded_labels
        targets = trainer.collator(batch, random.Random(number), label_sets=label_sets)["span_labels"]
        expected = {(row, start, end - start, label_sets[row].index(label))
                    for row, e in enumerate(batch) for start, end, label in e["ner"] if end - start < config.max_width}
        assert expected and {tuple(cell) for cell in targets.nonzero().tolist()} == expected

    fixed = run_batches[0] + run_batches[1]
    before = fixed_batch_loss(trainer, fixed)
    result = trainer.train()
    after = fixed_batch_loss(trainer, fixed)
    assert result["step"] == STEPS and after < 0.5 * before, (before, after)
    with open(tmp_path / "run" / "log.csv", newline="") as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert len(losses) == STEPS and losses[-1] < 0.5 * losses[0], losses

    # The saved folder is the trained model: same loss on the fixed batch, and it predicts
    # grounded labels on the synthetic texts with exact character offsets.
    model = load_model(result["final"])
    inputs = trainer.collator(fixed, random.Random(0))
    with torch.no_grad():
        reloaded = float(model(**inputs, focal_alpha=config.focal_alpha, focal_gamma=config.focal_gamma).loss)
    assert reloaded == pytest.approx(after, rel=1e-4)
    texts = [row["text"] for row in dataset][:4]
    threshold = selective_threshold(model, texts, types)
    predicted = 0
    for text in texts:
        for entity in model.predict_entities(text, types, threshold=threshold):
            assert text[entity["start"]:entity["end"]] == entity["text"] and entity["label"] in grounded_labels
            predicted += 1
    assert predicted > 0


def test_train_command_reads_the_grounded_file(synthetic_chain, tiny_encoder, tmp_path, capsys):
    """`gliner-biomed train --data synthetic:train --synthetic-source grounded.jsonl`: the trainer
    loads the grounded file itself (every grounded entity kept, its labels asked for as the corpus's
    types) and a tiny run completes; without the file it is a one-line error."""
    from gliner_biomed.cli import main
    from gliner_biomed.trainers.data import load_sources

    grounded, report = synthetic_chain["grounded"], synthetic_chain["report"]
    [(spec, examples)] = load_sources(["synthetic:train"], "sentence", MAX_WORDS, 7, str(grounded))
    assert spec.corpus == "synthetic" and sum(len(e["ner"]) for e in examples) == report["mentions"]["entities"]
    assert {e["id"].rsplit("-s", 1)[0] for e in examples} == {r["id"] for r in synthetic_chain["recordings"]}
    assert all(e["corpus_types"] == sorted(report["label_distribution"]) for e in examples)
    # A partial annotation (synthetic_negatives: false): no type is asked as a negative, and the
    # sentences without a mention are left out, all the others kept whole.
    [(_, partial)] = load_sources(["synthetic:train"], "sentence", MAX_WORDS, 7, str(grounded), synthetic_negatives=False)
    with_mentions = [e for e in examples if e["ner"]]
    assert len(with_mentions) < len(examples)
    assert [(e["id"], e["ner"]) for e in partial] == [(e["id"], e["ner"]) for e in with_mentions]
    assert all(e["corpus_types"] == [] for e in partial)

    args = ["train", "--encoder", str(tiny_encoder), "--data", "synthetic:train", "--max-steps", "2", "--batch-size", "2",
            "--hidden-size", "32", "--max-width", "6", "--save-every", "2", "--log-every", "1", "--threads", "1",
            "--output-dir", str(tmp_path / "run")]
    assert main(args) == 2
    assert "synthetic:train needs --synthetic-source" in capsys.readouterr().err
    assert main([*args[:4], "bc5cdr:train#4", *args[5:], "--synthetic-source", str(grounded)]) == 2
    assert "no data source reads it: add synthetic:train to --data" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()

    assert main([*args, "--synthetic-source", str(grounded)]) == 0
    printed = capsys.readouterr().out  # step logs, then the result as JSON
    assert json.loads(printed[printed.rindex("\n{"):])["step"] == 2
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()


def test_synth_commands_are_in_the_main_cli():
    from gliner_biomed.cli import build_parser

    args = build_parser().parse_args(["synth", "ground", "--annotations", "a.jsonl", "--out", "g.jsonl"])
    assert args.synth_command == "ground" and args.unaligned == "drop" and args.occurrences == "all"
