"""`gliner-biomed convert`: gliner checkpoint folder -> transformers model folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a gliner checkpoint folder into a transformers model folder (AutoModel + trust_remote_code)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("source", type=Path, help="folder saved by the gliner package (gliner_config.json, weights, tokenizer)")
    parser.add_argument("output", type=Path, help="model folder to write (replaced atomically)")
    parser.add_argument("--encoder-config", type=Path, default=None,
                        help="local folder with the text backbone's config.json, for checkpoints whose encoder_config is null")
    parser.add_argument("--labels-encoder-config", type=Path, default=None,
                        help="local folder with the labels backbone's config.json (bi-encoders whose labels_encoder_config is null)")
    parser.add_argument("--labels-tokenizer", type=Path, default=None,
                        help="local folder with the labels encoder's tokenizer, if SOURCE has no labels_tokenizer/")
    parser.add_argument("--fused-span-head", action="store_true",
                        help="write fused_span_scoring=true: the fast span head (same entities up to float rounding "
                        "of ~1e-6; see docs/performance.md) instead of the reference's exact operations")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: torch + transformers cost seconds that `--help` and the
    # commands without a model should not pay.
    from ..convert import ConversionOptions, convert_checkpoint

    options = ConversionOptions(args.encoder_config, args.labels_encoder_config, args.labels_tokenizer, args.fused_span_head)
    output = convert_checkpoint(args.source, args.output, options)
    print(f"wrote {output}")
    return 0
