# Copyright 2025 The gliner-biomed authors. Licensed under the Apache License, Version 2.0.
"""Span-level NER scores (micro/macro/per-label precision, recall, F1) under strict, exact-boundary
and partial-overlap matching, with optional bootstrap confidence intervals over documents.

This file is published alone as a Hugging Face metric Space, so it imports only evaluate,
datasets, numpy and the standard library. The scoring itself is the plain function
:func:`span_ner_scores`; the :class:`SpanNER` module wraps it for ``evaluate.load``.
"""

from __future__ import annotations

import numbers
from collections import defaultdict, deque
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import datasets
import evaluate
import numpy as np

_CITATION = """\
@misc{gliner-biomed-span-ner,
  title = {span_ner: span-level NER scores with strict, exact-boundary and partial-overlap matching},
  author = {gliner-biomed authors},
  year = {2025},
  note = {Part of gliner-biomed (open biomedical NER with GLiNER span models, cf. arXiv:2504.00676)}
}
"""

_DESCRIPTION = """\
Span-level named-entity recognition scores computed from character-offset spans, one list of
`{start, end, label}` per document. Three matching schemes:

* `strict`: a prediction is correct when a reference has the same start, end and label;
* `exact_boundary`: same start and end, label ignored (every span counted once, whatever its labels);
* `partial_overlap`: the prediction shares at least one character with a reference of the same
  label; predictions and references are paired one-to-one (maximum matching per document and label).

Duplicated spans are counted once. Micro scores pool the counts of all labels; macro scores
average the per-label scores over every label seen in the references or the predictions.
The top-level `micro_*`, `macro_*`, `tp`/`fp`/`fn`/`support` and `per_label` are the strict ones.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list per document of `{"start": int, "end": int, "label": str}` (character
        offsets, end exclusive). Other keys (score, text, mention...) are ignored.
    references: the gold spans, in the same form and document order.
    zero_division (float, default 0.0): the value of a ratio whose denominator is zero: precision
        with no predictions, recall with no references, F1 (= 2TP / (2TP + FP + FN)) with neither.
    bootstrap_samples (int, default 0): when > 0, percentile confidence intervals from that many
        resamples of the documents (with replacement).
    bootstrap_seed (int, default 0): seed of the resampling. The resamples depend only on the seed,
        the number of samples and the number of documents, so two models scored on the same
        documents with the same seed see the same resamples (a paired comparison).
    confidence_level (float, default 0.95): the central mass of the intervals.
    return_bootstrap_scores (bool, default False): also return the micro F1 of every resample for
        each scheme (`bootstrap_scores`), e.g. to compute paired differences between two models.
Returns:
    micro_precision, micro_recall, micro_f1, macro_precision, macro_recall, macro_f1, tp, fp, fn,
    support, per_label ({label: {precision, recall, f1, support, tp, fp, fn}}): strict matching.
    strict, exact_boundary, partial_overlap: the same fields for each scheme (exact_boundary has
        no labels, hence no macro scores and no per_label).
    num_documents, num_predictions, num_references: distinct spans after removing duplicates.
    duplicates_removed: {"predictions": n, "references": n}.
    zero_division: the value used.
    confidence_intervals (with bootstrap_samples > 0): {"samples", "seed", "confidence_level",
        scheme: {score: [low, high]}}.
Examples:
    >>> import evaluate
    >>> span_ner = evaluate.load("path/to/metrics/span_ner")
    >>> results = span_ner.compute(
    ...     predictions=[[{"start": 0, "end": 7, "label": "disease"}]],
    ...     references=[[{"start": 0, "end": 7, "label": "disease"}, {"start": 12, "end": 19, "label": "chemical"}]],
    ... )
    >>> round(results["micro_f1"], 4)
    0.6667
"""

SCHEMES = ("strict", "exact_boundary", "partial_overlap")
TYPED_SCHEMES = ("strict", "partial_overlap")
SCORE_NAMES = ("micro_precision", "micro_recall", "micro_f1", "macro_precision", "macro_recall", "macro_f1")
_UNTYPED = ""  # the single pseudo-label of the exact_boundary scheme

Span = Tuple[int, int, str]
_SPAN_FEATURE = {"start": datasets.Value("int64"), "end": datasets.Value("int64"), "label": datasets.Value("string")}


