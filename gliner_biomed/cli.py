"""The `gliner-biomed` command line: each command group lives next to the code it drives and
registers its own sub-parser here."""

from __future__ import annotations

import argparse
import importlib
import sys

# (module, attribute): each register(subparsers) adds one or more commands.
COMMAND_MODULES = [
    "gliner_biomed.commands.convert",
    "gliner_biomed.commands.predict",
    "gliner_biomed.dataset_builders.cli",
    "gliner_biomed.evaluation.cli",
    "gliner_biomed.synth.cli",
    "gliner_biomed.bench.cli",
    "gliner_biomed.trainers.cli",
    "gliner_biomed.publishing.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gliner-biomed",
        description="Open biomedical named-entity recognition with GLiNER span models.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):  # command group not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
