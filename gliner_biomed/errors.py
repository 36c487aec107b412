"""The project's exceptions: what the CLI reports as one line, and with which exit status.

``BadInputError`` (exit 2) is the user's to fix: a file, line, argument or folder at fault, named
in the message. ``InternalError`` (exit 1) is ours: a failure the input did not cause. Every
exception the project raises on purpose derives from one of them, so ``gliner_biomed.cli.main``
needs one ``except`` for all commands."""

from __future__ import annotations

import errno
from contextlib import contextmanager
from typing import Iterator, Optional, Type

EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


class GlinerBiomedError(Exception):
    """Base of the project's exceptions."""

    exit_code = EXIT_INTERNAL


class BadInputError(GlinerBiomedError, ValueError):
    """Bad input: a file, line, argument, option or folder the user can correct (named in the
    message). A ValueError too, so callers of the library that catch ValueError keep working."""

    exit_code = EXIT_BAD_INPUT


class InternalError(GlinerBiomedError, RuntimeError):
    """A failure that no input explains (a bug, a broken install, an external service)."""

    exit_code = EXIT_INTERNAL


class OutputBusyError(BadInputError):
    """Another process is writing the same output right now."""


# OS errors that mean "this path cannot be used as given": the user picks another one.
_USER_OS_ERRORS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR,
                   errno.EISDIR, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG, errno.ELOOP}


# Raised by the project's older checks with a message naming the path (no errno): the user's too.
_USER_PATH_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError)


def exit_code_of(error: BaseException) -> int:
    if isinstance(error, GlinerBiomedError):
        return error.exit_code
    if isinstance(error, _USER_PATH_ERRORS) or (isinstance(error, OSError) and error.errno in _USER_OS_ERRORS):
        return EXIT_BAD_INPUT
    return EXIT_INTERNAL


def describe(error: BaseException, limit: int = 2000) -> str:
    """``error`` as one line for the terminal: the file an OSError is about is named, newlines
    are folded, and a message longer than ``limit`` is cut with a note of how much was cut (a
    10 KB label must not fill the screen)."""
    if isinstance(error, OSError) and error.filename is not None and not isinstance(error, GlinerBiomedError):
        target = f"{error.filename}" + (f" -> {error.filename2}" if error.filename2 is not None else "")
        message = f"{target}: {error.strerror or error}"
    else:
        message = str(error) or type(error).__name__
    if exit_code_of(error) == EXIT_INTERNAL and not isinstance(error, GlinerBiomedError):
        message = f"internal error ({type(error).__name__}): {message}"
    message = " | ".join(line.strip() for line in message.splitlines() if line.strip())
    if len(message) > limit:
        message = f"{message[:limit]}... ({len(message) - limit} more characters)"
    return message


def first_not_utf8(value: str) -> Optional[int]:
    """Position of the first character of ``value`` that is no UTF-8 text (a lone surrogate: how
    Python hands over command-line or file bytes that are not UTF-8), or None."""
    try:
        value.encode("utf-8")
        return None
    except UnicodeEncodeError as error:
        return error.start


@contextmanager
def bad_input_from(*kinds: Type[Exception]) -> Iterator[None]:
    """Around the part of a command that checks its options and data: the built-in exceptions
    ``kinds`` raised there (the project's older checks raise ValueError / KeyError) are the
    user's to fix, so they leave as BadInputError (exit 2) with the same message."""
    try:
        yield
    except GlinerBiomedError:
        raise
    except kinds as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        raise BadInputError(message) from error
