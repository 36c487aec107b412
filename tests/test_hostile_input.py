"""What a careless or hostile user does to the CLI (issue 16): every case ends in one line naming
what is at fault, the right exit status, and no file that blocks or spoils the next run."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest

from model_factory import build_converted_model

from gliner_biomed.cli import main
from gliner_biomed.errors import BadInputError, InternalError, OutputBusyError
from gliner_biomed.output_lock import lock_path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_converted_model(tmp_path_factory.mktemp("hostile"), "uni", "minilm")


def _docs(path, count=5):
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"Cystic fibrosis case {i}."}) + "\n" for i in range(count)))
    return path


def _one_line_error(err: str, command: str) -> str:
    """The one line of an error on stderr (progress bars aside)."""
    lines = [line for line in re.split(r"[\r\n]", err) if line.strip() and not re.search(r"\d+%\|", line)]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"gliner-biomed {command}: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- one error path ----------------------------------------------------------------------------

def test_internal_failures_exit_1_bad_input_2_and_debug_shows_the_traceback(monkeypatch, capsys):
    from gliner_biomed import convert as convert_module  # the command imports it when it runs

    def broken(*_args, **_kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(convert_module, "convert_checkpoint", broken)
    assert main(["convert", "a", "b"]) == 1
    line = _one_line_error(capsys.readouterr().err, "convert")
    assert "internal error (KeyError)" in line and "--debug" in line
    with pytest.raises(KeyError):
        main(["convert", "a", "b", "--debug"])
    monkeypatch.setenv("GLINER_BIOMED_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["convert", "a", "b"])


def test_error_classes_carry_their_exit_status():
    assert BadInputError("x").exit_code == 2 and InternalError("x").exit_code == 1
    assert isinstance(OutputBusyError("x"), ValueError)  # library callers catching ValueError keep working


def test_a_huge_message_is_cut_with_a_note(monkeypatch, capsys):
    from gliner_biomed import convert as convert_module  # the command imports it when it runs

    def refuse(*_args, **_kwargs):
        raise BadInputError("label " + "x" * 10_000 + " is too long")

    monkeypatch.setattr(convert_module, "convert_checkpoint", refuse)
    assert main(["convert", "a", "b"]) == 2
    line = _one_line_error(capsys.readouterr().err, "convert")
    assert len(line) < 2200 and "more characters)" in line


def test_bad_verbosity_environment_is_named(monkeypatch, capsys):
    monkeypatch.setenv("GLINER_BIOMED_VERBOSITY", "loud")
    assert main(["predict-merge", "--shards-of", "x", "--out", "y"]) == 2
    assert "GLINER_BIOMED_VERBOSITY='loud'" in capsys.readouterr().err


# -- finding 3, CLI side: bytes that are not UTF-8 ------------------------------------------------

def test_argument_that_is_not_utf8_is_named():
    result = subprocess.run([sys.executable, "-m", "gliner_biomed.cli", "predict", "--labels", "disease", b"caf\xe9 fibrosis"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    line = _one_line_error(result.stderr, "predict")
    assert "argument 4" in line and "caf\\xe9 fibrosis" in line and "not valid UTF-8" in line


def test_standard_input_that_is_not_utf8_names_the_line(monkeypatch, capsys, model_dir):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"fine line\ncaf\xe9 fibrosis\n"), encoding="latin-1"))
    assert main(["predict", "--model", str(model_dir), "--labels", "disease", "-"]) == 2
    line = _one_line_error(capsys.readouterr().err, "predict")
    assert "<stdin>:2: not UTF-8" in line


# -- findings 1 and 8: concurrent runs and rejected runs -------------------------------------------

def test_second_run_on_the_same_output_is_refused_and_leaves_the_first_runs_files(model_dir, tmp_path, capsys):
    docs, out = _docs(tmp_path / "docs.jsonl"), tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"id": "d0", "entities": []}\n')
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"  # the first run, still going
        assert main(["predict", "--model", str(model_dir), "--labels", "disease", "--input", str(docs), "--output", str(out), "--no-progress"]) == 2
        line = _one_line_error(capsys.readouterr().err, "predict")
        assert f"pid {holder.pid}" in line and str(out) in line
        after = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path != lock_path(out)}
        assert after == before
    finally:
        holder.communicate("")
    assert not lock_path(out).exists()


# Takes the lock of argv[1] in another process and holds it until its stdin closes.
HOLD_LOCK = """
import sys
from gliner_biomed.output_lock import exclusive_output
with exclusive_output(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_lock_left_by_a_dead_process_is_not_in_the_way(model_dir, tmp_path, capsys):
    docs, out = _docs(tmp_path / "docs.jsonl"), tmp_path / "out.jsonl"
    lock_path(out).write_text("999999999\n")  # a killed run's leftover: no process holds it
    assert main(["predict", "--model", str(model_dir), "--labels", "disease", "--input", str(docs), "--output", str(out), "--no-progress"]) == 0
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == [f"d{i}" for i in range(5)]
    assert not lock_path(out).exists()


def test_two_concurrent_processes_write_every_record_once(model_dir, tmp_path):
    docs, out = _docs(tmp_path / "docs.jsonl", 40), tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "gliner_biomed.cli", "predict", "--model", str(model_dir), "--labels", "disease",
               "--input", str(docs), "--output", str(out), "--no-progress", "--chunk-size", "4"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # the second either waited for nothing (first had finished) or was refused
    for code, err in results:
        if code == 2:
            assert "another run" in _one_line_error(err, "predict")
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"d{i}" for i in range(40))


