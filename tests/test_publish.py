"""`gliner-biomed publish` for each repo kind: staging, offline validation, and the upload through
a loopback Hub (FakeHub), plus the no-token and unreachable-Hub errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fake_hub import FakeHub, run_client
from model_factory import build_converted_model

from gliner_biomed.cli import main


@pytest.fixture(scope="session")
def publish_model(tmp_path_factory) -> Path:
    return build_converted_model(tmp_path_factory.getbasetemp() / "publishing_minilm_uni", "uni", "minilm")


@pytest.fixture(scope="module")
def dataset_repo(tmp_path_factory, fixture_corpora_dir) -> Path:
    out = tmp_path_factory.mktemp("dataset") / "ncbi-disease"
    assert main(["datasets", "build", "ncbi-disease", "--out", str(out), "--corpora-dir", str(fixture_corpora_dir)]) == 0
    return out


@pytest.fixture(scope="module")
def hub():
    with FakeHub() as running:
        yield running


def publish_client(hub, args, tmp_path, extra_env=None, expect_ok=True):
    """Runs `gliner-biomed publish ARGS` in a client process that sees the fake hub."""
    code = f"import sys; from gliner_biomed.cli import main; sys.exit(main({json.dumps(args)}))"
    if expect_ok:
        return run_client(code, hub, cwd=tmp_path, extra_env=extra_env)
    with pytest.raises(AssertionError) as failure:
        run_client(code, hub, cwd=tmp_path, extra_env=extra_env)
    return str(failure.value)


def staged_files(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_dry_run_lists_the_staged_files_and_uploads_nothing(hub, publish_model, tmp_path, capsys):
    stage = tmp_path / "stage"
    assert main(["publish", "--model", str(publish_model), "--repo", "org/dry", "--dry-run", "--stage-dir", str(stage)]) == 0
    out = capsys.readouterr()
    listed = [line.strip() for line in out.out.splitlines()[1:]]
    assert listed == staged_files(stage)
    assert {"README.md", "config.json", "model.safetensors", "modeling_gliner.py"} <= set(listed)
    assert "validated: {'class': 'GLiNERUniEncoderModel'" in out.err
    assert ("model", "org/dry") not in hub.repos


def test_model_upload_reaches_the_hub(hub, publish_model, tmp_path):
    stage = tmp_path / "stage"
    args = ["publish", "--model", str(publish_model), "--repo", "org/gliner-biomed-test", "--stage-dir", str(stage),
            "--commit-message", "First model upload"]
    result = publish_client(hub, args, tmp_path)
    assert "uploaded" in result.stdout
    commit = hub.commits_of("org/gliner-biomed-test")[-1]
    assert commit.message == "First model upload"
    assert hub.list_files("org/gliner-biomed-test") == sorted(staged_files(stage) + [".gitattributes"])
    assert hub.stored_file("org/gliner-biomed-test", "model.safetensors").lfs
    assert hub.read_file("org/gliner-biomed-test", "README.md") == (stage / "README.md").read_bytes()
    assert b'AutoModel.from_pretrained("org/gliner-biomed-test", trust_remote_code=True)' in (stage / "README.md").read_bytes()
    assert not hub.unhandled


def test_dataset_upload_reaches_the_hub(hub, dataset_repo, tmp_path):
    stage = tmp_path / "stage"
    result = publish_client(hub, ["publish", "--dataset", str(dataset_repo), "--repo", "org/ncbi-disease", "--stage-dir", str(stage)], tmp_path)
    assert "'test': {'rows': 100" in result.stderr  # load_dataset saw the 100 test documents
    files = hub.list_files("org/ncbi-disease", "dataset")
    assert files == sorted(staged_files(dataset_repo) + [".gitattributes"])
    assert any(path.startswith("data/document/test-") and path.endswith(".parquet") for path in files)
    assert hub.commits_of("org/ncbi-disease", "dataset")[-1].message == "Upload dataset with gliner-biomed publish"


def test_datasets_push_uploads_the_built_folder_like_publish(hub, dataset_repo, tmp_path):
    publish_client(hub, ["datasets", "push", str(dataset_repo), "--repo", "org/ncbi-pushed"], tmp_path)
    assert hub.list_files("org/ncbi-pushed", "dataset") == sorted(staged_files(dataset_repo) + [".gitattributes"])
    assert hub.read_file("org/ncbi-pushed", "README.md", "dataset") == (dataset_repo / "README.md").read_bytes()
    assert hub.commits_of("org/ncbi-pushed", "dataset")[-1].message == "Upload dataset built by gliner-biomed"


def test_metric_upload_is_a_space(hub, tmp_path):
    stage = tmp_path / "stage"
    result = publish_client(hub, ["publish", "--metric", "--repo", "org/span_ner", "--stage-dir", str(stage)], tmp_path)
    assert "micro_f1_on_identical_spans': 1.0" in result.stderr
    repo = hub.get_repo("org/span_ner", "space")
    assert repo.sdk == "gradio"
    assert hub.list_files("org/span_ner", "space") == [".gitattributes", "README.md", "app.py", "requirements.txt", "span_ner.py"]


@pytest.mark.corpus("ncbi-disease", "bc5cdr", "biored")  # examples.json: an abstract of each
def test_space_upload_builds_the_app_and_names_its_model(hub, tmp_path):
    stage = tmp_path / "stage"
    args = ["publish", "--space", "--repo", "org/demo", "--model-repo", "Test model=org/gliner-biomed-test", "--stage-dir", str(stage)]
    result = publish_client(hub, args, tmp_path)
    assert "'endpoints': ['load_example', 'predict']" in result.stderr
    assert hub.list_files("org/demo", "space") == [".gitattributes", "README.md", "app.py", "examples.json", "requirements.txt", "space_config.json"]
    readme = hub.read_file("org/demo", "README.md", "space").decode()
    assert "models:\n- org/gliner-biomed-test\n" in readme and "sdk: gradio" in readme
    assert json.loads(hub.read_file("org/demo", "space_config.json", "space")) == {"models": {"Test model": "org/gliner-biomed-test"}}
    examples = json.loads(hub.read_file("org/demo", "examples.json", "space"))
    assert [e["source"] for e in examples] == ["ncbi-disease/test", "bc5cdr/test", "biored/test"] and all(e["text"] for e in examples)


# The two error paths publish the dataset: its validation takes 2 s, the metric's 10 s (a clean
# process importing evaluate); which kind fails does not matter to the message.
def test_no_token_is_a_clear_error_after_validation(hub, dataset_repo, tmp_path):
    failure = publish_client(hub, ["publish", "--dataset", str(dataset_repo), "--repo", "org/no-token", "--stage-dir", str(tmp_path / "s")],
                             tmp_path, extra_env={"HF_TOKEN": ""}, expect_ok=False)
    assert "validated:" in failure and "no Hugging Face token" in failure and "passed validation" in failure
    assert "Traceback" not in failure
    assert ("dataset", "org/no-token") not in hub.repos


def test_unreachable_hub_is_a_clear_error(hub, dataset_repo, tmp_path):
    failure = publish_client(hub, ["publish", "--dataset", str(dataset_repo), "--repo", "org/x", "--stage-dir", str(tmp_path / "s")], tmp_path,
                             extra_env={"HF_ENDPOINT": "http://127.0.0.1:9"}, expect_ok=False)
    assert "upload of" in failure and "http://127.0.0.1:9 failed" in failure and "Traceback" not in failure


def test_broken_model_folder_fails_validation(publish_model, tmp_path, capsys):
    broken = shutil.copytree(publish_model, tmp_path / "broken")
    (broken / "modeling_gliner.py").write_text("raise ImportError('deliberately broken remote code')\n")
    assert main(["publish", "--model", str(broken), "--repo", "org/broken", "--dry-run", "--stage-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "does not load offline" in err and "deliberately broken remote code" in err


def test_bad_sources_are_named(tmp_path, capsys):
    assert main(["publish", "--dataset", str(tmp_path), "--repo", "org/x", "--dry-run"]) == 2
    assert f"{tmp_path}: missing README.md, data" in capsys.readouterr().err
    assert main(["publish", "--space", "--repo", "org/x", "--dry-run", "--stage-dir", str(tmp_path / "s")]) == 2
    assert "needs at least one model repo (--model-repo" in capsys.readouterr().err


def test_space_without_default_model_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import gliner_biomed.models

    # A checkout ships a default model; an installation without one must say what to pass.
    monkeypatch.setattr(gliner_biomed.models, "DEFAULT_MODEL_DIR", tmp_path / "no-default-model")
    assert main(["space", "--port", "7999"]) == 2
    error = capsys.readouterr().err
    assert "gliner-biomed space: error: no --model given and no default model" in error and "Traceback" not in error
