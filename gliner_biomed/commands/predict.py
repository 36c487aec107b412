"""`gliner-biomed predict`: entities in a text, standard input, or a JSONL/Parquet file of documents
(streamed, sharded across workers, resumable); `gliner-biomed predict-merge`: the workers' shard
files merged into one."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..errors import bad_input_from
from ..io_records import InputError, read_utf8_stdin
from ..options import check_threshold
from ..output_lock import exclusive_output

_FORMATTER = argparse.ArgumentDefaultsHelpFormatter


def _shard_index(value: str):
    return value if value == "auto" else int(value)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", formatter_class=_FORMATTER,
        help="predict entities in a text, standard input (-) or a JSONL/Parquet file (sharded, resumable)",
    )
    parser.add_argument("text", nargs="?", help="text to annotate, or - to read it from standard input")
    parser.add_argument("--model", default=None, help="model folder or Hub repo id (default: the shipped default model)")
    parser.add_argument("--labels", required=True, help='comma-separated entity types, e.g. "disease,chemical"')
    parser.add_argument("--threshold", type=float, default=0.5, help="score threshold (strictly greater)")
    parser.add_argument("--nested", action="store_true", help="allow nested entities (flat_ner=False)")
    parser.add_argument("--multi-label", action="store_true", help="allow several labels on the same span")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--device", default="auto", help="torch device; auto: cuda:LOCAL_RANK if CUDA is available, else cpu")
    files = parser.add_argument_group("files (streamed; re-running the same command resumes)")
    files.add_argument("--input", type=Path, default=None, help="JSONL (one object per line) or .parquet file of documents")
    files.add_argument("--output", type=Path, default=None,
                       help="JSONL output: input objects plus the predictions (with --num-shards N > 1: OUTPUT.shard-I-of-N.jsonl)")
    files.add_argument("--text-field", default="text", help="field (column) holding the text")
    files.add_argument("--id-field", default="id", help="field holding the document id (documents without it get sha256:<text hash>, written to the output)")
    files.add_argument("--output-field", default="entities", help="field the predictions are written to")
    files.add_argument("--chunk-size", type=int, default=256, help="documents per model call; the model sorts them by length so batches pad less")
    files.add_argument("--no-progress", action="store_true", help="no progress bar")
    shards = parser.add_argument_group("sharding (several workers on one input; merge with predict-merge)")
    shards.add_argument("--num-shards", type=int, default=None, help="number of workers splitting the input (None: WORLD_SIZE under accelerate launch / torchrun, else 1)")
    shards.add_argument("--shard-index", type=_shard_index, default=None, help="this worker's shard in [0, N), or 'auto' = RANK (None: RANK under a launcher, else 0)")
    parser.set_defaults(func=run)

    merge = subparsers.add_parser("predict-merge", formatter_class=_FORMATTER,
                                  help="merge the shard files of a sharded `predict --input` run into one JSONL")
    merge.add_argument("--shards-of", type=Path, required=True, help="the --output the workers were given (merges OUTPUT.shard-*-of-*.jsonl)")
    merge.add_argument("--out", type=Path, required=True, help="merged JSONL (written atomically)")
    merge.add_argument("--file-order", action="store_true",
                       help="concatenate the shards in file order without reading the input again (otherwise: input order, every input id checked to be present once)")
    merge.add_argument("--allow-missing-shards", action="store_true", help="merge an incomplete set of shard files (with --file-order)")
    merge.set_defaults(func=run_merge)


def parse_labels(value: str) -> list:
    labels = [label.strip() for label in value.split(",") if label.strip()]
    if not labels:
        raise ValueError(f"--labels {value!r} names no entity type")
    return labels


def run(args: argparse.Namespace) -> int:
    # Model imports here, not at the top: torch + transformers cost seconds that `--help` and the
    # other commands should not pay.
    from ..batch_predict import PredictFileConfig, predict_file
    from ..models import load_model, resolve_model_path
    from ..sharding import default_worker_device, resolve_shard

    with bad_input_from(ValueError):  # everything is checked before the model is loaded or a file created
        labels = parse_labels(args.labels)
        check_threshold(args.threshold)
        if (args.input is None) == (args.text is None):
            raise ValueError("give either TEXT (or -) or --input FILE")
        if args.input is not None and args.output is None:
            raise ValueError("--input needs --output")
    options = dict(threshold=args.threshold, flat_ner=not args.nested, multi_label=args.multi_label)
    device = default_worker_device() if args.device == "auto" else args.device
    if args.input is None:
        text = read_utf8_stdin() if args.text == "-" else args.text
        # One text: the entities are the whole output, so no loading bars (file jobs keep theirs).
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        model = load_model(args.model, device=device)
        for entity in model.predict_entities(text, labels, **options):
            print(json.dumps(entity, ensure_ascii=False))
        return 0
    num_shards, shard_index = resolve_shard(args.num_shards, args.shard_index)
    if not args.input.is_file():
        raise InputError(f"{args.input}: input file not found")
    model_name = resolve_model_path(args.model)
    if Path(model_name).exists():
        model_name = str(Path(model_name).resolve())
    config = PredictFileConfig(
        input=args.input, output=args.output, labels=tuple(labels), model=model_name, text_field=args.text_field,
        id_field=args.id_field, output_field=args.output_field, batch_size=args.batch_size, chunk_size=args.chunk_size,
        num_shards=num_shards, shard_index=shard_index, progress=not args.no_progress, **options,
    )
    with exclusive_output(config.shard_output(), "--output"):  # a second run is refused before its model loads
        model = load_model(args.model, device=device)
        started = time.monotonic()
        stats = predict_file(model, config)
    # One write of the whole line: the ranks of a launcher share stdout, and print() writes the text
    # and its newline separately, so two ranks' summaries could interleave on one line.
    summary = json.dumps({**stats.as_dict(), "device": device, "seconds": round(time.monotonic() - started, 1)})
    sys.stdout.write(summary + "\n")
    sys.stdout.flush()
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from ..batch_predict import merge_predictions

    counts = merge_predictions(args.shards_of, args.out, allow_missing_shards=args.allow_missing_shards,
                               input_order=not args.file_order)
    print(json.dumps({"output": str(args.out), **counts}))
    return 0
