"""Speed of the span_ner metric on a real corpus split:
``python -m gliner_biomed.evaluation.benchmark --corpus bc2gm --split test --bootstrap 1000``.

Predictions are the gold spans with every third one dropped and every fifth one shortened by a
character (so that all schemes do real matching work)."""

from __future__ import annotations

import argparse
import time

from .scoring import load_span_ner_metric, spans_only


def perturbed(documents):
    predictions, index = [], 0
    for document in documents:
        spans = []
        for span in spans_only(document["entities"]):
            index += 1
            if index % 3 == 0:
                continue
            if index % 5 == 0 and span["end"] - span["start"] > 1:
                span = {**span, "end": span["end"] - 1}
            spans.append(span)
        predictions.append(spans)
    return predictions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", default="bc2gm")
    parser.add_argument("--split", default="test")
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples for the second timing")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from gliner_biomed.dataset_builders import load_corpus

    documents = load_corpus(args.corpus, args.split)
    references = [spans_only(d["entities"]) for d in documents]
    predictions = perturbed(documents)
    metric = load_span_ner_metric()
    print(f"{args.corpus}/{args.split}: {len(documents)} documents, {sum(map(len, references))} gold spans, {sum(map(len, predictions))} predicted")
    for bootstrap in (0, args.bootstrap):
        timings = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = metric.compute(predictions=predictions, references=references, bootstrap_samples=bootstrap)
            timings.append(time.perf_counter() - started)
        print(f"bootstrap_samples={bootstrap}: best of {args.repeats} {min(timings):.2f} s (strict micro F1 {result['micro_f1']:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