# -- input checking ----------------------------------------------------------------------------
def _as_offset(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)


def clean_documents(documents: Sequence[Iterable[Mapping]], argument: str) -> List[List[Dict]]:
    """Checks every span and keeps only ``start``, ``end`` and ``label``; errors name the argument,
    the document index and the span index."""
    if isinstance(documents, (str, bytes, Mapping)) or not isinstance(documents, Sequence):
        raise ValueError(f"{argument} must be a list with one list of spans per document, got {type(documents).__name__}")
    cleaned = []
    for doc_index, spans in enumerate(documents):
        if isinstance(spans, (str, bytes, Mapping)) or not isinstance(spans, Iterable):
            raise ValueError(f"{argument}[{doc_index}] must be a list of spans, got {type(spans).__name__}")
        document = []
        for span_index, span in enumerate(spans):
            where = f"{argument}[{doc_index}][{span_index}]"
            if not isinstance(span, Mapping):
                raise ValueError(f"{where} must be a dict with start, end and label, got {type(span).__name__}")
            missing = [key for key in ("start", "end", "label") if key not in span]
            if missing:
                raise ValueError(f"{where} lacks {', '.join(missing)}: {dict(span)!r}")
            start, end = _as_offset(span["start"], f"{where}.start"), _as_offset(span["end"], f"{where}.end")
            if not 0 <= start < end:
                raise ValueError(f"{where} needs 0 <= start < end (end exclusive), got start={start}, end={end}")
            label = span["label"]
            if not isinstance(label, str) or not label:
                raise ValueError(f"{where}.label must be a non-empty string, got {label!r}")
            document.append({"start": start, "end": end, "label": label})
        cleaned.append(document)
    return cleaned


def _span_set(document: Iterable[Mapping]) -> Tuple[Set[Span], int]:
    spans = [(int(span["start"]), int(span["end"]), str(span["label"])) for span in document]
    unique = set(spans)
    return unique, len(spans) - len(unique)


# -- matching ----------------------------------------------------------------------------------
def _maximum_overlap_matching(predicted: List[Tuple[int, int]], gold: List[Tuple[int, int]]) -> int:
    """Size of a maximum one-to-one pairing of predicted and gold spans that share a character
    (augmenting paths found by breadth-first search, so that no recursion limit applies)."""
    neighbours = [
        [g for g, (gold_start, gold_end) in enumerate(gold) if max(start, gold_start) < min(end, gold_end)]
        for start, end in predicted
    ]
    owner: Dict[int, int] = {}  # gold index -> predicted index
    partner: Dict[int, int] = {}  # predicted index -> gold index

    def augment(root: int) -> bool:
        reached_from: Dict[int, int] = {}  # gold index -> predicted index it was reached from
        queue = deque([root])
        while queue:
            p = queue.popleft()
            for g in neighbours[p]:
                if g in reached_from:
                    continue
                reached_from[g] = p
                if g in owner:
                    queue.append(owner[g])
                    continue
                while True:  # flip the path root -> ... -> g
                    p = reached_from[g]
                    previous = partner.get(p)
                    owner[g], partner[p] = p, g
                    if previous is None:
                        return True
                    g = previous
        return False

    return sum(augment(p) for p in range(len(predicted)) if neighbours[p])


def _by_label(spans: Set[Span]) -> Dict[str, List[Tuple[int, int]]]:
    grouped: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
    for start, end, label in sorted(spans):
        grouped[label].append((start, end))
    return grouped


def document_counts(predicted: Set[Span], gold: Set[Span]) -> Dict[str, Dict[str, Tuple[int, int, int]]]:
    """``{scheme: {label: (tp, fp, fn)}}`` for one document (deduplicated spans)."""
    counts: Dict[str, Dict[str, Tuple[int, int, int]]] = {}
    predicted_by_label, gold_by_label = _by_label(predicted), _by_label(gold)
    labels = set(predicted_by_label) | set(gold_by_label)

    strict = {}
    for label in labels:
        p, g = set(predicted_by_label.get(label, ())), set(gold_by_label.get(label, ()))
        tp = len(p & g)
        strict[label] = (tp, len(p) - tp, len(g) - tp)
    counts["strict"] = strict

    predicted_spans = {(start, end) for start, end, _ in predicted}
    gold_spans = {(start, end) for start, end, _ in gold}
    tp = len(predicted_spans & gold_spans)
    counts["exact_boundary"] = {_UNTYPED: (tp, len(predicted_spans) - tp, len(gold_spans) - tp)} if predicted_spans or gold_spans else {}

    overlap = {}
    for label in labels:
        p, g = predicted_by_label.get(label, []), gold_by_label.get(label, [])
        tp = _maximum_overlap_matching(p, g)
        overlap[label] = (tp, len(p) - tp, len(g) - tp)
    counts["partial_overlap"] = overlap
    return counts


