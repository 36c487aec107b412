"""Checks of a model folder before it is loaded, and the translation of what the loaders raise,
so that a damaged or hostile folder ends in one line naming the file at fault rather than in a
traceback from deep inside transformers, safetensors or torch."""

from __future__ import annotations

import pickle
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import BadInputError
from .io_records import read_json_file

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
JSON_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
              "gliner_biomed_adapter.json", "model.safetensors.index.json")


class ModelFolderError(BadInputError):
    """A model folder that cannot be loaded; names the file at fault."""


def looks_like_a_path(name: str) -> bool:
    """A Hub repo id is ``org/name``; anything else that does not exist is a folder that is missing."""
    return name.startswith((".", "/", "~")) or name.count("/") != 1 or "\\" in name


def check_model_folder(folder: Path, needs_weights: bool = True) -> None:
    """Cheap checks that name the file: JSON files parse, a weights file is there, every
    safetensors file is whole (its header covers the file exactly)."""
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: not a folder")
    for name in JSON_FILES:
        if (folder / name).is_file():
            read_json_file(folder / name)
    if needs_weights and not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise ModelFolderError(f"{folder}: no weights ({', '.join(WEIGHT_FILES)}); a model folder is written by "
                               "`gliner-biomed convert` or the trainer")
    for weights in sorted(folder.glob("*.safetensors")):
        check_safetensors(weights)


def check_safetensors(path: Path) -> None:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "pt") as handle:
            handle.keys()
    except SafetensorError as error:
        raise ModelFolderError(f"{path}: not a whole safetensors file ({error}); copy it again") from error


@contextmanager
def loader_errors_named(folder: Path) -> Iterator[None]:
    """What the loaders raise for a bad file, as one line naming it. A pickle that holds code is
    refused by torch's weights-only loader; its advice to retry with weights_only=False would run
    that code, so it is not repeated."""
    from safetensors import SafetensorError

    try:
        yield
    except pickle.UnpicklingError as error:
        pickled = ", ".join(str(path) for path in sorted(folder.glob("*.bin"))) or str(folder)
        raise ModelFolderError(f"{pickled}: refused: this pickled weights file holds more than tensors and could run code "
                               "when loaded; it was not loaded. Use a model.safetensors file instead") from error
    except SafetensorError as error:
        raise ModelFolderError(f"{folder}: a safetensors file is damaged ({error})") from error
