"""The training loop on real data: loss goes down, and a run killed mid-way and resumed with
--resume ends bit-identical to an uninterrupted run."""

from __future__ import annotations

import csv
import random
import signal

import pytest
import torch
from safetensors.torch import load_file

from gliner_biomed.dataset_builders.sources import CORPORA_ENV
from gliner_biomed.errors import BadInputError
from model_factory import FIXTURE_CORPORA
from train_helpers import run_cli, tiny_encoder, tiny_train_config  # noqa: F401  (fixture)

# These runs train on the committed NCBI-disease (tests/data/corpora, byte-identical to upstream),
# so they run in any clone; the CLI's subprocesses are pointed at it explicitly.
COMMITTED_CORPORA = {CORPORA_ENV: str(FIXTURE_CORPORA)}


def fixed_batch_loss(trainer, examples) -> float:
    """Loss on a fixed batch with dropout off and a fixed label draw."""
    model = trainer.unwrapped()
    model.eval()
    with torch.no_grad():
        inputs = trainer.collator(examples, random.Random(0))
        loss = float(model(**inputs, focal_alpha=trainer.config.focal_alpha, focal_gamma=trainer.config.focal_gamma).loss)
    model.train()
    return loss


def test_training_lowers_loss_on_real_data(tiny_encoder, tmp_path):
    from gliner_biomed.trainers.loop import Trainer

    config = tiny_train_config(tiny_encoder, tmp_path / "run", data=["ncbi-disease:train#16"], max_steps=25, batch_size=4,
                               lr_encoder=2e-3, lr_heads=2e-3, warmup_ratio=0.0, save_every=25,
                               validation=["ncbi-disease:validation"], validation_max_documents=2, eval_every=25)
    trainer = Trainer(config)
    examples = trainer.schedule.sources[0][1][:8]
    before = fixed_batch_loss(trainer, examples)
    result = trainer.train()
    after = fixed_batch_loss(trainer, examples)
    assert after < 0.5 * before, (before, after)
    assert result["step"] == 25
    with open(tmp_path / "run" / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == list(range(1, 26))
    assert rows[-1]["metric"] != ""  # validated with the project's metric at the last step
    assert (tmp_path / "run" / "best" / "config.json").is_file() and (tmp_path / "run" / "final" / "model.safetensors").is_file()


def final_weights(folder):
    return load_file(str(folder / "final" / "model.safetensors"))


def log_rows(folder):
    with open(folder / "log.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)]


def test_resume_after_kill_equals_uninterrupted_run(tiny_encoder, tmp_path, monkeypatch, capsys):
    from gliner_biomed.cli import main

    args = ["train", "--encoder", tiny_encoder, "--data", "ncbi-disease:train@2#40", "ncbi-disease:validation#40", "--max-steps", 7,
            "--batch-size", 3, "--gradient-accumulation-steps", 2, "--hidden-size", 32, "--max-width", 6,
            "--dropout", 0.3, "--lr-encoder", 1e-3, "--lr-heads", 1e-3, "--save-every", 2, "--log-every", 1,
            "--threads", 1, "--seed", 5, "--scheduler", "cosine", "--warmup-ratio", 0.2]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    # The uninterrupted run and the resumed one run in this process (the same command line through
    # the CLI's main); only the run to kill needs a process of its own.
    monkeypatch.setenv(CORPORA_ENV, str(FIXTURE_CORPORA))
    assert main([str(a) for a in args + ["--output-dir", whole]]) == 0

    # Killed (SIGKILL) right after step 5: the last complete checkpoint is step 4.
    killed = run_cli(args + ["--output-dir", broken], env_extra={**COMMITTED_CORPORA, "GLINER_BIOMED_TRAIN_KILL_AT_STEP": "5"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (broken / "final").exists()
    assert sorted(p.name for p in (broken / "checkpoints").iterdir()) == ["step-2", "step-4"]

    capsys.readouterr()
    assert main([str(a) for a in args + ["--output-dir", broken, "--resume"]]) == 0
    assert "step-4" in capsys.readouterr().out

    expected, got = final_weights(whole), final_weights(broken)
    assert expected.keys() == got.keys()
    different = [name for name in expected if not torch.equal(expected[name], got[name])]
    assert not different, different[:5]
    assert log_rows(broken) == log_rows(whole)  # same losses, learning rates and grad norms at every step


def test_resume_refuses_mixed_runs(tiny_encoder, tmp_path):
    from gliner_biomed.trainers.loop import Trainer

    with pytest.raises(BadInputError, match="no complete checkpoint"):
        Trainer(tiny_train_config(tiny_encoder, tmp_path / "empty", resume=True, max_steps=1)).train()
    Trainer(tiny_train_config(tiny_encoder, tmp_path / "once", max_steps=2)).train()
    with pytest.raises(BadInputError, match="--resume"):
        Trainer(tiny_train_config(tiny_encoder, tmp_path / "once", max_steps=2)).train()
    # other settings than the checkpoint's: each difference named; a longer run is allowed
    with pytest.raises(BadInputError, match=r"batch_size: 4 there, 2 here; lr_encoder: 0.001 there, 0.002 here; seed: 7 there, 8 here\)"):
        Trainer(tiny_train_config(tiny_encoder, tmp_path / "once", resume=True, max_steps=3, seed=8, batch_size=2, lr_encoder=2e-3))
    assert Trainer(tiny_train_config(tiny_encoder, tmp_path / "once", resume=True, max_steps=3)).train()["step"] == 3


def test_bi_encoder_trains_and_saves(tiny_encoder, tmp_path):
    from gliner_biomed.models import load_model
    from gliner_biomed.trainers.loop import Trainer

    config = tiny_train_config(tiny_encoder, tmp_path / "bi", labels_encoder=str(tiny_encoder), max_steps=3, save_every=3)
    trainer = Trainer(config)
    batch = trainer.collator(trainer.schedule.sources[0][1][:4], random.Random(0))
    assert batch["labels_input_ids"].shape[0] == batch["span_labels"].shape[-1] == batch["label_mask"].shape[1]
    trainer.train()
    model = load_model(str(tmp_path / "bi" / "final"))
    assert model.config.is_bi_encoder
    assert isinstance(model.predict_entities("Cisplatin nephrotoxicity in rats.", ["chemical", "disease"], threshold=0.0), list)


@pytest.fixture
def fresh_accelerator_state():
    """Accelerate keeps one process-wide state; these tests set its mixed precision themselves."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


GIVEN_EXAMPLES = [{"id": "a", "tokenized_text": ["Aspirin", "induced", "ulcer", "."], "ner": [[0, 0, "chemical"], [2, 2, "disease"]]}]


@pytest.mark.parametrize("configured, launcher, expected", [
    ("auto", "bf16", "bf16"),  # `accelerate launch --mixed_precision bf16` (or accelerate config) decides
    ("no", "bf16", "no"),  # the training config / CLI flag wins over the launcher
    ("auto", None, "no"),  # no launcher choice, no GPU: full precision
])
def test_launcher_chooses_mixed_precision_unless_the_config_does(tiny_encoder, tmp_path, monkeypatch, fresh_accelerator_state,
                                                                 configured, launcher, expected):
    from gliner_biomed.trainers.loop import LAUNCHER_MIXED_PRECISION_ENV, Trainer

    if launcher is None:
        monkeypatch.delenv(LAUNCHER_MIXED_PRECISION_ENV, raising=False)
    else:
        monkeypatch.setenv(LAUNCHER_MIXED_PRECISION_ENV, launcher)
    config = tiny_train_config(tiny_encoder, tmp_path / "run", mixed_precision=configured, max_steps=1)
    trainer = Trainer(config, examples=GIVEN_EXAMPLES, write_outputs=False)
    assert trainer.accelerator.mixed_precision == expected
