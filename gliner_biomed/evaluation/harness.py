"""Runs a predictor over a suite and scores it with the span_ner metric.

The predictor is anything with the ``inference`` method of the project's GLiNER models
(:class:`Predictor`), so that the harness works the same for converted reference checkpoints,
models our trainers write, and test doubles.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, Union

import numpy as np
from tqdm.auto import tqdm

from ..options import check_threshold
from .scoring import score_spans, spans_only
from .suites import Suite, SuiteDataset

DEFAULT_SWEEP_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
AVERAGED_SCORES = ("micro_precision", "micro_recall", "micro_f1")


class Predictor(Protocol):
    def inference(
        self,
        texts: List[str],
        labels: Union[List[str], Dict[str, str]],
        batch_size: int = 8,
        threshold: float = 0.5,
        flat_ner: bool = True,
        multi_label: bool = False,
    ) -> List[List[Dict[str, Any]]]:
        """One list of ``{start, end, label, score, ...}`` per text, in input order."""


@dataclass
class EvaluationConfig:
    threshold: float = 0.5  # used when no sweep chooses one
    flat_ner: bool = True
    multi_label: bool = False
    batch_size: int = 8
    max_documents: Optional[int] = None  # per dataset and split; overrides the suite's value
    seed: int = 13  # of the document sub-sample and of the bootstrap
    bootstrap_samples: int = 0
    sweep: bool = False
    sweep_thresholds: Tuple[float, ...] = DEFAULT_SWEEP_THRESHOLDS
    resume: bool = True  # reuse predictions saved by an earlier identical run

    def __post_init__(self):
        self.sweep_thresholds = tuple(sorted(float(t) for t in self.sweep_thresholds))
        check_threshold(self.threshold, "threshold")
        for value in self.sweep_thresholds:
            check_threshold(value, "sweep thresholds")
        if self.sweep and not self.sweep_thresholds:
            raise ValueError("a sweep needs at least one threshold")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_documents is not None and self.max_documents < 1:
            raise ValueError(f"max_documents must be >= 1, got {self.max_documents}")
        if self.bootstrap_samples < 0:
            raise ValueError(f"bootstrap_samples must be >= 0, got {self.bootstrap_samples}")


@dataclass
class SplitSample:
    """The documents of one split that are evaluated, and how they were drawn."""

    dataset: SuiteDataset
    split: str
    documents: List[Dict]
    num_documents_total: int
    max_documents: Optional[int]

    @property
    def sampled(self) -> bool:
        return len(self.documents) < self.num_documents_total


def load_split(dataset: SuiteDataset, split: str, config: EvaluationConfig) -> SplitSample:
    """The documents of ``split``, sub-sampled to ``max_documents`` with a fixed seed (the drawn
    documents keep their corpus order)."""
    from gliner_biomed.dataset_builders import load_corpus

    documents = load_corpus(dataset.corpus, split, level=dataset.level, label_map=dataset.label_map)
    limit = config.max_documents if config.max_documents is not None else dataset.max_documents
    total = len(documents)
    if limit is not None and total > limit:
        # Seeded per dataset and split, so that adding a dataset to a suite changes no other sample.
        rng = random.Random(f"{config.seed}/{dataset.corpus}/{split}")
        documents = [documents[i] for i in sorted(rng.sample(range(total), limit))]
    return SplitSample(dataset, split, documents, total, limit)


def predict(
    predictor: Predictor,
    sample: SplitSample,
    threshold: float,
    config: EvaluationConfig,
) -> List[List[Dict]]:
    """The predictor's entities for every document of ``sample``, checked: one list per document,
    offsets inside the text, labels from the label set."""
    labels = sample.dataset.model_labels()
    allowed = set(labels)
    texts = [document["text"] for document in sample.documents]
    predictions: List[List[Dict]] = []
    chunk = config.batch_size * 8  # documents per call: keeps the bar moving on long splits
    with tqdm(total=len(texts), desc=f"{sample.dataset.name}/{sample.split} @ {threshold:g}", unit="doc") as bar:
        for start in range(0, len(texts), chunk):
            batch = texts[start : start + chunk]
            output = predictor.inference(
                batch,
                labels,
                batch_size=config.batch_size,
                threshold=threshold,
                flat_ner=config.flat_ner,
                multi_label=config.multi_label,
            )
            if len(output) != len(batch):
                raise RuntimeError(f"the predictor returned {len(output)} results for {len(batch)} texts")
            predictions.extend(output)
            bar.update(len(batch))
    cleaned = []
    for document, entities in zip(sample.documents, predictions):
        where = f"{sample.dataset.name}/{sample.split} document {document['id']!r}"
        kept = []
        for entity in entities:
            if entity["label"] not in allowed:
                raise RuntimeError(f"{where}: predicted label {entity['label']!r} is not one of the labels asked for {sorted(allowed)}")
            if not 0 <= entity["start"] < entity["end"] <= len(document["text"]):
                raise RuntimeError(f"{where}: predicted offsets {entity['start']}:{entity['end']} are outside the text ({len(document['text'])} characters)")
            kept.append({"start": int(entity["start"]), "end": int(entity["end"]), "label": entity["label"], "score": float(entity.get("score", 1.0))})
        cleaned.append(kept)
    return cleaned


def above(predictions: List[List[Dict]], threshold: float) -> List[List[Dict]]:
    """The entities of ``predictions`` (decoded at a lower threshold) that score above ``threshold``.

    This equals decoding at ``threshold`` because GLiNER decoding is greedy in descending score:
    the candidates above a higher threshold are a prefix of the same ordered list, and greedy
    choices on a prefix do not depend on what follows (tests check this on a real model).
    Compared in float32, as the models compare scores.
    """
    bound = np.float32(threshold)
    return [[e for e in entities if np.float32(e["score"]) > bound] for entities in predictions]


class PredictionStore:
    """Predictions saved under ``out/predictions`` with a key of everything they depend on, so
    that an interrupted or repeated run reuses finished datasets (written atomically)."""

    def __init__(self, folder: Optional[Path], model_fingerprint: Optional[str], enabled: bool):
        self.folder = folder
        self.model_fingerprint = model_fingerprint
        self.enabled = enabled and folder is not None and model_fingerprint is not None

    def _key(self, sample: SplitSample, threshold: float, config: EvaluationConfig) -> str:
        payload = {
            "model": self.model_fingerprint,
            "threshold": float(threshold),
            "flat_ner": config.flat_ner,
            "multi_label": config.multi_label,
            "labels": sample.dataset.model_labels(),
            "documents": [[d["id"], hashlib.sha256(d["text"].encode("utf-8")).hexdigest()] for d in sample.documents],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()

    def path(self, sample: SplitSample) -> Optional[Path]:
        if self.folder is None:
            return None
        return self.folder / f"{sample.dataset.name}.{sample.split}.jsonl"

    def load(self, sample: SplitSample, threshold: float, config: EvaluationConfig) -> Optional[List[List[Dict]]]:
        path = self.path(sample)
        if not self.enabled or not path.is_file():
            return None
        with path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "{}")
            if header.get("key") != self._key(sample, threshold, config):
                return None
            rows = [json.loads(line) for line in handle]
        if [row["id"] for row in rows] != [d["id"] for d in sample.documents]:
            return None
        return [row["entities"] for row in rows]

    def save(self, sample: SplitSample, threshold: float, config: EvaluationConfig, predictions: List[List[Dict]]) -> None:
        path = self.path(sample)
        if path is None:
            return
        from gliner_biomed.atomic_files import atomic_writer

        key = self._key(sample, threshold, config) if self.model_fingerprint else None
        with atomic_writer(path) as out:
            out.write(json.dumps({"key": key, "dataset": sample.dataset.name, "split": sample.split, "threshold": threshold}) + "\n")
            for document, entities in zip(sample.documents, predictions):
                out.write(json.dumps({"id": document["id"], "entities": entities}, ensure_ascii=False) + "\n")


def predict_or_reuse(predictor, sample, threshold, config, store: PredictionStore) -> Tuple[List[List[Dict]], float, bool]:
    """(predictions, seconds, reused)."""
    started = time.perf_counter()
    cached = store.load(sample, threshold, config)
    if cached is not None:
        return cached, 0.0, True
    predictions = predict(predictor, sample, threshold, config)
    seconds = time.perf_counter() - started
    store.save(sample, threshold, config, predictions)
    return predictions, seconds, False


def gold_spans(sample: SplitSample) -> List[List[Dict]]:
    return [spans_only(document["entities"]) for document in sample.documents]


def spans_only_all(predictions: List[List[Dict]]) -> List[List[Dict]]:
    """What the metric reads of each document's predictions."""
    return [spans_only(entities) for entities in predictions]


