"""Model folders the trainers write: a full model (save_pretrained, loadable with AutoModel +
trust_remote_code) or an adapter package (config + tokenizer + heads + a PEFT LoRA adapter of
the encoder, a few MB) that is assembled over its base encoder at load time."""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path
from typing import Dict, Optional

import torch
from safetensors.torch import load_file, save_file

from gliner_biomed.atomic_files import atomic_folder
from gliner_biomed.modeling import GLiNERConfig, GLiNERPreTrainedModel, model_class_for

from .adapter_format import ADAPTER_FOLDER, HEADS_FILE, PACKAGE_FILE, PACKAGE_FORMAT, is_adapter_package, read_package  # noqa: F401
from .model_setup import has_lora, merge_lora, pip_packaged_encoder


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def encoder_weights_file(folder: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder}: no model.safetensors or pytorch_model.bin")


def describe_base_encoder(encoder_dir: str) -> Dict:
    """Where the base encoder comes from at load time: a pip package that ships it (named with
    the encoder's Hub id, so the package works on any machine), else the folder; plus the
    weights' checksum."""
    from .standard_adapter import HUB_IDS_OF_PACKAGES

    folder = Path(encoder_dir).resolve()
    checksum = file_sha256(encoder_weights_file(folder))
    for package in HUB_IDS_OF_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        if Path(module.get_model_path()).resolve() == folder:
            return {"hub_id": HUB_IDS_OF_PACKAGES[package], "package": package, "sha256": checksum}
    return {"path": str(folder), "sha256": checksum}


def resolve_base_encoder(description: Dict, where: Path) -> Path:
    if description.get("package"):
        folder = pip_packaged_encoder(description["package"], f"{where}: the base encoder")
    else:
        folder = Path(description["path"])
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{where}: base encoder folder {folder} is missing")
    checksum = file_sha256(encoder_weights_file(folder))
    if description.get("sha256") and checksum != description["sha256"]:
        raise ValueError(
            f"{where}: the base encoder at {folder} has different weights (sha256 {checksum[:12]}...) than the "
            f"adapter was trained on ({description['sha256'][:12]}...)"
        )
    return folder


def adapter_package_base_encoder(path) -> Path:
    """The local folder of the encoder an adapter package's adapter was trained over."""
    path = Path(path)
    package = read_package(path)
    if "base_encoder" not in package:
        raise ValueError(f"{path}: an adapter over the GLiNER model {package.get('base_model')}, not over a plain encoder")
    return resolve_base_encoder(package["base_encoder"], path)


def labels_encoder_is_frozen(model: GLiNERPreTrainedModel) -> bool:
    return model.config.is_bi_encoder and not any(p.requires_grad for p in model.labels_encoder.parameters())


def head_state_dict(model: GLiNERPreTrainedModel, skip_labels_encoder: bool = False) -> Dict[str, torch.Tensor]:
    skipped = ("text_encoder.", "labels_encoder.") if skip_labels_encoder else ("text_encoder.",)
    return {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items() if not name.startswith(skipped)}


