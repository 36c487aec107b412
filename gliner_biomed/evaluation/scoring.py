"""The one scorer: the ``span_ner`` evaluate module shipped in gliner_biomed.metrics, loaded with
``evaluate.load`` from its folder (offline), so that the harness and Hub users run the same code."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import gliner_biomed.metrics


def span_ner_module_dir() -> Path:
    """The folder of the ``span_ner`` evaluate module (metrics/span_ner in the repository)."""
    folder = Path(gliner_biomed.metrics.__file__).resolve().parent / "span_ner"
    if not (folder / "span_ner.py").is_file():
        raise FileNotFoundError(f"{folder}/span_ner.py is missing: the gliner_biomed.metrics package is incomplete")
    return folder


@functools.lru_cache(maxsize=1)
def load_span_ner_metric():
    import evaluate

    return evaluate.load(str(span_ner_module_dir()))


def score_spans(predictions: Sequence[Sequence[Mapping]], references: Sequence[Sequence[Mapping]], **options) -> Dict:
    """Scores of ``span_ner`` (see its card) for one list of spans per document."""
    return load_span_ner_metric().compute(predictions=list(predictions), references=list(references), **options)


def spans_only(entities: Sequence[Mapping]) -> List[Dict]:
    """``{start, end, label}`` of each entity (what the metric reads)."""
    return [{"start": int(e["start"]), "end": int(e["end"]), "label": str(e["label"])} for e in entities]