def sweep_threshold(predictor: Predictor, suite: Suite, config: EvaluationConfig, store: PredictionStore) -> Dict:
    """Chooses the threshold with the best mean strict micro-F1 over the suite's validation splits
    (never its test splits). One prediction pass per split at the lowest threshold; higher ones
    are read off by score (:func:`above`). Ties go to the threshold closest to 0.5."""
    candidates = [d for d in suite.datasets if d.validation_split]
    if not candidates:
        raise ValueError(f"suite {suite.name!r} has no dataset with a validation_split: a threshold cannot be chosen without validation data")
    lowest = config.sweep_thresholds[0]
    curves, samples = {}, {}
    for dataset in candidates:
        # load_suite already refuses this; kept as a guard for suites built in code.
        if dataset.validation_split in ("test", dataset.split):
            raise ValueError(f"{dataset.name}: refusing to choose a threshold on the scored split {dataset.validation_split!r}")
        sample = load_split(dataset, dataset.validation_split, config)
        predictions, _, _ = predict_or_reuse(predictor, sample, lowest, config, store)
        gold = gold_spans(sample)
        curves[dataset.name] = [score_spans(spans_only_all(above(predictions, t)), gold)["micro_f1"] for t in config.sweep_thresholds]
        samples[dataset.name] = {"split": sample.split, "num_documents": len(sample.documents), "num_documents_total": sample.num_documents_total}
    mean_curve = [float(np.mean([curve[i] for curve in curves.values()])) for i in range(len(config.sweep_thresholds))]
    best = max(range(len(mean_curve)), key=lambda i: (mean_curve[i], -abs(config.sweep_thresholds[i] - 0.5)))
    return {
        "thresholds": list(config.sweep_thresholds),
        "validation_micro_f1": curves,
        "mean_validation_micro_f1": mean_curve,
        "chosen_threshold": config.sweep_thresholds[best],
        "validation_samples": samples,
        "excluded_datasets": [d.name for d in suite.datasets if not d.validation_split],
    }


