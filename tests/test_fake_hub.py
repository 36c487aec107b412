"""The fake Hub works for real through huggingface_hub, transformers and datasets.

Every client step runs in its own subprocess with its own empty HF_HOME (run_client), so a
download can only succeed if the bytes went through the fake hub.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from fake_hub import FakeHub, git_blob_oid, run_client


@pytest.fixture(scope="module")
def hub():
    with FakeHub() as fake_hub:
        yield fake_hub


def _client(code: str, hub: FakeHub, **kwargs) -> subprocess.CompletedProcess:
    return run_client(textwrap.dedent(code), hub, **kwargs)


def _last_json_line(result: subprocess.CompletedProcess):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_upload_folder_then_snapshot_download_gives_identical_bytes(hub, tmp_path):
    folder = tmp_path / "upload"
    (folder / "nested" / "deeper").mkdir(parents=True)
    files = {
        "README.md": b"---\nlicense: mit\ntags:\n- test\n---\n# A repo\n",
        "config.json": json.dumps({"a": 1}).encode(),
        "nested/weights.bin": os.urandom(6 * 1024 * 1024),  # *.bin: LFS upload (.gitattributes pattern)
        "nested/blob.dat": os.urandom(6 * 1024 * 1024),  # several MB through the "regular" upload path
        "nested/deeper/empty.txt": b"",
        "nested/deeper/unicode name é.txt": "ünïcode".encode(),
    }
    for path, content in files.items():
        (folder / path).write_bytes(content)

    _client(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("org/folder", repo_type="dataset", exist_ok=True)
        api.create_repo("org/folder", repo_type="dataset", exist_ok=True)  # second call: 409 -> exist_ok
        api.upload_folder(folder_path={str(folder)!r}, repo_id="org/folder", repo_type="dataset",
                          commit_message="add files")
        """,
        hub,
    )
    commit = hub.commits_of("org/folder", "dataset")[-1]
    assert commit.message == "add files"
    assert sorted(commit.added) == sorted(files)
    assert hub.list_files("org/folder", "dataset") == sorted([".gitattributes", *files])
    assert hub.read_file("org/folder", "nested/weights.bin", "dataset") == files["nested/weights.bin"]
    assert hub.stored_file("org/folder", "nested/weights.bin", "dataset").lfs
    assert not hub.stored_file("org/folder", "nested/blob.dat", "dataset").lfs
    assert any(r.endswith(".git/info/lfs/objects/batch") for r in hub.requests)

    download = tmp_path / "download"
    result = _client(
        f"""
        import json
        from huggingface_hub import HfApi, hf_hub_download, snapshot_download
        api = HfApi()
        path = snapshot_download("org/folder", repo_type="dataset", local_dir={str(download)!r})
        info = api.dataset_info("org/folder", files_metadata=True)
        single = hf_hub_download("org/folder", "nested/deeper/unicode name é.txt", repo_type="dataset")
        print(json.dumps({{
            "sha": info.sha,
            "card": info.card_data.to_dict(),
            "blob_ids": {{s.rfilename: s.blob_id for s in info.siblings}},
            "single": open(single, encoding="utf-8").read(),
        }}))
        """,
        hub,
    )
    for path, content in files.items():
        assert (download / path).read_bytes() == content, path
    answer = _last_json_line(result)
    assert answer["sha"] == commit.sha
    assert answer["card"] == {"license": "mit", "tags": ["test"]}
    assert answer["blob_ids"]["config.json"] == git_blob_oid(files["config.json"])
    assert answer["single"] == "ünïcode"

    # Uploading the same folder again changes nothing, as on the Hub (preupload reports remote oids).
    _client(
        f"""
        from huggingface_hub import HfApi
        HfApi().upload_folder(folder_path={str(folder)!r}, repo_id="org/folder", repo_type="dataset")
        """,
        hub,
    )
    assert hub.commits_of("org/folder", "dataset")[-1].sha == commit.sha
    assert hub.unhandled == []