@pytest.mark.parametrize("threshold", ["nan", "inf", "-0.1", "1.5"])
def test_rejected_threshold_leaves_nothing_behind(model_dir, tmp_path, capsys, threshold):
    docs, out = _docs(tmp_path / "docs.jsonl"), tmp_path / "out.jsonl"
    base = ["predict", "--model", str(model_dir), "--labels", "disease", "--input", str(docs), "--output", str(out), "--no-progress"]
    assert main(base + [f"--threshold={threshold}"]) == 2
    assert "--threshold must be a number in [0, 1)" in _one_line_error(capsys.readouterr().err, "predict")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["docs.jsonl"]
    assert main(base + ["--threshold=0.5"]) == 0


def test_settings_file_with_a_non_json_token_is_named(model_dir, tmp_path, capsys):
    docs, out = _docs(tmp_path / "docs.jsonl"), tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_text("")
    settings = tmp_path / "out.jsonl.settings.json"
    settings.write_text('{"threshold": NaN}\n')
    assert main(["predict", "--model", str(model_dir), "--labels", "disease", "--input", str(docs), "--output", str(out)]) == 2
    assert f"{settings}: not valid JSON (NaN is not JSON)" in _one_line_error(capsys.readouterr().err, "predict")


def test_bad_parquet_input_names_the_file(model_dir, tmp_path, capsys):
    bad = tmp_path / "docs.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    assert main(["predict", "--model", str(model_dir), "--labels", "disease", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert str(bad) in _one_line_error(capsys.readouterr().err, "predict")


