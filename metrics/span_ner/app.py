"""Entry point of the Hub metric Space: a form around this module (predictions and references as
JSON, scores as JSON). evaluate's own `launch_gradio_widget` builds its form from `gr.inputs`,
which gradio 4 removed, so it cannot run on the gradio of this Space's sdk_version."""

from __future__ import annotations

import json
import os
from pathlib import Path

# Before gradio is imported: no analytics calls (the validation before upload runs offline).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import evaluate  # noqa: E402
import gradio as gr  # noqa: E402

APP_DIR = Path(__file__).resolve().parent
EXAMPLE_PREDICTIONS = '[[{"start": 0, "end": 7, "label": "disease"}]]'
EXAMPLE_REFERENCES = '[[{"start": 0, "end": 7, "label": "disease"}, {"start": 12, "end": 19, "label": "chemical"}]]'


def card_body() -> str:
    """The metric card without its YAML header, shown under the form."""
    text = (APP_DIR / "README.md").read_text(encoding="utf-8")
    return text.split("---", 2)[2] if text.startswith("---") else text


def _documents(value: str, argument: str):
    try:
        documents = json.loads(value)
    except json.JSONDecodeError as error:
        raise gr.Error(f"{argument}: not JSON ({error})") from error
    return documents


def score(module, predictions: str, references: str, bootstrap_samples: float) -> dict:
    """The module's scores for the JSON texts; bad input becomes a message in the page."""
    try:
        return module.compute(
            predictions=_documents(predictions, "predictions"),
            references=_documents(references, "references"),
            bootstrap_samples=int(bootstrap_samples or 0),
        )
    except (ValueError, TypeError, KeyError) as error:  # the module names the document and span
        raise gr.Error(str(error)) from error


def build_demo(module=None) -> gr.Blocks:
    module = module or evaluate.load(str(APP_DIR / "span_ner.py"))
    with gr.Blocks(title=f"Metric: {module.name}") as demo:
        gr.Markdown(f"# Metric: {module.name}\nSpans are `{{\"start\", \"end\", \"label\"}}` character offsets, one list per document.")
        with gr.Row():
            predictions = gr.Textbox(label="predictions (JSON)", value=EXAMPLE_PREDICTIONS, lines=6)
            references = gr.Textbox(label="references (JSON)", value=EXAMPLE_REFERENCES, lines=6)
        bootstrap = gr.Number(label="bootstrap_samples (0: no confidence intervals)", value=0, precision=0, minimum=0)
        compute = gr.Button("Compute", variant="primary")
        scores = gr.JSON(label="scores")
        compute.click(lambda *inputs: score(module, *inputs), inputs=[predictions, references, bootstrap], outputs=scores,
                      api_name="compute")
        gr.Markdown(card_body())
    return demo


if __name__ == "__main__":
    build_demo().launch(server_name="0.0.0.0" if os.environ.get("SYSTEM") == "spaces" else None)
