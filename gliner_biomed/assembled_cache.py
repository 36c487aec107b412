"""A verified cache of assembled adapter packages (base encoder + LoRA adapter merged + heads) as
plain model folders, so that loading one (e.g. the shipped default model) reads merged weights
instead of importing PEFT and merging at every start.

The cache lives under the Hugging Face cache convention, ``$HF_HOME/gliner-biomed/assembled/KEY``,
where KEY is the SHA-256 of every file of the package (its ``gliner_biomed_adapter.json`` records
the base encoder's weights checksum, so a different base is a different key). Each cached folder
carries a manifest of its own files' SHA-256: a folder that does not match it (corrupt, partly
deleted) is rebuilt, never trusted. ``GLINER_BIOMED_NO_CACHE=1`` bypasses the cache;
``GLINER_BIOMED_CACHE_DIR`` puts it elsewhere (the tests use a temporary one)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Dict, Optional

from .atomic_files import atomic_folder
from .options import env_flag

NO_CACHE_ENV = "GLINER_BIOMED_NO_CACHE"
CACHE_DIR_ENV = "GLINER_BIOMED_CACHE_DIR"
MANIFEST_FILE = "gliner_biomed_assembled.json"
MANIFEST_FORMAT = 1  # bump when the assembly (load_adapter_package) gives different weights

logger = logging.getLogger(__name__)


def cache_disabled() -> bool:
    return env_flag(NO_CACHE_ENV)


def cache_root() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser() / "assembled"
    # read at call time: huggingface_hub's constants are frozen when it is first imported
    from huggingface_hub import constants

    return Path(os.environ.get("HF_HOME") or constants.HF_HOME).expanduser() / "gliner-biomed" / "assembled"


def _file_sha256(path: Path) -> str:
    from .trainers.packaging import file_sha256

    return file_sha256(path)


def _folder_files(folder: Path) -> Dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def package_key(package_dir: Path) -> str:
    """SHA-256 over the names and contents of all files of an adapter package, the cache format
    and the transformers version that writes and reads the folder."""
    import transformers

    digest = hashlib.sha256(f"format {MANIFEST_FORMAT}, transformers {transformers.__version__}\n".encode("utf-8"))
    for name, path in _folder_files(Path(package_dir)).items():
        digest.update(name.encode("utf-8") + b"\0" + _file_sha256(path).encode("ascii") + b"\n")
    return digest.hexdigest()


def _is_cacheable(package_dir: Path) -> bool:
    """Only packages over a base encoder pinned by checksum: one over another GLiNER model folder
    (few-shot adaptation) depends on files outside the package that the key cannot cover."""
    from .trainers.adapter_format import read_package

    package = read_package(package_dir)
    return bool(package.get("base_encoder", {}).get("sha256"))


def _verified(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest.get("format") != MANIFEST_FORMAT or not files:
            return False
        return all(_file_sha256(folder / name) == checksum for name, checksum in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def cached_folder(package_dir) -> Optional[Path]:
    """The verified assembled folder of ``package_dir``, or None (no cache, disabled, stale or corrupt)."""
    package_dir = Path(package_dir)
    if cache_disabled() or not _is_cacheable(package_dir):
        return None
    folder = cache_root() / package_key(package_dir)
    if not folder.exists():
        return None
    if _verified(folder):
        return folder
    logger.warning("%s: the cached assembled model does not match its manifest; rebuilding it", folder)
    return None


def store(package_dir, model) -> Optional[Path]:
    """Writes the assembled (merged) ``model`` of ``package_dir`` into the cache, atomically. A
    cache that cannot be written (read-only home, full disk) costs speed only: warned, not raised."""
    package_dir = Path(package_dir)
    if cache_disabled() or not _is_cacheable(package_dir):
        return None
    folder = cache_root() / package_key(package_dir)
    try:
        with atomic_folder(folder, overwrite=True) as temporary:
            model.save_pretrained(str(temporary))
            files = {name: _file_sha256(path) for name, path in _folder_files(temporary).items()}
            manifest = {"format": MANIFEST_FORMAT, "package": str(package_dir.resolve()), "files": files}
            (temporary / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        logger.warning("could not cache the assembled model of %s in %s (%s); it is assembled again next time "
                       "(set %s=1 to skip the cache)", package_dir, folder, error, NO_CACHE_ENV)
        return None
    return folder
