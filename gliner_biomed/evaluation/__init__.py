"""Evaluation: the span_ner metric (metrics/span_ner, loaded through ``evaluate``), suites of
test splits defined as data (gliner_biomed/suites/*.yaml), the harness that runs a model over a
suite, and the reports (results.json, Markdown table, PNG plots)."""

from .scoring import load_span_ner_metric, score_spans, span_ner_module_dir

__all__ = ["load_span_ner_metric", "score_spans", "span_ner_module_dir"]
