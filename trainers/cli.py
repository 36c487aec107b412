"""Commands of the trainers: ``train``, ``adapt``, ``few-shot-curve``, ``export-default``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _formatter(prog):
    return argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=40)


def register(subparsers) -> None:
    from .config import TrainConfig, add_config_arguments

    train = subparsers.add_parser(
        "train",
        help="train a uni- or bi-encoder span model (Accelerate; run under `accelerate launch` for several GPUs/nodes)",
        formatter_class=_formatter,
        description="Every option can be set in --config YAML and overridden by its flag. Data sources: "
        "CORPUS[:SPLIT][@WEIGHT][#MAX_EXAMPLES].",
    )
    train.add_argument("--config", type=Path, default=None, help="YAML file of training options (configs/train*.yaml)")
    add_config_arguments(train, TrainConfig)
    train.set_defaults(func=run_train)

    from .adapt import register_adapt, register_few_shot_curve

    register_adapt(subparsers, _formatter)
    register_few_shot_curve(subparsers, _formatter)

    export = subparsers.add_parser(
        "export-default",
        help="write the shipped default model (or another adapter package) as a standalone merged model folder",
        formatter_class=_formatter,
    )
    export.add_argument("out", type=Path, help="output folder (loadable with AutoModel.from_pretrained(out, trust_remote_code=True))")
    export.add_argument("--model", type=Path, default=None, help="adapter package to export; None means the shipped default model")
    export.set_defaults(func=run_export)


def run_train(args) -> int:
    from ..errors import bad_input_from
    from .config import TrainConfig, config_from_args
    from .loop import Trainer

    with bad_input_from(ValueError, KeyError):  # options and data are checked before any step: a mistake there is one line, exit code 2
        trainer = Trainer(config_from_args(args, TrainConfig))
    result = trainer.train()
    print(json.dumps(result, indent=2, default=str))
    return 0


def run_export(args) -> int:
    from gliner_biomed.models import DEFAULT_MODEL_DIR

    from .packaging import export_full_model, is_adapter_package

    source = args.model or DEFAULT_MODEL_DIR
    if not is_adapter_package(source):
        raise SystemExit(f"{source}: not an adapter package (no gliner_biomed_adapter.json)")
    out = export_full_model(source, args.out)
    print(f"wrote {out}")
    return 0
