"""Shared pieces of the trainer tests (no tests here): a tiny real encoder folder (2-layer
DeBERTa trained tokenizer from model_factory) and small real training examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_factory import REPO_ROOT, build_tiny_deberta


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    return build_tiny_deberta(tmp_path_factory.mktemp("tiny_encoder"))


def tiny_train_config(encoder: Path, output_dir: Path, **overrides):
    from gliner_biomed.trainers.config import TrainConfig

    # Two weighted sources of the committed NCBI-disease (tests/data/corpora): the mechanics of a
    # mixture (resume, checkpoints) in every clone; mixing corpora is tested where they are present.
    values = dict(encoder=str(encoder), data=["ncbi-disease:train@2#40", "ncbi-disease:validation@1#40"], max_steps=6, batch_size=4,
                  lr_encoder=1e-3, lr_heads=1e-3, hidden_size=32, max_width=6, dropout=0.1, save_every=2,
                  eval_every=1000, log_every=1, output_dir=str(output_dir), threads=1, seed=7)
    values.update(overrides)
    return TrainConfig(**values)


def run_cli(args, env_extra=None, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "gliner_biomed.cli", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