def evaluate_dataset(predictor, dataset: SuiteDataset, threshold: float, config: EvaluationConfig, store: PredictionStore) -> Dict:
    sample = load_split(dataset, dataset.split, config)
    predictions, predict_seconds, reused = predict_or_reuse(predictor, sample, threshold, config, store)
    started = time.perf_counter()
    scores = score_spans(
        spans_only_all(predictions), gold_spans(sample), bootstrap_samples=config.bootstrap_samples, bootstrap_seed=config.seed
    )
    return {
        "name": dataset.name,
        "corpus": dataset.corpus,
        "split": dataset.split,
        "level": dataset.level,
        "labels": dataset.labels(),
        "label_prompts": dataset.label_prompts or {},
        "label_map_override": dataset.label_map or {},
        "num_documents": len(sample.documents),
        "num_documents_total": sample.num_documents_total,
        "max_documents": sample.max_documents,
        "sampled": sample.sampled,
        "predictions_file": str(store.path(sample)) if store.path(sample) else None,
        "predictions_reused": reused,
        "seconds_predict": predict_seconds,
        "seconds_score": time.perf_counter() - started,
        "scores": scores,
    }


def average(rows: Sequence[Mapping]) -> Dict:
    """Unweighted mean over datasets of their strict micro scores (each dataset counts once, as
    in the papers' average columns)."""
    return {name: float(np.mean([row["scores"][name] for row in rows])) for name in AVERAGED_SCORES} | {"num_datasets": len(rows)}


def run_suite(
    predictor: Predictor,
    suite: Suite,
    config: EvaluationConfig,
    predictions_dir: Optional[Path] = None,
    model_fingerprint: Optional[str] = None,
) -> Dict:
    """Every number of one evaluation: per-dataset scores, the average, the sweep (if any) and the
    settings. ``predictions_dir`` keeps the predictions (and, with a ``model_fingerprint``,
    lets a repeated run reuse them)."""
    started = time.perf_counter()
    store = PredictionStore(predictions_dir, model_fingerprint, config.resume)
    sweep = sweep_threshold(predictor, suite, config, store) if config.sweep else None
    threshold = sweep["chosen_threshold"] if sweep else config.threshold
    rows = [evaluate_dataset(predictor, dataset, threshold, config, store) for dataset in suite.datasets]
    return {
        "suite": {"name": suite.name, "description": suite.description, "file": suite.source},
        "threshold": threshold,
        "threshold_source": "sweep over validation splits" if sweep else "given",
        "sweep": sweep,
        "config": {**asdict(config), "sweep_thresholds": list(config.sweep_thresholds)},
        "datasets": rows,
        "average": average(rows),
        "seconds_total": time.perf_counter() - started,
    }