# -- scores from counts (vectorised so that bootstrap resamples cost one matrix product) -------
def _ratio(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, zero_division)


def _prf(tp, fp, fn, zero_division: float):
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    return (
        _ratio(tp, tp + fp, zero_division),
        _ratio(tp, tp + fn, zero_division),
        _ratio(2 * tp, 2 * tp + fp + fn, zero_division),
    )


def _scores_from_counts(counts: np.ndarray, zero_division: float, typed: bool) -> Dict[str, np.ndarray]:
    """``counts[..., label, (tp, fp, fn)]`` -> micro (and, when typed, macro) scores over the last
    label axis. An empty label axis gives the zero-division value everywhere."""
    totals = counts.sum(axis=-2)
    precision, recall, f1 = _prf(totals[..., 0], totals[..., 1], totals[..., 2], zero_division)
    scores = {"micro_precision": precision, "micro_recall": recall, "micro_f1": f1}
    if typed:
        if counts.shape[-2] == 0:
            empty = np.full(counts.shape[:-2], float(zero_division))
            macro = (empty, empty, empty)
        else:
            per_label = _prf(counts[..., 0], counts[..., 1], counts[..., 2], zero_division)
            macro = tuple(values.mean(axis=-1) for values in per_label)
        scores.update(macro_precision=macro[0], macro_recall=macro[1], macro_f1=macro[2])
    return scores


def _scheme_result(counts: np.ndarray, labels: List[str], zero_division: float, typed: bool) -> Dict:
    totals = counts.sum(axis=0)  # (labels, 3)
    result = {name: float(value) for name, value in _scores_from_counts(totals, zero_division, typed).items()}
    tp, fp, fn = (int(x) for x in totals.sum(axis=0)) if len(labels) else (0, 0, 0)
    result.update(tp=tp, fp=fp, fn=fn, support=tp + fn)
    if typed:
        per_label = {}
        for index, label in enumerate(labels):
            label_tp, label_fp, label_fn = (int(x) for x in totals[index])
            precision, recall, f1 = (float(x) for x in _prf(label_tp, label_fp, label_fn, zero_division))
            per_label[label] = {
                "precision": precision, "recall": recall, "f1": f1,
                "support": label_tp + label_fn, "tp": label_tp, "fp": label_fp, "fn": label_fn,
            }
        result["per_label"] = per_label
    return result


def _bootstrap(
    count_tensors: Dict[str, np.ndarray],
    samples: int,
    seed: int,
    confidence_level: float,
    zero_division: float,
    return_scores: bool,
) -> Tuple[Dict, Optional[Dict]]:
    num_documents = next(iter(count_tensors.values())).shape[0]
    rng = np.random.default_rng(seed)
    # How many times each document is drawn in each resample: (samples, documents).
    weights = rng.multinomial(num_documents, np.full(num_documents, 1.0 / num_documents), size=samples)
    low_quantile = (1.0 - confidence_level) / 2.0
    intervals = {"samples": samples, "seed": seed, "confidence_level": confidence_level}
    distributions = {}
    for scheme, counts in count_tensors.items():
        resampled = np.einsum("bd,dlc->blc", weights, counts)
        scores = _scores_from_counts(resampled, zero_division, scheme in TYPED_SCHEMES)
        intervals[scheme] = {
            name: [float(np.quantile(values, low_quantile)), float(np.quantile(values, 1.0 - low_quantile))]
            for name, values in scores.items()
        }
        distributions[scheme] = [float(x) for x in scores["micro_f1"]]
    return intervals, (distributions if return_scores else None)


