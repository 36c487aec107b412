"""Loading GLiNER model folders inside the project (no trust_remote_code needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .modeling import GLiNERConfig, GLiNERPreTrainedModel, model_class_for
from .errors import BadInputError
from .model_folder_checks import check_model_folder, loader_errors_named, looks_like_a_path

# The trained default model ships inside the package (an adapter package; see its model card).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default_model"


class ModelNotFoundError(BadInputError, FileNotFoundError):
    pass


def resolve_model_path(model: Optional[str]) -> str:
    if model is not None:
        return model
    if (DEFAULT_MODEL_DIR / "config.json").is_file():
        return str(DEFAULT_MODEL_DIR)
    raise ModelNotFoundError(
        f"no --model given and no default model in {DEFAULT_MODEL_DIR}; pass --model DIR, "
        "a folder written by `gliner-biomed convert` or by the trainer"
    )


def load_model(model: Optional[str] = None, device: str = "cpu", **hub_kwargs) -> GLiNERPreTrainedModel:
    """Loads a GLiNER model folder (or Hub repo id) with this project's model classes.

    An adapter package written by the trainers (config + tokenizer + heads + LoRA adapter of the
    encoder, like the shipped default model) is assembled over its base encoder, adapter merged, once:
    the result is kept in a verified cache (see ``assembled_cache``) and read from there afterwards."""
    path = resolve_model_path(model)
    from .trainers.packaging import is_adapter_package, load_adapter_package

    if not Path(path).exists():
        if looks_like_a_path(path):
            raise ModelNotFoundError(f"--model {path}: no such folder")
    else:
        check_model_folder(Path(path), needs_weights=not is_adapter_package(path))
    if is_adapter_package(path):
        from . import assembled_cache

        cached = assembled_cache.cached_folder(path)
        if cached is not None:
            return _load_model_folder(str(cached), device)
        with loader_errors_named(Path(path)):
            assembled = load_adapter_package(path, merge=True, device=device)
        assembled_cache.store(path, assembled)
        return assembled
    if Path(path).exists() and not (Path(path) / "config.json").is_file():
        raise ModelNotFoundError(f"{path}: no config.json; is this a model folder written by `gliner-biomed convert`?")
    return _load_model_folder(path, device, **hub_kwargs)


def _load_model_folder(path: str, device: str, **hub_kwargs) -> GLiNERPreTrainedModel:
    with loader_errors_named(Path(path)):
        config = GLiNERConfig.from_pretrained(path, **hub_kwargs)
        loaded = model_class_for(config).from_pretrained(path, config=config, **hub_kwargs)
    return loaded.to(device).eval()
