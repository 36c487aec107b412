"""Published files carry nothing of this machine: every staged file of the model (converted and
the shipped adapter package, merged), dataset, metric and Space repos is scanned for absolute
local paths and local-only flags, with a scanner independent of the one staging uses."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from model_factory import build_converted_model

from gliner_biomed.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
# Substrings that only a local path has (this checkout, home, temporary folder, installed packages).
LOCAL_MARKERS = ("/work/", "/home/", "/tmp/", "/root/", "site-packages", "dist-packages",
                 str(REPO_ROOT), str(Path.home()) + "/", tempfile.gettempdir() + "/")
LOCAL_FLAGS = ("local_files_only", "is_local")
# A marker starts a path, not the middle of a URL or of a longer path (https://www.ncbi.nlm.nih.gov/home/...):
# the byte before it is none of these.
PATH_CHARACTERS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def starts_a_path(data: bytes, marker: bytes) -> bool:
    """Whether ``marker`` occurs in ``data`` where a path can start (bytes.find, not a regular
    expression: the scanned files include 90 MB of weights)."""
    at = data.find(marker)
    while at != -1:
        if at == 0 or data[at - 1] not in PATH_CHARACTERS:
            return True
        at = data.find(marker, at + 1)
    return False


def json_leaves(value, where=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}", key, item
            yield from json_leaves(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_leaves(item, f"{where}[{index}]")


def local_state(folder: Path):
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        data = path.read_bytes()
        found += [f"{name}: {marker}" for marker in LOCAL_MARKERS if starts_a_path(data, marker.encode())]
        if path.suffix == ".json":
            for where, key, value in json_leaves(json.loads(data)):
                if key in LOCAL_FLAGS and value is True:
                    found.append(f"{name}: {where} = true")
                if isinstance(value, str) and value.startswith(("/", "~/", "./", "../")) and len(value) > 1:
                    found.append(f"{name}: {where} = {value!r}")
    return found


@pytest.fixture(scope="session")
def converted_model(tmp_path_factory) -> Path:
    return build_converted_model(tmp_path_factory.getbasetemp() / "publishing_minilm_uni", "uni", "minilm")


@pytest.fixture(scope="module")
def bi_encoder_model(tmp_path_factory) -> Path:
    return build_converted_model(tmp_path_factory.mktemp("bi") / "tiny_bi", "bi", "tiny-deberta")


@pytest.fixture(scope="module")
def built_dataset(tmp_path_factory, corpora_dir) -> Path:
    out = tmp_path_factory.mktemp("dataset") / "ncbi-disease"
    assert main(["datasets", "build", "ncbi-disease", "--out", str(out), "--corpora-dir", str(corpora_dir)]) == 0
    return out


@pytest.mark.corpus("ncbi-disease")
def test_models_record_local_paths_and_dataset_reports_do_not(converted_model, built_dataset):
    """Model writers record local paths (what staging scrubs; else the scan below proves nothing);
    the dataset export writes its validation report with paths inside the corpora folder."""
    assert local_state(converted_model) and local_state(built_dataset) == []
    report = json.loads((built_dataset / "validation_report.json").read_text(encoding="utf-8"))
    duplicate = report["document"]["splits"]["train"]["issues"]["duplicate_document"]["examples"][0]
    assert duplicate["where"].startswith("pubtator/NCBIdisease_Train.PubTator, line "), duplicate  # relative to the corpora root


@pytest.mark.corpus("ncbi-disease", "bc5cdr", "biored")
def test_every_staged_repo_is_free_of_local_state(converted_model, bi_encoder_model, built_dataset, tmp_path):
    from gliner_biomed.models import resolve_model_path
    from gliner_biomed.publishing import staging
    from gliner_biomed.publishing.model_card import ModelCardOptions

    staged = {
        "converted model": staging.stage_model(converted_model, tmp_path / "model", ModelCardOptions(repo_id="org/m")),
        "bi-encoder model": staging.stage_model(bi_encoder_model, tmp_path / "bi", ModelCardOptions(repo_id="org/bi")),
        "default model (adapter package)": staging.stage_model(resolve_model_path(None), tmp_path / "default", ModelCardOptions(repo_id="org/d")),
        "dataset": staging.stage_dataset(built_dataset, tmp_path / "dataset"),
        "metric": staging.stage_metric(None, tmp_path / "metric"),
        "space": staging.stage_space(None, tmp_path / "space", {"m": "org/m"}, ["org/ncbi-disease"]),
    }
    for kind, repo in staged.items():
        assert repo.files(), kind
        assert local_state(repo.folder) == [], kind
    # Encoders are named by Hub id; an encoder known only as a local folder is left unnamed (and said so).
    config = json.loads((staged["converted model"].folder / "config.json").read_text())
    assert config["encoder_config"]["_name_or_path"] == "sentence-transformers/all-MiniLM-L6-v2"
    bi = json.loads((staged["bi-encoder model"].folder / "config.json").read_text())
    assert bi["encoder_config"]["_name_or_path"] == "" and bi["labels_encoder_config"]["_name_or_path"] == ""
    assert any("labels_encoder_config._name_or_path: local path" in note for note in staged["bi-encoder model"].notes)
    for path in staged["bi-encoder model"].folder.rglob("tokenizer_config.json"):
        assert not set(json.loads(path.read_text())) & set(LOCAL_FLAGS), path


def test_staging_refuses_a_file_with_a_local_path(converted_model, tmp_path, capsys):
    import shutil

    folder = shutil.copytree(converted_model, tmp_path / "model")
    (folder / "notes.md").write_text("Trained on\nthe files in /home/someone/corpora/train.jsonl\n", encoding="utf-8")
    stage = tmp_path / "stage"
    assert main(["publish", "--model", str(folder), "--repo", "org/m", "--dry-run", "--stage-dir", str(stage)]) == 2
    error = capsys.readouterr().err
    assert "notes.md line 2: '/home/someone/corpora/train.jsonl' (a local path)" in error
    assert not stage.exists()  # nothing half-staged is left behind


def test_a_trained_models_record_is_staged_without_local_paths(converted_model, tmp_path):
    import shutil

    from model_factory import minilm_dir

    from gliner_biomed.publishing import staging
    from gliner_biomed.publishing.model_card import ModelCardOptions

    folder = shutil.copytree(converted_model, tmp_path / "trained")
    # The record trainers.packaging writes beside a fully trained model (its TrainConfig names local folders).
    record = {"training": {"step": 40, "validation": {"bc5cdr/validation": 0.31}},
              "config": {"encoder": str(minilm_dir()), "output_dir": str(tmp_path / "runs" / "small"), "data": ["bc5cdr:train"],
                         "lora": False, "level": "sentence"}}
    (folder / "training_info.json").write_text(json.dumps(record), encoding="utf-8")
    staged = staging.stage_model(folder, tmp_path / "stage", ModelCardOptions(repo_id="org/m"))
    assert local_state(staged.folder) == []
    config = json.loads((staged.folder / "training_info.json").read_text())["config"]
    assert (config["encoder"], config["output_dir"], config["data"]) == ("sentence-transformers/all-MiniLM-L6-v2", "small", ["bc5cdr:train"])
    assert "40 steps, full fine-tuning" in (staged.folder / "README.md").read_text()  # the card still reads the record
    assert any(note.startswith("training_info.json: local paths") for note in staged.notes)
