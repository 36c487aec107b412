"""`gliner-biomed datasets download`: fetch a corpus's raw files from upstream into the cache.

Every file is streamed to a temporary name, its SHA-256 checked, and only then renamed into place:
an interrupted or corrupted transfer never counts as present (and a rerun fetches it again).
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from ..atomic_files import atomic_folder, atomic_path
from .sources import DOWNLOADS, RawFile, RawTree, corpus_download

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A fetch that failed or whose content is not the recorded one; names the URL and the file."""


@dataclass(frozen=True)
class DownloadConfig:
    timeout_s: float = 60.0  # per network read; a stalled server is an error, not a hang
    progress: bool = True


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(folder: Path) -> str:
    """SHA-256 of the ``sha256sum``-style listing of every file under ``folder`` (names sorted)."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    listing = "".join(f"{sha256_file(path)}  {path.relative_to(folder).as_posix()}\n" for path in files)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _fetch(url: str, target: Path, config: DownloadConfig, describe: str) -> None:
    """Stream ``url`` to ``target``; a short body (Content-Length not reached) is an error."""
    from tqdm import tqdm

    try:
        with urllib.request.urlopen(url, timeout=config.timeout_s) as response, open(target, "wb") as out:
            expected = response.headers.get("Content-Length")
            expected = int(expected) if expected is not None else None
            received = 0
            with tqdm(total=expected, unit="B", unit_scale=True, desc=describe, disable=not config.progress, leave=False) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{describe}: {url} answered HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"{describe}: fetching {url} failed ({reason}); nothing was kept") from error
    if expected is not None and received != expected:
        raise DownloadError(f"{describe}: transfer of {url} was cut short ({received} of {expected} bytes); nothing was kept")


def _checked(describe: str, url: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise DownloadError(
            f"{describe}: checksum mismatch for {url}: SHA-256 {actual}, expected {expected}; "
            "the file was not kept (upstream changed or the transfer is corrupt)"
        )


@contextmanager
def _fetched(url: str, target: Path, config: DownloadConfig, describe: str) -> Iterator[Path]:
    """``url`` in a scratch file beside ``target`` (same file system, so the rename is atomic),
    removed when the block ends."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as scratch:
        fetched = Path(scratch) / "fetched"
        _fetch(url, fetched, config, describe)
        yield fetched


def _download_file(raw: RawFile, cache: Path, config: DownloadConfig) -> None:
    target = cache / raw.path
    with _fetched(raw.url, target, config, raw.path) as fetched:
        with atomic_path(target) as staged:
            if raw.member:
                _extract_member(fetched, raw, staged)
            else:
                shutil.move(str(fetched), staged)
            _checked(raw.path, raw.url, sha256_file(staged), raw.sha256)


def _extract_member(archive: Path, raw: RawFile, out: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle, bundle.open(raw.member) as member, open(out, "wb") as handle:
            shutil.copyfileobj(member, handle)
    except (zipfile.BadZipFile, KeyError) as error:
        raise DownloadError(f"{raw.path}: {raw.url} is not a zip archive holding {raw.member} ({error})") from error


def _download_tree(tree: RawTree, cache: Path, config: DownloadConfig) -> None:
    target = cache / tree.folder
    with _fetched(tree.url, target, config, tree.folder) as fetched:
        with atomic_folder(target, overwrite=True) as staged:
            prefix = tree.member_folder.rstrip("/") + "/"
            try:
                with zipfile.ZipFile(fetched) as bundle:
                    for info in bundle.infolist():
                        if info.is_dir() or not info.filename.startswith(prefix):
                            continue
                        name = info.filename[len(prefix):]
                        if ".." in Path(name).parts:
                            raise DownloadError(f"{tree.folder}: {tree.url} holds an unsafe member name {info.filename!r}")
                        path = staged / name
                        path.parent.mkdir(parents=True, exist_ok=True)
                        with bundle.open(info) as member, open(path, "wb") as handle:
                            shutil.copyfileobj(member, handle)
            except zipfile.BadZipFile as error:
                raise DownloadError(f"{tree.folder}: {tree.url} is not a zip archive ({error})") from error
            _checked(tree.folder, tree.url, tree_sha256(staged), tree.tree_sha256)


def verify(name: str, folder: Path) -> List[str]:
    """The raw files of ``name`` under ``folder`` that are missing or differ from the record."""
    record = corpus_download(name)
    bad = []
    for raw in record.files:
        path = folder / raw.path
        if not path.is_file() or sha256_file(path) != raw.sha256:
            bad.append(raw.path)
    for tree in record.trees:
        path = folder / tree.folder
        if not path.is_dir() or tree_sha256(path) != tree.tree_sha256:
            bad.append(tree.folder)
    return bad


def download(name: str, cache: Path, config: DownloadConfig = DownloadConfig(),
             announce: Optional[Callable[[str], None]] = None) -> List[str]:
    """Fetch what of corpus ``name`` is missing or wrong in ``cache``; returns the paths fetched.
    Files already present with the right checksum are kept (a rerun is cheap)."""
    record = corpus_download(name)
    stale = set(verify(name, cache))
    fetched = []
    for raw in record.files:
        if raw.path in stale:
            _download_file(raw, cache, config)
            fetched.append(raw.path)
    for tree in record.trees:
        if tree.folder in stale:
            _download_tree(tree, cache, config)
            fetched.append(tree.folder)
    if announce:
        announce(f"{name}: " + (f"fetched {', '.join(fetched)}" if fetched else "already present") + f" in {cache}")
    return fetched


def download_names(argument: str) -> List[str]:
    if argument == "all":
        return list(DOWNLOADS)
    corpus_download(argument)  # an unknown name is a KeyError naming the known ones
    return [argument]

