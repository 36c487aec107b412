"""The `convert` and `predict` commands as a user runs them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from model_factory import NCBI_TEST, PARITY_LABELS, build_converted_model, minilm_dir, pubtator_texts, selective_threshold

from gliner_biomed import cli
from gliner_biomed.cli import main
from gliner_biomed.models import load_model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    converted = build_converted_model(root, "uni", "minilm")
    return root, converted


def test_help_lists_commands():
    result = subprocess.run([sys.executable, "-m", "gliner_biomed.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    listed = set(re.findall(r"^    (\S+)", result.stdout, flags=re.MULTILINE))
    assert listed == {
        "convert", "predict", "predict-merge", "datasets", "evaluate", "compare", "synth", "bench", "export-onnx",
        "train", "adapt", "few-shot-curve", "export-default", "publish", "space",
    }


def test_parser_imports_no_heavy_library():
    # Every command (and --help) builds the whole parser first: it must not wait for torch or
    # transformers (about 7 s here); the commands import them when they run.
    code = ("import sys; from gliner_biomed.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'evaluate', 'gradio', 'peft') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_command_module_that_fails_to_import_stops_the_cli(monkeypatch):
    # A broken install must fail loudly instead of quietly dropping a command group from --help.
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "gliner_biomed.no_such_commands"])
    with pytest.raises(ModuleNotFoundError, match="gliner_biomed.no_such_commands"):
        cli.build_parser()


def test_convert_with_null_encoder_config_needs_a_local_backbone_folder(built, tmp_path, capsys):
    root, converted = built
    source = tmp_path / "released-style"
    shutil.copytree(root / "reference", source)
    config = json.loads((source / "gliner_config.json").read_text())
    config["encoder_config"] = None  # as in older released checkpoints
    (source / "gliner_config.json").write_text(json.dumps(config))

    assert main(["convert", str(source), str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "encoder_config is null" in error and "--encoder-config" in error
    assert not (tmp_path / "out").exists()  # nothing half-written

    assert main(["convert", str(source), str(tmp_path / "out"), "--encoder-config", str(minilm_dir())]) == 0
    texts = pubtator_texts(NCBI_TEST)[:2]
    original, again = load_model(str(converted)), load_model(str(tmp_path / "out"))
    threshold = selective_threshold(original, texts, PARITY_LABELS)
    assert again.inference(texts, PARITY_LABELS, threshold=threshold) == original.inference(texts, PARITY_LABELS, threshold=threshold)


def test_convert_rejects_what_it_cannot_convert(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["convert", str(tmp_path / "empty"), str(tmp_path / "out")]) == 2
    assert "no gliner_config.json" in capsys.readouterr().err


def test_predict_text_stdin_and_jsonl(built, tmp_path, capsys, monkeypatch):
    _, converted = built
    texts = pubtator_texts(NCBI_TEST)[:5]
    model = load_model(str(converted))
    threshold = selective_threshold(model, texts[:2], PARITY_LABELS)
    labels = ",".join(PARITY_LABELS)
    capsys.readouterr()  # loading the model here showed its loading bar

    assert main(["predict", "--model", str(converted), "--labels", labels, "--threshold", str(threshold), texts[1]]) == 0
    output = capsys.readouterr()
    assert output.err == ""  # one text: no loading bars, nothing but the entities
    printed = [json.loads(line) for line in output.out.splitlines()]
    assert printed == model.predict_entities(texts[1], PARITY_LABELS, threshold=threshold)

    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(texts[1]))
    assert main(["predict", "--model", str(converted), "--labels", labels, "--threshold", str(threshold), "-"]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == printed

    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": t, "source": "ncbi"}) + "\n" for i, t in enumerate(texts)))
    out = tmp_path / "out.jsonl"
    args = ["predict", "--model", str(converted), "--labels", labels, "--threshold", str(threshold)]
    assert main(args + ["--input", str(docs), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"d{i}" for i in range(5)] and all(row["source"] == "ncbi" for row in rows)
    assert [row["entities"] for row in rows] == model.inference(texts, PARITY_LABELS, threshold=threshold)
    for row in rows:
        for entity in row["entities"]:
            assert row["text"][entity["start"] : entity["end"]] == entity["text"]


def test_predict_bad_input_names_file_and_line(built, tmp_path, capsys):
    _, converted = built
    docs = tmp_path / "bad.jsonl"
    docs.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "txt": "typo"}\n')
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(converted), "--labels", "disease", "--input", str(docs), "--output", str(out)]) == 2
    assert f"{docs}:2: field 'text' is missing" in capsys.readouterr().err
    assert not out.exists()
    assert main(["predict", "--model", str(converted), "--labels", " , ", "text"]) == 2
    assert "--labels" in capsys.readouterr().err
