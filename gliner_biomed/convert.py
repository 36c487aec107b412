"""Conversion of checkpoints saved by the reference `gliner` package into transformers model
folders loadable with ``AutoModel.from_pretrained(dir, trust_remote_code=True)``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import torch
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig

from .modeling import LABELS_TOKENIZER_FOLDER, GLiNERConfig, backbone_config_from_dict, model_class_for
from .errors import BadInputError

# Reference parameter-name prefixes -> ours.
KEY_PREFIXES = (
    ("token_rep_layer.bert_layer.model.", "text_encoder."),
    ("token_rep_layer.projection.", "text_projection."),
    ("token_rep_layer.labels_encoder.model.", "labels_encoder."),
    ("token_rep_layer.labels_projection.", "labels_projection."),
    ("rnn.lstm.", "word_lstm.lstm."),
    ("span_rep_layer.span_rep_layer.", "span_head."),
    ("prompt_rep_layer.", "label_projection."),
)
# Non-persistent buffers that older checkpoints still carry.
IGNORED_SUFFIXES = ("position_ids",)
UNSUPPORTED_OPTIONS = {
    "post_fusion_schema": ("", None),
    "fuse_layers": (False, None),
    "span_encoder_config": (None,),
    "labels_decoder": (None,),
    "relations_layer": (None,),
    "represent_spans": (False, None),
}


class ConversionError(BadInputError):
    """A checkpoint that cannot be converted, with the reason."""


@dataclass
class ConversionOptions:
    """Local folders (with a config.json / tokenizer files) for what a checkpoint leaves out."""

    encoder_config: Optional[Path] = None
    labels_encoder_config: Optional[Path] = None
    labels_tokenizer: Optional[Path] = None
    fused_span_scoring: bool = False  # the fast span head instead of the reference's exact operations


def map_state_dict_key(key: str) -> Optional[str]:
    if key.endswith(IGNORED_SUFFIXES):
        return None
    for old, new in KEY_PREFIXES:
        if key.startswith(old):
            return new + key[len(old) :]
    raise ConversionError(f"unexpected parameter {key!r} in the checkpoint (unsupported GLiNER variant?)")


def load_reference_state_dict(source: Path) -> Dict[str, torch.Tensor]:
    safetensors_file, bin_file = source / "model.safetensors", source / "pytorch_model.bin"
    if safetensors_file.is_file():
        from safetensors.torch import load_file

        return load_file(str(safetensors_file))
    if bin_file.is_file():
        return torch.load(bin_file, map_location="cpu", weights_only=True)
    raise ConversionError(f"{source}: no model.safetensors or pytorch_model.bin")


def _backbone_config(saved, local_folder: Optional[Path], what: str, source: Path) -> PretrainedConfig:
    if saved is not None:
        values = dict(saved)
        values.setdefault("model_type", "deberta-v2")  # the reference's default for older configs
        return backbone_config_from_dict(values)
    if local_folder is None:
        flag = "--" + what.replace("_", "-")
        raise ConversionError(
            f"{source / 'gliner_config.json'}: {what} is null, so the backbone's config is not in the "
            f"checkpoint. Pass {flag} DIR: a local folder with the backbone's config.json "
            "(conversion never downloads it)."
        )
    if not (local_folder / "config.json").is_file():
        raise ConversionError(f"{local_folder}: no config.json (given for {what})")
    return AutoConfig.from_pretrained(str(local_folder), local_files_only=True)


def _load_tokenizer(folder: Path, what: str):
    if not (folder / "tokenizer_config.json").is_file() and not (folder / "tokenizer.json").is_file():
        raise ConversionError(f"{folder}: no tokenizer files for the {what}")
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def _prepare_text_tokenizer(tokenizer, ent_token: str, sep_token: str, uni_encoder: bool):
    # The reference switches on bos/eos for sentencepiece tokenizers that define them, and adds
    # its prompt tokens; saving the tokenizer in that state makes inputs identical at run time.
    if hasattr(tokenizer, "add_bos_token") and tokenizer.bos_token_id is not None:
        tokenizer.add_bos_token = True
    if hasattr(tokenizer, "add_eos_token") and tokenizer.eos_token_id is not None:
        tokenizer.add_eos_token = True
    if uni_encoder:
        missing = [token for token in (ent_token, sep_token) if token not in tokenizer.get_vocab()]
        if missing:
            tokenizer.add_tokens(missing, special_tokens=True)
    return tokenizer


def build_config(source: Path, options: ConversionOptions) -> GLiNERConfig:
    config_file = source / "gliner_config.json"
    if not config_file.is_file():
        raise ConversionError(f"{source}: no gliner_config.json (is this a gliner checkpoint folder?)")
    try:
        saved = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConversionError(f"{config_file}: not valid JSON ({error})") from error
    for option, accepted in UNSUPPORTED_OPTIONS.items():
        if saved.get(option) not in accepted:
            raise ConversionError(f"{config_file}: {option}={saved[option]!r} is not supported by this converter")
    if saved.get("span_mode", "markerV0") != "markerV0":
        raise ConversionError(
            f"{config_file}: span_mode={saved['span_mode']!r}; only markerV0 span models are supported"
        )
    is_bi = saved.get("labels_encoder") is not None
    encoder_config = _backbone_config(saved.get("encoder_config"), options.encoder_config, "encoder_config", source)
    if saved.get("vocab_size", -1) != -1:
        encoder_config.vocab_size = saved["vocab_size"]
    labels_encoder_config = None
    if is_bi:
        labels_encoder_config = _backbone_config(
            saved.get("labels_encoder_config"), options.labels_encoder_config, "labels_encoder_config", source
        )
    return GLiNERConfig(
        encoder_config=encoder_config.to_dict(),
        labels_encoder_config=labels_encoder_config.to_dict() if labels_encoder_config is not None else None,
        hidden_size=saved.get("hidden_size", 512),
        max_width=saved.get("max_width", 12),
        max_len=saved.get("max_len", 384),
        max_types=saved.get("max_types", 25),
        dropout=saved.get("dropout", 0.4),
        # The reference's bi-encoder carries BiLSTM weights but never applies them (its
        # get_representations skips the RNN), and released bi-encoders were trained that way.
        num_rnn_layers=0 if is_bi else saved.get("num_rnn_layers", 1),
        span_mode="markerV0",
        subtoken_pooling=saved.get("subtoken_pooling", "first"),
        class_token_index=saved.get("class_token_index", -1),
        embed_ent_token=saved.get("embed_ent_token", True),
        ent_token=saved.get("ent_token", "<<ENT>>"),
        sep_token=saved.get("sep_token", "<<SEP>>"),
        words_splitter_type=saved.get("words_splitter_type", "whitespace"),
        fused_span_scoring=options.fused_span_scoring,
    )


def convert_checkpoint(source: Path, output: Path, options: Optional[ConversionOptions] = None) -> Path:
    """Converts the gliner checkpoint folder ``source`` into the model folder ``output``.

    The output is written to a temporary folder beside ``output`` and renamed into place, so a
    failed conversion never leaves a half-written model.
    """
    source, output = Path(source), Path(output)
    options = options or ConversionOptions()
    if not source.is_dir():
        raise ConversionError(f"{source}: not a folder")
    config = build_config(source, options)

    tokenizer = _prepare_text_tokenizer(
        _load_tokenizer(source, "text encoder"), config.ent_token, config.sep_token, not config.is_bi_encoder
    )
    labels_tokenizer = None
    if config.is_bi_encoder:
        folder = options.labels_tokenizer or source / LABELS_TOKENIZER_FOLDER
        labels_tokenizer = _load_tokenizer(folder, "labels encoder")
    else:
        ent_id = tokenizer.convert_tokens_to_ids(config.ent_token)
        if config.class_token_index == -1:
            config.class_token_index = ent_id
        elif config.class_token_index != ent_id:
            raise ConversionError(
                f"{source}: class_token_index={config.class_token_index} but the tokenizer maps "
                f"{config.ent_token!r} to {ent_id}"
            )

    state_dict = {}
    for key, tensor in load_reference_state_dict(source).items():
        new_key = map_state_dict_key(key)
        if config.is_bi_encoder and new_key is not None and new_key.startswith("word_lstm."):
            continue  # unused by the reference bi-encoder (see build_config)
        if new_key is not None:
            state_dict[new_key] = tensor
    embeddings = state_dict.get("text_encoder.embeddings.word_embeddings.weight")
    if embeddings is not None:
        config.encoder_config.vocab_size = embeddings.shape[0]
        # Bi-encoder checkpoints keep the reference's unused prompt tokens in the tokenizer
        # without embedding rows; the word splitter never produces them as words.
        if not config.is_bi_encoder and len(tokenizer) > embeddings.shape[0]:
            raise ConversionError(
                f"{source}: the tokenizer has {len(tokenizer)} tokens but the checkpoint's embedding "
                f"matrix only {embeddings.shape[0]} rows"
            )

    model_class = model_class_for(config)
    model = model_class(config)
    result = model.load_state_dict(state_dict, strict=False)
    missing = [key for key in result.missing_keys if not key.endswith(IGNORED_SUFFIXES)]
    if missing or result.unexpected_keys:
        raise ConversionError(
            f"{source}: checkpoint does not match the architecture; missing {missing[:5]}, "
            f"unexpected {result.unexpected_keys[:5]}"
        )
    model.tokenizer, model.labels_tokenizer = tokenizer, labels_tokenizer
    model.eval()

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        model.save_pretrained(staging)
        if output.exists():
            shutil.rmtree(output)
        os.replace(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output