def span_ner_scores(
    predictions: Sequence[Iterable[Mapping]],
    references: Sequence[Iterable[Mapping]],
    zero_division: float = 0.0,
    bootstrap_samples: int = 0,
    bootstrap_seed: int = 0,
    confidence_level: float = 0.95,
    return_bootstrap_scores: bool = False,
) -> Dict:
    """All scores of the module (see ``_KWARGS_DESCRIPTION``) from plain Python lists."""
    if len(predictions) != len(references):
        raise ValueError(f"predictions has {len(predictions)} documents but references has {len(references)}")
    if not 0.0 <= float(zero_division) <= 1.0:
        raise ValueError(f"zero_division must be in [0, 1], got {zero_division}")
    if isinstance(bootstrap_samples, bool) or not isinstance(bootstrap_samples, numbers.Integral) or bootstrap_samples < 0:
        raise ValueError(f"bootstrap_samples must be an integer >= 0, got {bootstrap_samples!r}")
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    zero_division = float(zero_division)

    per_document = []
    duplicates = {"predictions": 0, "references": 0}
    num_predictions = num_references = 0
    for predicted_doc, gold_doc in zip(predictions, references):
        predicted, predicted_duplicates = _span_set(predicted_doc)
        gold, gold_duplicates = _span_set(gold_doc)
        duplicates["predictions"] += predicted_duplicates
        duplicates["references"] += gold_duplicates
        num_predictions += len(predicted)
        num_references += len(gold)
        per_document.append(document_counts(predicted, gold))

    count_tensors: Dict[str, np.ndarray] = {}
    results: Dict = {}
    for scheme in SCHEMES:
        typed = scheme in TYPED_SCHEMES
        labels = sorted({label for counts in per_document for label in counts[scheme]}) if typed else [_UNTYPED]
        index = {label: i for i, label in enumerate(labels)}
        tensor = np.zeros((len(per_document), len(labels), 3), dtype=np.int64)
        for doc_index, counts in enumerate(per_document):
            for label, values in counts[scheme].items():
                tensor[doc_index, index[label]] = values
        count_tensors[scheme] = tensor
        results[scheme] = _scheme_result(tensor, labels, zero_division, typed)

    output = {name: results["strict"][name] for name in SCORE_NAMES}
    output.update({name: results["strict"][name] for name in ("tp", "fp", "fn", "support", "per_label")})
    output.update(results)
    output.update(
        num_documents=len(per_document),
        num_predictions=num_predictions,
        num_references=num_references,
        duplicates_removed=duplicates,
        zero_division=zero_division,
    )
    if bootstrap_samples > 0 and per_document:
        intervals, distributions = _bootstrap(
            count_tensors, int(bootstrap_samples), int(bootstrap_seed), float(confidence_level), zero_division, return_bootstrap_scores
        )
        output["confidence_intervals"] = intervals
        if distributions is not None:
            output["bootstrap_scores"] = distributions
    return output


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SpanNER(evaluate.Metric):
    """``evaluate`` module around :func:`span_ner_scores`."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.List(_SPAN_FEATURE), "references": datasets.List(_SPAN_FEATURE)}
            ),
            reference_urls=["https://arxiv.org/abs/2504.00676"],
        )

    # evaluate's own feature encoding fails with a bare KeyError on a missing or extra key; check
    # and clean the spans first so that errors name the document and span.
    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Adds a batch of documents (one list of spans per document) to the module."""
        if predictions is not None:
            predictions = clean_documents(predictions, "predictions")
        if references is not None:
            references = clean_documents(references, "references")
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Adds one document (its list of predicted spans and its list of gold spans)."""
        if prediction is not None:
            prediction = clean_documents([prediction], "prediction")[0]
        if reference is not None:
            reference = clean_documents([reference], "reference")[0]
        return super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(
        self,
        predictions,
        references,
        zero_division: float = 0.0,
        bootstrap_samples: int = 0,
        bootstrap_seed: int = 0,
        confidence_level: float = 0.95,
        return_bootstrap_scores: bool = False,
    ):
        return span_ner_scores(
            predictions,
            references,
            zero_division=zero_division,
            bootstrap_samples=bootstrap_samples,
            bootstrap_seed=bootstrap_seed,
            confidence_level=confidence_level,
            return_bootstrap_scores=return_bootstrap_scores,
        )
