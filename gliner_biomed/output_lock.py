"""An exclusive lock on an output that a run appends to, so that a second run on the same output
is refused at once instead of appending the same records again.

The lock is ``fcntl.flock`` on ``OUTPUT.lock``: the kernel releases it when the process ends,
however it ends, so a lock left by a killed run is never in the way (the leftover file is
reused). The file holds the owner's pid, for the message only."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Union

from .errors import OutputBusyError

LOCK_SUFFIX = ".lock"

# Locks this process holds (resolved lock path -> depth): taking one again inside is a no-op, so a
# command can lock before loading its model and the library function it calls can lock too.
_HELD: Dict[Path, int] = {}


def lock_path(output: Union[str, Path]) -> Path:
    output = Path(output)
    return output.with_name(output.name + LOCK_SUFFIX)


def _owner(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def exclusive_output(output: Union[str, Path], what: str = "output") -> Iterator[Path]:
    """Holds the lock of ``output`` for the block; raises OutputBusyError (naming the output and
    the pid of the run that holds it) if another process holds it. The lock file is removed on
    release while still locked, and a taker checks that the file it locked is still the one on
    disk, so two runs never both believe they hold it."""
    path = lock_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise OutputBusyError(f"{output}: another run (pid {_owner(path)}) is writing this {what} now "
                                  f"(lock {path}); wait for it to finish or choose another {what}") from None
        try:
            same_file = os.path.samestat(os.fstat(descriptor), os.stat(path))
        except FileNotFoundError:
            same_file = False
        if same_file:
            break
        os.close(descriptor)  # the holder released and removed it between our open and flock: take the new one
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        _HELD[key] = 1
        yield path
    finally:
        _HELD.pop(key, None)
        path.unlink(missing_ok=True)
        os.close(descriptor)
