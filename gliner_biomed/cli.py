"""The `gliner-biomed` command line: each command group lives next to the code it drives and
registers its own sub-parser here.

One error path for every command: an exception raised by a command is printed as one line,
``gliner-biomed COMMAND: error: ...``, with exit status 2 for bad input (``errors.BadInputError``,
or a path the OS refused) and 1 for internal failures; ``--debug`` (or ``GLINER_BIOMED_DEBUG=1``)
shows the traceback instead."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, List, Optional

from .errors import EXIT_BAD_INPUT, BadInputError, describe, exit_code_of, first_not_utf8
from .log import DEFAULT_VERBOSITY, LEVELS, VERBOSITY_ENV, set_verbosity, verbosity_from_env
from .options import env_flag

DEBUG_ENV = "GLINER_BIOMED_DEBUG"

# Each module's register(subparsers) adds one or more commands; a module that fails to import
# is a broken install and must stop the CLI, not silently drop its commands.
COMMAND_MODULES = [
    "gliner_biomed.commands.convert",
    "gliner_biomed.commands.predict",
    "gliner_biomed.dataset_builders.cli",
    "gliner_biomed.evaluation.cli",
    "gliner_biomed.evaluation.compare",
    "gliner_biomed.synth.cli",
    "gliner_biomed.bench.cli",
    "gliner_biomed.trainers.cli",
    "gliner_biomed.publishing.cli",
]


def _add_global_options(parser: argparse.ArgumentParser, default) -> None:
    """--debug and --verbosity, accepted before or after the command name; on the commands their
    default is SUPPRESS so that they do not overwrite what was given before the command."""
    group = parser.add_argument_group("diagnostics (any command)")
    group.add_argument("--debug", action="store_true", default=default if default is argparse.SUPPRESS else False,
                       help=f"show the traceback of an error (also: {DEBUG_ENV}=1)")
    group.add_argument("--verbosity", choices=list(LEVELS), default=default if default is argparse.SUPPRESS else None,
                       help=f"log level of diagnostics on stderr (also: {VERBOSITY_ENV}; default {DEFAULT_VERBOSITY})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gliner-biomed",
        description="Open biomedical named-entity recognition with GLiNER span models.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _add_global_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _add_to_commands(subparsers)
    return parser


def _add_to_commands(subparsers: argparse._SubParsersAction) -> None:
    for command_parser in subparsers.choices.values():
        _add_global_options(command_parser, argparse.SUPPRESS)
        for action in command_parser._actions:  # command groups (`datasets build`) have commands of their own
            if isinstance(action, argparse._SubParsersAction):
                _add_to_commands(action)


def check_arguments_are_utf8(argv: List[str]) -> None:
    """Command-line bytes that are not UTF-8 reach Python as lone surrogates, which no tokenizer
    or file accepts: refused here, naming the argument."""
    for position, argument in enumerate(argv, start=1):
        at = first_not_utf8(argument)
        if at is not None:
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            if len(shown) > 80:
                shown = shown[:80] + "..."
            raise BadInputError(f"argument {position} ('{shown}') is not valid UTF-8 (character {at}); "
                                "pass text in UTF-8 (e.g. convert with iconv -t UTF-8)")


def _debug_wanted(argv: List[str]) -> bool:
    return "--debug" in argv or env_flag(DEBUG_ENV)


def main(argv: Optional[List[str]] = None, build: Callable[[], argparse.ArgumentParser] = build_parser) -> int:
    """Runs one command; ``build`` makes the parser (a command group's own entry point passes
    a parser of its commands only, and gets the same error reporting)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((argument for argument in argv if not argument.startswith("-")), None)
    prefix = f"gliner-biomed {command}" if command else "gliner-biomed"
    debug = _debug_wanted(argv)
    try:
        check_arguments_are_utf8(argv)
        set_verbosity(verbosity_from_env())
        args = build().parse_args(argv)
        prefix = f"gliner-biomed {args.command}"
        debug = debug or getattr(args, "debug", False)
        if getattr(args, "verbosity", None):
            set_verbosity(args.verbosity)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the one place every command's errors are reported
        if debug:
            raise
        code = exit_code_of(error)
        hint = "" if code == EXIT_BAD_INPUT else f" (rerun with --debug or {DEBUG_ENV}=1 for the traceback)"
        print(f"{prefix}: error: {describe(error)}{hint}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
