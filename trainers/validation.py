"""Validation with the project's metric (strict micro-F1 of the span_ner module, through the
evaluation harness's sampling and prediction checks)."""

from __future__ import annotations

from typing import Dict, List, Sequence

from gliner_biomed.evaluation.harness import EvaluationConfig, gold_spans, load_split, predict
from gliner_biomed.evaluation.scoring import score_spans
from gliner_biomed.evaluation.suites import SuiteDataset


def parse_validation(specs: Sequence[str]) -> List[SuiteDataset]:
    """``CORPUS[:SPLIT]`` (split defaults to validation)."""
    datasets = []
    for text in specs:
        corpus, split = (text.split(":", 1) + ["validation"])[:2]
        if not corpus:
            raise ValueError(f"bad validation source {text!r}: expected CORPUS[:SPLIT]")
        if split == "test":
            raise ValueError(f"validation source {text!r}: choosing checkpoints on a test split would tune on it")
        datasets.append(SuiteDataset(corpus=corpus, split=split))
    return datasets


def validate(model, datasets: Sequence[SuiteDataset], max_documents, threshold: float, batch_size: int = 8, seed: int = 13) -> Dict[str, float]:
    """``{corpus: micro_f1, ..., "mean_micro_f1": mean}`` on the (sub-sampled) splits."""
    config = EvaluationConfig(threshold=threshold, max_documents=max_documents, batch_size=batch_size, seed=seed)
    scores: Dict[str, float] = {}
    for dataset in datasets:
        sample = load_split(dataset, dataset.split, config)
        predictions = predict(model, sample, threshold, config)
        result = score_spans([[{k: e[k] for k in ("start", "end", "label")} for e in p] for p in predictions], gold_spans(sample))
        scores[f"{dataset.corpus}/{dataset.split}"] = float(result["micro_f1"])
    if scores:
        scores["mean_micro_f1"] = sum(scores.values()) / len(scores)
    return scores
