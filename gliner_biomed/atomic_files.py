"""Files that appear whole or not at all: written under a temporary name beside the target and
renamed onto it only when complete, so a crash never leaves a half-written output."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Union


@contextmanager
def atomic_path(path: Union[str, Path]) -> Iterator[Path]:
    """A temporary path beside ``path`` for any writer (e.g. ``figure.savefig``); renamed onto
    ``path`` when the block ends without error, removed otherwise. The file gets the permissions
    a plain ``open`` would give (temporary files are private by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_writer(path: Union[str, Path], mode: str = "w") -> Iterator[IO]:
    """A file handle (text, UTF-8, unless ``mode`` is ``"wb"``) whose content replaces ``path``
    only once the block ends without error."""
    with atomic_path(path) as temporary:
        encoding = None if "b" in mode else "utf-8"
        with open(temporary, mode, encoding=encoding) as handle:
            yield handle
