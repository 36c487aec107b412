"""`gliner-biomed bench` and `gliner-biomed export-onnx`."""

from __future__ import annotations

import argparse
from pathlib import Path
from ..errors import BadInputError
from ..log import get_logger

logger = get_logger(__name__)

DEFAULT_CORPORA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def _int_list(value: str):
    try:
        numbers = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from error
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {value!r}")
    return numbers


def _pair(value: str):
    from .runner import ModelPair

    threshold = None
    try:
        name, rest = value.split("=", 1)
        if "@" in rest:
            rest, threshold_text = rest.rsplit("@", 1)
            threshold = float(threshold_text)
        ours, reference = rest.split(":", 1)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--pair must be NAME=OURS_DIR:REFERENCE_DIR[@THRESHOLD], got {value!r}") from error
    return ModelPair(name, Path(ours), Path(reference), threshold)


def register(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="inference speed of our models vs the reference gliner package on the same weights",
        description="Runs our model and the reference `gliner` package interleaved in one process over real "
        "abstracts; writes bench_results.json and bench_results.md. benchmarks/bench_inference.py builds the "
        "benchmark models and calls this.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    bench.add_argument("--pair", type=_pair, action="append", required=True, metavar="NAME=OURS:REFERENCE[@THRESHOLD]",
                       help="a converted model folder and the reference-format folder it was converted from; repeatable. "
                       "@THRESHOLD: the score threshold of a trained model (without it, a selective threshold for "
                       "random-weight heads)")
    bench.add_argument("--out", type=Path, default=Path("runs/bench"), help="output folder")
    bench.add_argument("--corpora-dir", type=Path, default=DEFAULT_CORPORA_DIR, help="the shared corpora folder")
    bench.add_argument("--docs-per-corpus", type=int, default=48,
                       help="documents of each test set (several batches of 16, so that batching has documents to sort)")
    bench.add_argument("--labels", type=_int_list, default=(3, 15), help="label-set sizes")
    bench.add_argument("--batch-sizes", type=_int_list, default=(1, 16), help="batch sizes")
    bench.add_argument("--repeats", type=int, default=1, help="interleaved repeats of each setting")
    bench.add_argument("--threads", type=int, default=None, help="torch / onnxruntime threads (default: torch's)")
    bench.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime fp32/int8 paths")
    bench.add_argument("--no-profile", action="store_true", help="skip the per-stage profile")
    bench.add_argument("--span-head", choices=("fused", "exact"), default="fused",
                       help="our span head: fused (fast path) or exact (the reference's operations, bit-identical scores)")
    bench.add_argument("--attention", choices=("per-text", "transformers"), default="per-text",
                       help="DeBERTa-v2 backbones: our per-text attention (fast path, same floats) or transformers' module")
    bench.add_argument("--long-document-batch-size", type=int, default=4, help="windows per forward pass in the long-document measurement")
    bench.add_argument("--long-document-words", type=_int_list, default=(1250, 2500, 5000),
                       help="sizes of the long documents for the memory measurement")
    bench.set_defaults(func=run_bench)

    export = subparsers.add_parser(
        "export-onnx",
        help="export a model folder to ONNX (optionally with int8 dynamic quantization)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    export.add_argument("--model", default=None, help="model folder (default: the shipped default model)")
    export.add_argument("--out", type=Path, required=True, help="new folder for the ONNX model")
    export.add_argument("--int8", action="store_true", help="also write int8 dynamically quantized graphs")
    export.add_argument("--opset", type=int, default=17, help="ONNX opset")
    export.set_defaults(func=run_export)


def run_bench(args: argparse.Namespace) -> int:
    from .runner import BenchConfig, run_benchmark

    if args.docs_per_corpus < 1 or args.repeats < 1:
        raise BadInputError("--docs-per-corpus and --repeats must be >= 1")
    config = BenchConfig(
        corpora_dir=args.corpora_dir, out_dir=args.out, docs_per_corpus=args.docs_per_corpus,
        label_counts=args.labels, batch_sizes=args.batch_sizes, repeats=args.repeats, threads=args.threads,
        onnx=not args.no_onnx, profile=not args.no_profile, long_document_words=args.long_document_words,
        long_document_batch_size=args.long_document_batch_size, span_head=args.span_head, attention=args.attention,
    )  # fmt: skip
    for pair in args.pair:
        for folder in (pair.ours, pair.reference):
            if not folder.is_dir():
                raise BadInputError(f"--pair {pair.name}: {folder} is not a folder")
    run_benchmark(args.pair, config)
    logger.info(f"wrote {args.out / 'bench_results.json'} and {args.out / 'bench_results.md'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..onnx import ExportOptions, export_onnx

    folder = export_onnx(args.model if args.model else None, args.out, ExportOptions(opset=args.opset, int8=args.int8))
    logger.info(f"wrote {folder}")
    return 0
