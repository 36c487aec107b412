"""What each speed lever of our PyTorch path is worth, measured one at a time against the
reference `gliner` package on the same weights and documents (one process, interleaved):

* ``exact, input order``: our model with the reference's operations and batches in input order
  (what the reference does; the remaining difference is glue: tokenization, decoding, inference_mode);
* ``exact, length-sorted``: + length-bucketed batching (texts of similar length share a batch);
* ``fused, length-sorted``: + the fused span head (no words x width x 4H intermediates);
* ``fused, length-sorted, per-text attention``: + DeBERTa-v2 attention computed one text at a
  time, in place (no effect on other backbones);
* ``exact, input order, per-text attention``: that lever alone.

    python benchmarks/levers.py [--model small] [--corpus bc5cdr] [--docs 48] [--labels 3] [--batch-size 16] [--repeats 2]

Prints a Markdown table (seconds are the fastest repeat, ratios the median of per-repeat ratios)
and whether every variant predicts the reference's entities.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_bench_models import DEFAULT_ROOT, TRAINED_THRESHOLDS, build_default, build_minilm, build_small  # noqa: E402

from gliner_biomed.bench.runner import (  # noqa: E402
    BENCH_LABELS, BenchConfig, entity_keys, fits_in_one_reference_pass, load_documents, reading_threshold,
)  # fmt: skip
from gliner_biomed.bench.cli import DEFAULT_CORPORA_DIR  # noqa: E402

VARIANTS = {  # name: (fused span head, length-sorted batches, per-text attention)
    "exact, input order": (False, False, False),
    "exact, length-sorted": (False, True, False),
    "fused, length-sorted": (True, True, False),
    "fused, length-sorted, per-text attention": (True, True, True),
    "exact, input order, per-text attention": (False, False, True),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", choices=("small", "default", "minilm"), default="small")
    parser.add_argument("--corpus", default="bc5cdr", choices=("bc5cdr", "ncbi-disease"))
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--labels", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models-root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)

    from gliner import GLiNER

    from gliner_biomed.models import load_model

    build = {"small": build_small, "default": build_default, "minilm": build_minilm}[args.model]
    ours_dir, reference_dir = build(args.models_root)
    ours = load_model(str(ours_dir))
    reference = GLiNER.from_pretrained(str(reference_dir), local_files_only=True)
    reference.eval()
    labels = BENCH_LABELS[: args.labels]
    config = BenchConfig(corpora_dir=DEFAULT_CORPORA_DIR, out_dir=Path("."))
    documents = load_documents(config)[args.corpus]
    texts = [t for t in documents if fits_in_one_reference_pass(ours, t, labels)][: args.docs]
    threshold = reading_threshold(ours, texts, labels, config, TRAINED_THRESHOLDS.get(args.model))
    ours.inference(texts[:2], labels, threshold=threshold)
    reference.inference(texts[:2], labels, threshold=threshold)

    seconds = {name: [] for name in ["reference", *VARIANTS]}
    identical = {name: True for name in VARIANTS}
    for repeat in range(args.repeats):
        order = ["reference", *VARIANTS] if repeat % 2 == 0 else [*reversed(list(VARIANTS)), "reference"]
        predictions = {}
        for name in order:
            started = time.perf_counter()
            if name == "reference":
                predictions[name] = reference.inference(texts, labels, batch_size=args.batch_size, threshold=threshold)
            else:
                fused, sort, per_text = VARIANTS[name]
                ours.config.fused_span_scoring = fused
                ours.set_per_text_attention(per_text)
                predictions[name] = ours.inference(texts, labels, batch_size=args.batch_size, threshold=threshold, sort_by_length=sort)
            seconds[name].append(time.perf_counter() - started)
        for name in VARIANTS:
            identical[name] &= entity_keys(predictions[name]) == entity_keys(predictions["reference"])

    print(f"{args.model}, {args.corpus}, {len(texts)} documents, {args.labels} labels, batch {args.batch_size}, "
          f"{args.repeats} interleaved repeats\n")  # fmt: skip
    print("| variant | seconds | x reference | identical entities |")
    print("|---|---:|---:|---|")
    print(f"| reference `gliner` | {min(seconds['reference']):.2f} | 1.00 | - |")
    for name in VARIANTS:
        ratio = statistics.median(r / o for r, o in zip(seconds["reference"], seconds[name]))
        print(f"| ours: {name} | {min(seconds[name]):.2f} | {ratio:.2f} | {'yes' if identical[name] else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
