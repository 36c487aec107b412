"""Validation of a staged repo the way its users will load it: in a fresh interpreter, offline,
with this project's package made unimportable (the Hub copy must stand on its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from typing import Dict

from ..errors import BadInputError
from .staging import StagedRepo

VALIDATION_TIMEOUT_S = 600

# Prepended to every check: `import gliner_biomed` fails, as on a machine that only has the repo.
_WITHOUT_PROJECT = "import sys\nsys.modules['gliner_biomed'] = None\n"

_MODEL_CHECK = """
import json, sys
from transformers import AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)
text = "Mutations in the BRCA1 gene cause hereditary breast cancer; tamoxifen lowers the risk."
entities = model.predict_entities(text, ["gene", "disease", "chemical"], threshold=0.0)
for entity in entities:
    assert text[entity["start"]:entity["end"]] == entity["text"], entity
print(json.dumps({"class": type(model).__name__, "module": type(model).__module__,
                  "parameters": sum(p.numel() for p in model.parameters()), "entities_at_threshold_0": len(entities)}))
"""

_DATASET_CHECK = """
import json, sys
from datasets import load_dataset
dataset = load_dataset(sys.argv[1])
report = {}
for split, rows in dataset.items():
    assert rows.num_rows > 0, f"split {split} is empty"
    for column in ("text", "entities"):
        assert column in rows.column_names, f"split {split} has no {column!r} column: {rows.column_names}"
    checked = 0
    for row in rows.select(range(min(rows.num_rows, 200))):
        for entity in row["entities"]:
            assert row["text"][entity["start"]:entity["end"]] == entity["mention"], (split, row["id"], entity)
            checked += 1
    report[split] = {"rows": rows.num_rows, "mentions_checked": checked}
print(json.dumps(report))
"""

# Both Space kinds: the README header names the gradio app and pins the installed gradio.
_GRADIO_HEADER_CHECK = """
import importlib.util, json, sys
from pathlib import Path
import yaml
folder = Path(sys.argv[1])
header = yaml.safe_load((folder / "README.md").read_text(encoding="utf-8").split("---")[1])
assert header.get("sdk") == "gradio", header
assert (folder / header["app_file"]).is_file(), header["app_file"]
import gradio
assert str(header["sdk_version"]) == gradio.__version__, (header["sdk_version"], gradio.__version__)
spec = importlib.util.spec_from_file_location("space_app", folder / header["app_file"])
app = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = app  # dataclasses look their module up
spec.loader.exec_module(app)
"""

_METRIC_CHECK = _GRADIO_HEADER_CHECK + """
import evaluate
script = next(path for path in folder.glob("*.py") if path.name != header["app_file"])
module = evaluate.load(str(script))
spans = [[{"start": 0, "end": 7, "label": "disease"}], [{"start": 3, "end": 9, "label": "gene"}]]
scores = module.compute(predictions=spans, references=spans)
assert scores["micro_f1"] == 1.0, scores
demo = app.build_demo(module)
assert isinstance(demo, gradio.Blocks), type(demo)
endpoints = [dependency.get("api_name") for dependency in demo.config["dependencies"]]
assert "compute" in endpoints, endpoints
served = app.score(module, json.dumps(spans), json.dumps(spans), 0)
assert served["micro_f1"] == 1.0, served
print(json.dumps({"module": module.name, "micro_f1_on_identical_spans": scores["micro_f1"], "endpoints": ["compute"]}))
"""

_SPACE_CHECK = _GRADIO_HEADER_CHECK + """
models = app.configured_models()
assert set(models.values()) <= set(header.get("models") or []), (models, header.get("models"))
demo = app.build_demo(app.ModelRegistry(models), app.load_examples())
assert isinstance(demo, gradio.Blocks), type(demo)
endpoints = [dependency.get("api_name") for dependency in demo.config["dependencies"]]
assert "predict" in endpoints, endpoints
print(json.dumps({"models": models, "examples": len(app.load_examples()), "endpoints": [e for e in endpoints if e and e != "false"]}))
"""

CHECKS = {"model": _MODEL_CHECK, "dataset": _DATASET_CHECK, "metric": _METRIC_CHECK, "space": _SPACE_CHECK}


class ValidationError(BadInputError):
    """The staged folder does not load as its users would load it."""


def offline_env(home: str) -> Dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_HOME=home,
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ appears in the staged folder
    )
    return env


def validate(staged: StagedRepo, timeout: float = VALIDATION_TIMEOUT_S) -> Dict:
    """Runs the check of the staged repo's kind; returns what it printed (a JSON summary)."""
    script = _WITHOUT_PROJECT + textwrap.dedent(CHECKS[staged.kind.name])
    before = set(staged.files())
    with tempfile.TemporaryDirectory(prefix="gliner_biomed_validate_") as home:
        try:
            result = subprocess.run(
                [sys.executable, "-c", script, str(staged.folder)],
                cwd=home, env=offline_env(home), stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ValidationError(f"{staged.kind.name} check of {staged.folder} did not finish in {timeout:.0f} s") from None
    if result.returncode != 0:
        last_lines = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise ValidationError(f"the staged {staged.kind.name} folder {staged.folder} does not load offline:\n{last_lines}")
    after = set(staged.files())
    if after != before:
        raise ValidationError(f"loading {staged.folder} wrote into it: {sorted(after - before)}")
    return json.loads(result.stdout.strip().splitlines()[-1])
