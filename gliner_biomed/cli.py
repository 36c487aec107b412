"""The `gliner-biomed` command line: each command group lives next to the code it drives and
registers its own sub-parser here."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module's register(subparsers) adds one or more commands; a module that fails to import
# is a broken install and must stop the CLI, not silently drop its commands.
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
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
