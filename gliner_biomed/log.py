"""Diagnostics through Python ``logging``, transformers-style: ``get_logger(__name__)`` in every
module, one handler on the ``gliner_biomed`` logger writing ``gliner-biomed: LEVEL: message`` to
standard error. Verbosity: ``--verbosity`` on the command line or ``GLINER_BIOMED_VERBOSITY``
(debug, info, warning, error, critical; default info: what a command wrote, notes; warning keeps
only warnings). Command OUTPUT (JSON lines, tables) stays on stdout, not here."""

from __future__ import annotations

import logging
import os
import sys

ROOT_LOGGER = "gliner_biomed"
VERBOSITY_ENV = "GLINER_BIOMED_VERBOSITY"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR,
          "critical": logging.CRITICAL}
DEFAULT_VERBOSITY = "info"


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"gliner-biomed: {record.levelname.lower()}: {record.getMessage()}"


class _StderrHandler(logging.StreamHandler):
    """Writes to the sys.stderr of the moment (tests and callers replace it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_Formatter())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _root() -> logging.Logger:
    root = logging.getLogger(ROOT_LOGGER)
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        root.addHandler(_StderrHandler())
        root.propagate = False
        # a bad value is reported by the CLI (verbosity_from_env); importing must not fail on it
        root.setLevel(LEVELS.get(os.environ.get(VERBOSITY_ENV, "").strip().lower(), LEVELS[DEFAULT_VERBOSITY]))
    return root


def verbosity_from_env() -> str:
    value = os.environ.get(VERBOSITY_ENV, DEFAULT_VERBOSITY).strip().lower()
    if value not in LEVELS:
        from .errors import BadInputError

        raise BadInputError(f"{VERBOSITY_ENV}={value!r} is not one of {', '.join(LEVELS)}")
    return value


def set_verbosity(name: str) -> None:
    _root().setLevel(LEVELS[name])


def get_logger(name: str) -> logging.Logger:
    """The logger for module ``name`` (``__name__``), under the project's root logger."""
    _root()
    if not name.startswith(ROOT_LOGGER):
        name = f"{ROOT_LOGGER}.{name}"
    return logging.getLogger(name)