def _unwritable_folder(tmp_path):
    """A folder this process cannot create files in: a read-only one, or /sys for root (which
    writes through file modes)."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    try:
        with open("/sys/gliner-biomed-probe", "x"):
            pass
    except OSError:
        return "/sys"
    os.unlink("/sys/gliner-biomed-probe")
    pytest.skip("no folder here that root cannot write to")


def test_output_in_an_unwritable_folder_is_one_line(model_dir, tmp_path, capsys):
    docs = _docs(tmp_path / "docs.jsonl")
    folder = _unwritable_folder(tmp_path)
    assert main(["predict", "--model", str(model_dir), "--labels", "disease", "--input", str(docs), "--output", f"{folder}/o.jsonl"]) == 2
    line = _one_line_error(capsys.readouterr().err, "predict")
    assert f"{folder}/o.jsonl" in line and ("Permission denied" in line or "Read-only" in line)


# -- finding 7: model folders -----------------------------------------------------------------------

def _evil_pickle(path):
    """A torch zip checkpoint whose pickle calls os.system when unpickled without weights_only."""
    import pickle
    import zipfile

    import torch

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {path}.pwned",))

    torch.save({"x": torch.zeros(1)}, path)
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for name, data in members.items():
            out.writestr(name, pickle.dumps(Evil(), protocol=2) if name.endswith("data.pkl") else data)


def _damaged(model_dir, tmp_path, damage):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    damage(folder)
    return folder


def _cut_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("case, damage, named", [
    ("truncated safetensors", lambda f: _cut_in_half(f / "model.safetensors"), "model.safetensors: not a whole safetensors file"),
    ("no weights", lambda f: (f / "model.safetensors").unlink(), "model: no weights (model.safetensors"),
    ("config not JSON", lambda f: (f / "config.json").write_text('{"model_type": '), "config.json:1: not valid JSON"),
    ("truncated tokenizer", lambda f: _cut_in_half(f / "tokenizer.json"), "tokenizer.json:"),
    ("malicious pickle", lambda f: ((f / "model.safetensors").unlink(), _evil_pickle(f / "pytorch_model.bin")),
     "pytorch_model.bin: refused"),
])
def test_a_damaged_model_folder_is_named_in_one_line(model_dir, tmp_path, capsys, case, damage, named):
    folder = _damaged(model_dir, tmp_path, damage)
    assert main(["predict", "--model", str(folder), "--labels", "disease", "some text"]) == 2, case
    line = _one_line_error(capsys.readouterr().err, "predict")
    assert named in line, line
    assert "weights_only=False" not in line
    assert not list(folder.glob("*.pwned"))


def test_a_missing_model_folder_is_named(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "nope"), "--labels", "disease", "x"]) == 2
    line = _one_line_error(capsys.readouterr().err, "predict")
    assert f"--model {tmp_path / 'nope'}: no such folder" in line and "Repo id" not in line


# -- finding 2: publish stages an allow-list --------------------------------------------------------

def _plant_secrets(folder, outside):
    (folder / ".env").write_text("HF_TOKEN=hf_secret\n")
    (folder / ".huggingface").mkdir()
    (folder / ".huggingface" / "token").write_text("hf_secret\n")
    (folder / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (folder / "server.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (folder / "credentials.json").write_text('{"secret": 1}\n')
    (folder / "notes.docx").write_bytes(b"stray")
    outside.mkdir(exist_ok=True)
    (outside / "passwd.txt").write_text("outside content\n")
    (folder / "linked.txt").symlink_to(outside / "passwd.txt")
    (folder / "linked_dir").symlink_to(outside, target_is_directory=True)
    return {".env", ".huggingface/", "id_rsa", "server.pem", "credentials.json", "notes.docx", "linked.txt", "linked_dir/"}


def _assert_refused(staged, planted):
    files = staged.files()
    for name in planted:
        assert not any(path == name.rstrip("/") or path.startswith(name) for path in files), (name, files)
    note = "\n".join(staged.notes)
    for name in planted:
        assert name in note, (name, note)
    for path in staged.folder.rglob("*"):
        assert not path.is_symlink()
        if path.is_file():
            assert b"outside content" not in path.read_bytes() and b"hf_secret" not in path.read_bytes()


def test_publish_model_stages_no_secret_dotfile_or_symlink(model_dir, tmp_path):
    import shutil

    from gliner_biomed.publishing.model_card import ModelCardOptions
    from gliner_biomed.publishing.staging import stage_model

    source = tmp_path / "model"
    shutil.copytree(model_dir, source)
    planted = _plant_secrets(source, tmp_path / "outside")
    staged = stage_model(source, tmp_path / "staged", ModelCardOptions(repo_id="org/name"))
    _assert_refused(staged, planted)
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(staged.files())


def _tiny_dataset(folder):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a"]}), folder / "data" / "train-00000-of-00001.parquet")
    (folder / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n# tiny\n")
    return folder


def test_publish_dataset_and_datasets_push_refuse_secrets(tmp_path, capsys):
    from gliner_biomed.publishing.staging import built_dataset, check_uploadable_in_place, stage_dataset

    source = _tiny_dataset(tmp_path / "dataset")
    planted = _plant_secrets(source, tmp_path / "outside")
    staged = stage_dataset(source, tmp_path / "staged")
    _assert_refused(staged, planted)
    assert staged.files() == ["README.md", "data/train-00000-of-00001.parquet"]
    with pytest.raises(BadInputError, match=r"not staged from .*\.env \(hidden file\).*id_rsa \(looks like a key"):
        check_uploadable_in_place(built_dataset(source))
    assert main(["datasets", "push", str(source), "--repo", "org/name", "--token", "hf_x"]) == 2
    err = capsys.readouterr().err
    assert "--token is deprecated" in err
    assert "linked_dir/ (symlink)" in _one_line_error(err.split("\n", 1)[1], "datasets")


# -- findings 4 and 7: corpus files ----------------------------------------------------------------

PUBTATOR = ("1|t|Cystic fibrosis\n1|a|A case of cystic fibrosis.\n1\t0\t15\tCystic fibrosis\tDisease\n\n"
            "2|t|Asthma\n2|a|Asthma in children.\n2\t0\t6\tAsthma\tDisease\n2\t7\t13\tAsthma\tDisease\n")


def test_pubtator_cut_inside_its_last_document_is_named(tmp_path):
    from gliner_biomed.dataset_builders.readers import ReadOptions, read_pubtator
    from gliner_biomed.dataset_builders.records import CorpusFormatError
    from gliner_biomed.dataset_builders.report import IssueLog

    whole = tmp_path / "whole.PubTator"
    whole.write_text(PUBTATOR)
    assert [len(document.entities) for document in read_pubtator(whole)] == [1, 2]  # no blank line at the end is fine
    cut = tmp_path / "cut.PubTator"
    cut.write_text(PUBTATOR[:-5])  # inside the type of the last annotation: "Dis"
    with pytest.raises(CorpusFormatError, match=r"cut\.PubTator, line 8, document 2: the file ends in the middle of this line"):
        list(read_pubtator(cut))
    log = IssueLog()
    lenient = list(read_pubtator(cut, ReadOptions(lenient=True), log))
    assert [document.document_id for document in lenient] == ["1"]  # the cut document is dropped, and reported
    assert [issue.detail for issue in log.of_kind("record_skipped")][-1].startswith("the file ends in the middle of this line")


def test_latin1_byte_in_a_corpus_file_names_file_and_line(tmp_path):
    from gliner_biomed.dataset_builders.readers import read_conll, read_pubtator

    pubtator = tmp_path / "latin1.PubTator"
    pubtator.write_bytes(PUBTATOR.replace("children", "ni\xf1os").encode("latin-1"))
    with pytest.raises(BadInputError, match=rf"{re.escape(str(pubtator))}:6: not UTF-8"):
        list(read_pubtator(pubtator))
    conll = tmp_path / "train.tsv"
    conll.write_bytes("Caf\xe9\tO\n".encode("latin-1"))
    with pytest.raises(BadInputError, match=rf"{re.escape(str(conll))}:1: not UTF-8"):
        list(read_conll(conll))


# -- findings 5, 6 and 7: training options ---------------------------------------------------------

def _train(tmp_path, *extra):
    from model_factory import minilm_dir

    return main(["train", "--encoder", str(minilm_dir()), "--data", "ncbi-disease:train#4", "--output-dir", str(tmp_path / "run"),
                 "--max-steps", "1", *map(str, extra)])


@pytest.mark.parametrize("extra, named", [
    (["--lr-encoder=-1e-4"], "--lr-encoder (lr_encoder) must be a finite number > 0, got -0.0001"),
    (["--lr-heads", "0"], "--lr-heads (lr_heads) must be a finite number > 0, got 0.0"),
    (["--lr-heads", "nan"], "--lr-heads (lr_heads) must be a finite number > 0, got nan"),
    (["--dropout", "1.5"], "--dropout (dropout) must be a finite number >= 0 and < 1"),
    (["--eval-threshold", "inf"], "--eval-threshold (eval_threshold) must be a number in [0, 1)"),
])
def test_invalid_training_values_are_named(tmp_path, capsys, extra, named):
    assert _train(tmp_path, *extra) == 2
    assert named in _one_line_error(capsys.readouterr().err, "train")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("yaml_text, named", [
    ("lr_encoder: [1\nmax_steps: 3\n", "bad.yaml:2: not valid YAML"),
    ("max_steps: ten\n", "bad.yaml: max_steps must be int, got str 'ten'"),
    ("data: bc5cdr:train\n", "bad.yaml: data must be a list of str"),
    ("lr_heads: -1e-5\n", "--lr-heads (lr_heads) must be a finite number > 0, got -1e-05"),  # YAML 1.1 reads it as a string
])
def test_invalid_training_yaml_is_named(tmp_path, capsys, yaml_text, named):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text)
    assert _train(tmp_path, "--config", config) == 2
    assert named in _one_line_error(capsys.readouterr().err, "train")


def test_training_output_folder_states_are_one_line(tmp_path, capsys):
    from gliner_biomed.trainers.loop import CHECKPOINTS, STATE_FILE

    assert _train(tmp_path, "--resume") == 2
    assert "--resume: no complete checkpoint in" in _one_line_error(capsys.readouterr().err, "train")
    checkpoint = tmp_path / "run" / CHECKPOINTS / "step-1"
    checkpoint.mkdir(parents=True)
    (checkpoint / STATE_FILE).write_text(json.dumps({"step": 1, "config": {"seed": 1, "lr_encoder": 1e-5}}))
    assert _train(tmp_path) == 2
    assert "already has checkpoints: pass --resume" in _one_line_error(capsys.readouterr().err, "train")
    assert _train(tmp_path, "--resume", "--seed", "3") == 2
    line = _one_line_error(capsys.readouterr().err, "train")
    assert "was trained with other settings" in line and "seed: 1 there, 3 here" in line


@pytest.mark.corpus("ncbi-disease")
def test_datasets_build_into_an_unwritable_folder_is_one_line(tmp_path, capsys, corpora_dir):
    folder = _unwritable_folder(tmp_path)
    assert main(["datasets", "build", "ncbi-disease", "--out", f"{folder}/ncbi", "--corpora-dir", str(corpora_dir)]) == 2
    line = _one_line_error(capsys.readouterr().err, "datasets")
    assert str(folder) in line and ("not permitted" in line or "denied" in line or "Read-only" in line)
