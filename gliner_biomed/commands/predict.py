"""`gliner-biomed predict`: entities in a text, standard input, or a JSONL file of documents."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from ..atomic_files import atomic_writer
from ..jsonl import read_jsonl
from ..models import ModelNotFoundError, load_model


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict entities in a text, standard input (-) or a JSONL file",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("text", nargs="?", help="text to annotate, or - to read it from standard input")
    parser.add_argument("--model", default=None, help="model folder or Hub repo id (default: the shipped default model)")
    parser.add_argument("--labels", required=True, help='comma-separated entity types, e.g. "disease,chemical"')
    parser.add_argument("--threshold", type=float, default=0.5, help="score threshold (strictly greater)")
    parser.add_argument("--nested", action="store_true", help="allow nested entities (flat_ner=False)")
    parser.add_argument("--multi-label", action="store_true", help="allow several labels on the same span")
    parser.add_argument("--input", type=Path, default=None, help="JSONL file, one {id, text, ...} object per line")
    parser.add_argument("--output", type=Path, default=None, help="JSONL output (input objects plus 'entities')")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.set_defaults(func=run)


def parse_labels(value: str) -> list:
    labels = [label.strip() for label in value.split(",") if label.strip()]
    if not labels:
        raise ValueError(f"--labels {value!r} names no entity type")
    return labels


def run(args: argparse.Namespace) -> int:
    try:
        labels = parse_labels(args.labels)
        if (args.input is None) == (args.text is None):
            raise ValueError("give either TEXT (or -) or --input FILE")
        if args.input is not None and args.output is None:
            raise ValueError("--input needs --output")
        options = dict(threshold=args.threshold, flat_ner=not args.nested, multi_label=args.multi_label)
        model = load_model(args.model, device=args.device)
        if args.input is None:
            text = sys.stdin.read() if args.text == "-" else args.text
            for entity in model.predict_entities(text, labels, **options):
                print(json.dumps(entity, ensure_ascii=False))
            return 0
        records = read_jsonl(args.input, {"id": (str, int), "text": (str,)})
        chunk = max(args.batch_size * 8, 1)
        with atomic_writer(args.output) as out, tqdm(total=len(records), desc="documents", unit="doc") as bar:
            for start in range(0, len(records), chunk):
                batch = records[start : start + chunk]
                predictions = model.inference(
                    [record["text"] for record in batch], labels, batch_size=args.batch_size, **options
                )
                for record, entities in zip(batch, predictions):
                    out.write(json.dumps({**record, "entities": entities}, ensure_ascii=False) + "\n")
                bar.update(len(batch))
        print(f"wrote {len(records)} documents to {args.output}", file=sys.stderr)
        return 0
    except (ValueError, ModelNotFoundError, FileNotFoundError) as error:
        print(f"gliner-biomed predict: error: {error}", file=sys.stderr)
        return 2
