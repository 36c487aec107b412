"""Entry point of the Hub metric Space: the standard evaluate widget around this module."""

import evaluate
from evaluate.utils import launch_gradio_widget

module = evaluate.load("span_ner.py")
launch_gradio_widget(module)