def save_model_folder(model: GLiNERPreTrainedModel, out_dir, base: Optional[Dict] = None, extra: Optional[Dict] = None,
                      heads_dtype: Optional[torch.dtype] = None) -> Path:
    """Writes ``model`` to ``out_dir`` (atomically: a temporary folder renamed into place). A model
    with a LoRA encoder becomes an adapter package over ``base``: ``{"encoder": folder}`` (a plain
    encoder, e.g. a new model's) or ``{"model": folder}`` (a GLiNER model the adapter was trained on);
    ``heads_dtype`` (e.g. torch.float16) stores its heads smaller (they are read back as float32)."""
    out_dir = Path(out_dir)
    package: Dict = {}
    with atomic_folder(out_dir, overwrite=True) as tmp:
        if has_lora(model):
            if not base or set(base) - {"labels_encoder"} not in ({"encoder"}, {"model"}):
                raise ValueError(f"saving a LoRA model needs its base: {{'encoder': folder}} or {{'model': folder}}, got {base!r}")
            # A frozen labels encoder is the pretrained one: named like the base encoder, not copied.
            frozen_labels = labels_encoder_is_frozen(model) and bool(base.get("labels_encoder"))
            # Only the project's own loader assembles a package, with its installed classes: no
            # remote-code copy of the config class (it could only go stale) and no auto_map to it.
            config = model.config.to_dict()
            config.pop("auto_map", None)
            (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            model.tokenizer.save_pretrained(tmp)
            if model.labels_tokenizer is not None:
                model.labels_tokenizer.save_pretrained(tmp / "labels_tokenizer")
            heads = head_state_dict(model, skip_labels_encoder=frozen_labels)
            if heads_dtype is not None:
                heads = {k: v.to(heads_dtype) if v.is_floating_point() else v for k, v in heads.items()}
            save_file(heads, str(tmp / HEADS_FILE))
            # The resized embedding matrix is the base's plus the prompt-marker rows, which the
            # adapter already holds as trainable tokens: do not copy the whole matrix into it.
            model.text_encoder.save_pretrained(str(tmp / ADAPTER_FOLDER), save_embedding_layers=False)
            if "encoder" in base:
                package = {"format": PACKAGE_FORMAT, "base_encoder": describe_base_encoder(base["encoder"])}
            else:
                package = {"format": PACKAGE_FORMAT, "base_model": str(Path(base["model"]).resolve())}
            if frozen_labels:
                package["base_labels_encoder"] = describe_base_encoder(base["labels_encoder"])
            package.update(extra or {})
            (tmp / PACKAGE_FILE).write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
        else:
            model.save_pretrained(str(tmp))
            if extra:
                (tmp / "training_info.json").write_text(json.dumps(extra, indent=2) + "\n", encoding="utf-8")
    if "hub_id" in package.get("base_encoder", {}):
        # over a published encoder: a standard PEFT adapter of the unchanged base
        from .standard_adapter import move_markers_to_unused_rows

        move_markers_to_unused_rows(out_dir)
    return out_dir


def load_adapter_package(path, merge: bool = True, device: str = "cpu", trainable: bool = False) -> GLiNERPreTrainedModel:
    """Base encoder + LoRA adapter + heads. ``merge`` folds the adapter into the encoder (a plain
    model, as fast as a full one); otherwise the encoder stays a PeftModel."""
    from peft import PeftModel
    from transformers import AutoModel

    path = Path(path)
    package = read_package(path)
    config = GLiNERConfig.from_pretrained(path)
    if "base_model" in package:  # an adapter over a GLiNER model (e.g. few-shot adaptation)
        from gliner_biomed.models import load_model

        if not Path(package["base_model"]).exists():
            raise FileNotFoundError(f"{path}: base model {package['base_model']} is missing")
        base = load_model(package["base_model"]).text_encoder
    else:
        base = AutoModel.from_pretrained(str(resolve_base_encoder(package["base_encoder"], path)))
        if base.config.vocab_size != config.encoder_config.vocab_size:
            # the added rows (prompt markers) are overwritten by the adapter's saved embeddings, so
            # transformers' mean-and-covariance initialisation would be work (and a warning) for nothing
            base.resize_token_embeddings(config.encoder_config.vocab_size, mean_resizing=False)
    encoder = PeftModel.from_pretrained(base, str(path / ADAPTER_FOLDER), is_trainable=trainable)
    backbones = {}
    if "base_labels_encoder" in package:
        labels_folder = resolve_base_encoder(package["base_labels_encoder"], path)
        backbones["labels_encoder"] = AutoModel.from_pretrained(str(labels_folder)).requires_grad_(False)
    model = model_class_for(config)(config, text_encoder=encoder, **backbones)
    heads = load_file(str(path / HEADS_FILE))
    expected = set(head_state_dict(model, skip_labels_encoder="labels_encoder" in backbones))
    if set(heads) != expected:
        raise ValueError(
            f"{path / HEADS_FILE}: tensors do not match the model (missing {sorted(expected - set(heads))[:5]}, "
            f"unexpected {sorted(set(heads) - expected)[:5]})"
        )
    model.load_state_dict(heads, strict=False)  # copies (and upcasts half-precision heads) into place
    model.load_tokenizers(str(path))
    if merge:
        merge_lora(model)
    return model.to(device).eval()


def export_full_model(adapter_dir, out_dir) -> Path:
    """A standalone model folder (adapter merged) for AutoModel.from_pretrained(trust_remote_code=True)."""
    model = load_adapter_package(adapter_dir, merge=True)
    return save_model_folder(model, out_dir)
