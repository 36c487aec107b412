"""Files and folders that appear whole or not at all: written under a temporary name beside the
target and renamed onto it only when complete, so a crash never leaves a half-written output."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Union


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextmanager
def atomic_path(path: Union[str, Path]) -> Iterator[Path]:
    """A temporary path beside ``path`` for any writer (e.g. ``figure.savefig``); renamed onto
    ``path`` when the block ends without error, removed otherwise. The file gets the permissions
    a plain ``open`` would give (temporary files are private by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    os.chmod(temporary, 0o666 & ~_umask())
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


def _is_empty_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _refuse_existing(path: Path, overwrite: bool) -> None:
    if (path.exists() or path.is_symlink()) and not overwrite and not _is_empty_folder(path):
        raise FileExistsError(f"{path} exists and is not an empty folder; refusing to replace it")


@contextmanager
def atomic_folder(path: Union[str, Path], overwrite: bool = False) -> Iterator[Path]:
    """A new empty folder beside ``path`` to fill; renamed onto ``path`` when the block ends
    without error, removed with its content otherwise. ``path`` may already be an empty folder;
    anything else there is a FileExistsError unless ``overwrite``, and then the old content is
    moved aside and deleted only once the new folder is in place (a crash between the two
    renames leaves it in a ``.NAME.*.old`` folder beside ``path``, never half of it). Everything in the result gets the permissions a plain mkdir/open would give (mkdtemp
    and some writers make private ones)."""
    path = Path(path)
    _refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield temporary
        umask = _umask()
        for item in [temporary, *temporary.rglob("*")]:
            if not item.is_symlink():
                os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~umask)
        _refuse_existing(path, overwrite)  # something may have appeared while the block ran
        if _is_empty_folder(path):
            path.rmdir()
        if path.exists() or path.is_symlink():
            aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, aside / path.name)
            os.replace(temporary, path)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
