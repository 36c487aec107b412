"""GLiNER-biomed demo Space: paste a biomedical text, name entity types, see the mentions.

The same file runs on Hugging Face Spaces and locally (`gliner-biomed space` or
`python spaces/gliner-biomed/app.py --model DIR`). It needs only gradio, torch and transformers:
the models are GLiNER-biomed model repos whose modeling code travels with them
(AutoModel + trust_remote_code). When the gliner-biomed package is installed it is used instead
(it also loads the shipped default model, an adapter package).

Which models it offers, in order:
  1. `--model` paths/repo ids given on the command line (local runs);
  2. `space_config.json` beside this file (written by `gliner-biomed publish --space`);
  3. the embedded default model of the installed gliner-biomed package.
Example abstracts come from `examples.json` beside this file (written at publish time) or, in a
checkout, straight from the real corpora (they are never copied into the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# Before gradio is imported: no analytics calls (the demo must run offline).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

APP_DIR = Path(__file__).resolve().parent
SPACE_CONFIG_FILE = "space_config.json"
EXAMPLES_FILE = "examples.json"
DEFAULT_MODEL_NAME = "gliner-biomed default (embedded)"
DEFAULT_THRESHOLD = 0.5
# Longer inputs are refused with a message: windowed inference handles any length, but a shared
# CPU Space should not spend minutes on one request.
DEFAULT_MAX_CHARACTERS = 100_000
MAX_LABELS = 25  # the models' max_types
# JSON downloads: gradio copies each returned file into its own cache, so only the latest few are
# kept here; gradio deletes its copies older than CACHE_MAX_AGE_S (checked every CACHE_SWEEP_S).
KEPT_DOWNLOADS = 16
CACHE_SWEEP_S, CACHE_MAX_AGE_S = 600, 3600

# Entity-type presets (natural-language labels, as the models were trained with).
PRESETS: Dict[str, List[str]] = {
    "Diseases and chemicals (BC5CDR)": ["disease", "chemical"],
    "BioRED (6 types)": ["gene or gene product", "disease", "chemical", "species", "sequence variant", "cell line"],
    "Genes and proteins": ["gene or gene product", "protein", "protein family"],
    "Mutations (tmVar)": ["protein mutation", "DNA mutation", "SNP", "gene", "disease"],
    "Anatomy and cells": ["anatomical structure", "cell type", "tissue", "organ"],
    "Clinical": ["disease", "symptom", "drug", "dosage", "procedure"],
}
DEFAULT_PRESET = "Diseases and chemicals (BC5CDR)"

# System fonts only: the default theme fetches web fonts, which an offline machine cannot.
THEME_FONTS = dict(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


class InputError(ValueError):
    """A problem with what the user entered; shown in the UI as is."""


@dataclass
class ModelRegistry:
    """Display name -> model folder or Hub repo id; models are loaded on first use and kept."""

    sources: Dict[str, str]
    loader: Optional[Callable[[str], object]] = None
    _loaded: Dict[str, object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def names(self) -> List[str]:
        return list(self.sources)

    def get(self, name: str):
        if name not in self.sources:
            raise InputError(f"unknown model {name!r}; choose one of {self.names}")
        with self._lock:  # two first requests must not load the same model twice
            if name not in self._loaded:
                self._loaded[name] = (self.loader or load_model_source)(self.sources[name])
            return self._loaded[name]


def load_model_source(source: str):
    """A model folder or Hub repo id, with gliner-biomed when installed, else with its remote code."""
    try:
        from gliner_biomed.models import load_model
    except ImportError:
        from transformers import AutoModel

        return AutoModel.from_pretrained(source, trust_remote_code=True).eval()
    return load_model(source)


def configured_models(cli_models: Sequence[str] = ()) -> Dict[str, str]:
    """The models this app offers (see the module docstring for the order of sources)."""
    if cli_models:
        return {_display_name(source): source for source in cli_models}
    config_path = APP_DIR / SPACE_CONFIG_FILE
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        models = config.get("models")
        if not isinstance(models, dict) or not models:
            raise ValueError(f"{config_path}: 'models' must be a non-empty mapping of display name -> repo id")
        return {str(name): str(source) for name, source in models.items()}
    from gliner_biomed.models import resolve_model_path  # raises ModelNotFoundError with advice

    return {DEFAULT_MODEL_NAME: resolve_model_path(None)}


def _display_name(source: str) -> str:
    path = Path(source)
    if path.exists():
        return path.resolve().name if path.name not in ("converted", "best", "") else f"{path.parent.name}/{path.name}"
    return source


def load_examples() -> List[Dict]:
    """[{source, id, text, labels}]: examples.json beside the app, else read from the corpora."""
    path = APP_DIR / EXAMPLES_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    try:
        from gliner_biomed.publishing.space_examples import corpus_examples
    except ImportError:
        return []
    try:
        return corpus_examples()
    except FileNotFoundError as error:  # a checkout without ../shared/corpora: no examples, say why
        print(f"no example abstracts: {error}", file=sys.stderr)
        return []


# -------------------------------------------------------------------------------- prediction
def parse_labels(chips: Optional[Sequence[str]]) -> List[str]:
    """Chips as entered; a chip may itself be a comma-separated list. Order kept, duplicates dropped."""
    if isinstance(chips, str):
        chips = [chips]
    labels: List[str] = []
    for chip in chips or []:
        for label in str(chip).split(","):
            label = " ".join(label.split())
            if label and label not in labels:
                labels.append(label)
    if not labels:
        raise InputError("Enter at least one entity type (e.g. disease, chemical) or pick a preset.")
    if len(labels) > MAX_LABELS:
        raise InputError(f"{len(labels)} entity types given; the models take at most {MAX_LABELS} at once.")
    return labels


def check_text(text: Optional[str], max_characters: int) -> str:
    if text is None or not text.strip():
        raise InputError("The text is empty: paste an abstract or pick one of the examples.")
    if len(text) > max_characters:
        raise InputError(
            f"The text has {len(text):,} characters; this demo accepts at most {max_characters:,}. "
            "Split it, or run `gliner-biomed predict` locally for long documents."
        )
    return text


def highlighted(text: str, entities: List[Dict]) -> Dict:
    """HighlightedText value. Nested/multi-label output may overlap, which the component cannot
    draw; overlapping entities after the first (by start, longest first) are left to the table."""
    drawn, last_end = [], -1
    for entity in sorted(entities, key=lambda e: (e["start"], -e["end"])):
        if entity["start"] >= last_end:
            drawn.append({"entity": entity["label"], "start": entity["start"], "end": entity["end"]})
            last_end = entity["end"]
    return {"text": text, "entities": drawn}


TABLE_HEADERS = ["start", "end", "mention", "label", "score"]


def table_rows(entities: List[Dict]) -> List[List]:
    return [[e["start"], e["end"], e["text"], e["label"], round(float(e["score"]), 4)] for e in entities]


class DownloadFiles:
    """The JSON files offered for download: a private temporary folder (removed when the process
    ends) holding only the ``keep`` latest files, so a long-running Space does not fill its disk."""

    def __init__(self, keep: int = KEPT_DOWNLOADS):
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.keep = keep
        self._folder = tempfile.TemporaryDirectory(prefix="gliner_biomed_space_")
        self._written: deque = deque()
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return Path(self._folder.name)

    def write_json(self, result: Dict) -> str:
        descriptor, path = tempfile.mkstemp(prefix="entities-", suffix=".json", dir=self.folder)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False, indent=1)
        with self._lock:
            self._written.append(path)
            while len(self._written) > self.keep:
                Path(self._written.popleft()).unlink(missing_ok=True)
        return path


@dataclass
class Predictor:
    registry: ModelRegistry
    max_characters: int = DEFAULT_MAX_CHARACTERS
    downloads: DownloadFiles = field(default_factory=DownloadFiles)

    def predict(self, text, label_chips, threshold, nested, multi_label, model_name) -> Tuple[Dict, List[List], str, str]:
        """(highlighted text, mention rows, JSON file path, status line). Any failure becomes a
        gr.Error with a one-line message: the UI never shows a stack trace."""
        try:
            text = check_text(text, self.max_characters)
            labels = parse_labels(label_chips)
            threshold = float(threshold)
            if not 0.0 <= threshold < 1.0:
                raise InputError(f"The threshold must be in [0, 1), got {threshold}.")
            model = self.registry.get(model_name)
            started = time.perf_counter()
            # predict_entities windows texts longer than the model's max_len words (never truncates).
            entities = model.predict_entities(text, labels, threshold=threshold, flat_ner=not nested, multi_label=bool(multi_label))
            seconds = time.perf_counter() - started
        except InputError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception as error:  # a model that fails to load or run: say what, not where
            raise gr.Error(f"Prediction failed: {type(error).__name__}: {error}", print_exception=True) from None
        result = {
            "model": model_name,
            "labels": labels,
            "threshold": threshold,
            "flat_ner": not nested,
            "multi_label": bool(multi_label),
            "seconds": round(seconds, 4),
            "text": text,
            "entities": entities,
        }
        words = len(text.split())
        status = f"{len(entities)} entities · {words:,} words · {len(labels)} types · predicted in {seconds:.2f} s on {model_name}"
        return highlighted(text, entities), table_rows(entities), self.downloads.write_json(result), status


# --------------------------------------------------------------------------------------- UI
def build_demo(registry: ModelRegistry, examples: Sequence[Dict] = (), max_characters: int = DEFAULT_MAX_CHARACTERS) -> gr.Blocks:
    predictor = Predictor(registry, max_characters)
    with gr.Blocks(title="GLiNER-biomed", delete_cache=(CACHE_SWEEP_S, CACHE_MAX_AGE_S)) as demo:
        gr.Markdown(
            "# GLiNER-biomed: open biomedical NER\n"
            "Type any entity types (natural language) and find their mentions in a biomedical text. "
            "Long texts are processed in overlapping windows."
        )
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label="Text", lines=10, placeholder="Paste a PubMed abstract...", elem_id="input-text")
                labels = gr.Dropdown(
                    choices=sorted({label for preset in PRESETS.values() for label in preset}),
                    value=PRESETS[DEFAULT_PRESET],
                    multiselect=True,
                    allow_custom_value=True,
                    label="Entity types (type a label and press Enter; commas split)",
                    elem_id="entity-types",
                )
                preset = gr.Dropdown(choices=list(PRESETS), value=DEFAULT_PRESET, label="Preset", elem_id="preset")
            with gr.Column(scale=1):
                model = gr.Dropdown(choices=registry.names, value=registry.names[0] if registry.names else None, label="Model", elem_id="model")
                threshold = gr.Slider(0.0, 0.99, value=DEFAULT_THRESHOLD, step=0.01, label="Threshold", elem_id="threshold")
                nested = gr.Checkbox(value=False, label="Nested entities (flat_ner off)", elem_id="nested")
                multi_label = gr.Checkbox(value=False, label="Multi-label (several types per span)", elem_id="multi-label")
                submit = gr.Button("Find entities", variant="primary", elem_id="submit")
        status = gr.Markdown(elem_id="status")
        output = gr.HighlightedText(label="Entities", show_legend=True, combine_adjacent=False, elem_id="highlighted")
        table = gr.Dataframe(headers=TABLE_HEADERS, datatype=["number", "number", "str", "str", "number"],
                             label="Mentions (character offsets, end exclusive)", interactive=False, elem_id="mentions")
        download = gr.File(label="JSON", elem_id="download")
        if examples:
            gr.Examples(
                examples=[[example["text"], example["labels"]] for example in examples],
                example_labels=[f"{example['source']} {example['id']}" for example in examples],
                inputs=[text, labels],
                label="Abstracts from the test splits of real corpora",
            )
        preset.change(lambda name: gr.update(value=PRESETS[name]), inputs=preset, outputs=labels, api_name=False)
        inputs = [text, labels, threshold, nested, multi_label, model]
        outputs = [output, table, download, status]
        submit.click(predictor.predict, inputs=inputs, outputs=outputs, api_name="predict")
    return demo


def launch_kwargs() -> Dict:
    return dict(theme=gr.themes.Default(**THEME_FONTS))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="GLiNER-biomed demo", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="model folder or Hub repo id (repeat for a choice; default: space_config.json, else the embedded default model)")
    # None lets gradio's launch() read GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (its defaults:
    # 127.0.0.1, 7860); a flag given here wins over them.
    parser.add_argument("--host", default=None, help="address to listen on (0.0.0.0 to expose it); default: $GRADIO_SERVER_NAME, else 127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="port; default: $GRADIO_SERVER_PORT, else 7860")
    parser.add_argument("--max-characters", type=int, default=DEFAULT_MAX_CHARACTERS, help="longest text accepted")
    args = parser.parse_args(argv)
    try:
        registry = ModelRegistry(configured_models(args.model))
        registry.get(registry.names[0])  # fail at start, not on the first click
    except Exception as error:
        print(f"gliner-biomed space: error: {error}", file=sys.stderr)
        return 2
    demo = build_demo(registry, load_examples(), args.max_characters)
    demo.queue().launch(server_name=args.host, server_port=args.port, **launch_kwargs())
    return 0


if __name__ == "__main__":
    if os.environ.get("SYSTEM") == "spaces":  # on Hugging Face Spaces: listen where the Space expects, unless it says otherwise
        os.environ.setdefault("GRADIO_SERVER_NAME", "0.0.0.0")
    sys.exit(main())