def test_tree_paths_info_range_and_missing_entries(hub):
    hub.create_repo("org/browse")
    _client(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.upload_file(path_or_fileobj=b"0123456789", path_in_repo="dir/digits.txt", repo_id="org/browse")
        api.upload_file(path_or_fileobj=b"top", path_in_repo="top.txt", repo_id="org/browse",
                        commit_message="second")
        """,
        hub,
    )
    result = _client(
        """
        import json
        from huggingface_hub import HfApi, HfFileSystem, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
        api = HfApi()
        fs = HfFileSystem()
        out = {
            "top": sorted(e.path for e in api.list_repo_tree("org/browse")),
            "dir": [e.path for e in api.list_repo_tree("org/browse", path_in_repo="dir")],
            "info": [type(e).__name__ for e in api.get_paths_info("org/browse", ["dir", "top.txt", "nope"])],
            "commits": [c.title for c in api.list_repo_commits("org/browse")],
            "branches": [b.name for b in api.list_repo_refs("org/browse").branches],
        }
        with fs.open("org/browse/dir/digits.txt", "rb", block_size=4) as f:
            f.seek(3)
            out["range"] = f.read(4).decode()
        out["glob"] = fs.glob("org/browse/**/*.txt")
        errors = []
        for call in (lambda: hf_hub_download("org/browse", "missing.txt"),
                     lambda: hf_hub_download("org/absent", "x.txt"),
                     lambda: api.model_info("org/browse", revision="no-such-branch")):
            try:
                call()
            except (EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError) as error:
                errors.append(type(error).__name__)
        out["errors"] = errors
        print(json.dumps(out))
        """,
        hub,
    )
    answer = _last_json_line(result)
    assert answer["top"] == [".gitattributes", "dir", "top.txt"]
    assert answer["dir"] == ["dir/digits.txt"]
    assert answer["info"] == ["RepoFolder", "RepoFile"]
    assert answer["commits"] == ["second", "Upload dir/digits.txt with huggingface_hub", "initial commit"]
    assert answer["branches"] == ["main"]
    assert answer["range"] == "3456"
    assert sorted(answer["glob"]) == ["org/browse/dir/digits.txt", "org/browse/top.txt"]
    assert answer["errors"] == ["RemoteEntryNotFoundError", "RepositoryNotFoundError", "RevisionNotFoundError"]
    assert hub.unhandled == []


def test_unknown_endpoint_is_recorded_and_answered_404(tmp_path):
    with FakeHub() as fresh_hub:
        result = _client(
            """
            import httpx, os
            r = httpx.get(os.environ["HF_ENDPOINT"] + "/api/not-a-real-endpoint")
            print(r.status_code, r.json()["error"])
            """,
            fresh_hub,
        )
        assert result.stdout.split()[0] == "404"
        assert "GET /api/not-a-real-endpoint" in result.stdout
        assert fresh_hub.unhandled == ["GET /api/not-a-real-endpoint"]


def test_run_client_failure_shows_output():
    with FakeHub() as fresh_hub:
        with pytest.raises(AssertionError, match="(?s)exit code 3.*to stderr"):
            run_client("import sys; print('to stderr', file=sys.stderr); sys.exit(3)", fresh_hub)


CUSTOM_MODEL_CODE = """
from transformers import BertConfig, BertModel


class TinyCustomConfig(BertConfig):
    model_type = "tiny-custom-bert"


class TinyCustomModel(BertModel):
    config_class = TinyCustomConfig
"""


@pytest.mark.slow  # test_modeling_behaviour::test_push_to_hub_round_trip pushes a real GLiNER model the same way
def test_transformers_push_to_hub_and_from_pretrained_round_trip(hub, tmp_path):
    """A remote-code model (the way the project publishes GLiNER models) and its tokenizer go up and come back."""
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "tiny_custom.py").write_text(CUSTOM_MODEL_CODE)
    model_dir = tmp_path / "tiny"
    pushed = _client(
        f"""
        import json, torch
        from transformers import BertTokenizer
        from tiny_custom import TinyCustomConfig, TinyCustomModel
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "brca", "##1", "gene", "is", "a"]
        tokenizer = BertTokenizer(vocab={{word: i for i, word in enumerate(vocab)}})
        tokenizer.push_to_hub("org/tiny", commit_message="tokenizer")
        TinyCustomConfig.register_for_auto_class()
        TinyCustomModel.register_for_auto_class("AutoModel")
        torch.manual_seed(0)
        config = TinyCustomConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                                  vocab_size=99)
        model = TinyCustomModel(config)
        model.save_pretrained({str(model_dir)!r})
        model.push_to_hub("org/tiny", commit_message="tiny bert")
        print(json.dumps(tokenizer("BRCA1 is a gene")["input_ids"]))
        """,
        hub,
        cwd=code_dir,  # the pushing process imports the model code from here; the pulling one cannot
    )
    commit = hub.commits_of("org/tiny")[-1]
    assert commit.message == "tiny bert"
    assert {"config.json", "model.safetensors", "tiny_custom.py"} <= set(commit.added)
    assert hub.stored_file("org/tiny", "model.safetensors").lfs

    pushed_ids = _last_json_line(pushed)
    assert pushed_ids == [2, 5, 6, 8, 9, 7, 3]  # no [UNK] (1): the vocabulary is really in use
    assert [c.message for c in hub.commits_of("org/tiny")] == ["initial commit", "tokenizer", "tiny bert"]

    pulled = _client(
        f"""
        import json, torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer
        model = AutoModel.from_pretrained("org/tiny", trust_remote_code=True)
        assert type(model).__name__ == "TinyCustomModel", type(model)
        assert type(model).__module__.startswith("transformers_modules."), type(model).__module__
        reference = load_file({str(model_dir / "model.safetensors")!r})
        state = model.state_dict()
        assert reference and set(reference) <= set(state), set(reference) - set(state)
        for name, tensor in reference.items():
            assert torch.equal(state[name], tensor), name
        tokenizer = AutoTokenizer.from_pretrained("org/tiny", trust_remote_code=True)
        print(json.dumps(tokenizer("BRCA1 is a gene")["input_ids"]))
        """,
        hub,
    )
    assert _last_json_line(pulled) == pushed_ids
    assert hub.unhandled == []


def test_datasets_push_to_hub_and_load_dataset_round_trip(hub):
    rows = {"text": ["BRCA1 is a gene", "aspirin", ""], "label": [1, 0, 2], "spans": [[0, 5], [], [1]]}
    _client(
        f"""
        import datasets
        datasets.Dataset.from_dict({rows!r}).push_to_hub("org/ds")
        """,
        hub,
    )
    files = hub.list_files("org/ds", "dataset")
    assert "README.md" in files
    assert any(f.endswith(".parquet") for f in files), files

    result = _client(
        """
        import json, datasets
        loaded = datasets.load_dataset("org/ds")
        print(json.dumps({"splits": sorted(loaded), "rows": loaded["train"].to_dict()}))
        """,
        hub,
    )
    answer = _last_json_line(result)
    assert answer["splits"] == ["train"]
    assert answer["rows"] == rows
    assert hub.unhandled == []


def test_client_env_points_at_the_hub(hub, tmp_path):
    result = _client(
        """
        import json, os
        from huggingface_hub import constants
        print(json.dumps([constants.ENDPOINT, constants.HF_HUB_DISABLE_XET, constants.HF_HUB_OFFLINE,
                          os.environ["HF_TOKEN"], constants.HF_HOME, os.environ["EXTRA_FLAG"], os.getcwd()]))
        """,
        hub,
        cwd=tmp_path,
        extra_env={"EXTRA_FLAG": "1"},
    )
    endpoint, no_xet, offline, token, hf_home, extra_flag, cwd = _last_json_line(result)
    assert (endpoint, no_xet, offline, token) == (hub.endpoint, True, False, hub.token)
    assert (extra_flag, cwd) == ("1", str(tmp_path))
    assert not os.path.exists(hf_home), "run_client must remove its temporary HF_HOME"
