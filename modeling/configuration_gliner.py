"""Configuration of GLiNER span models (uni-encoder and bi-encoder)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from transformers import PretrainedConfig
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

SUPPORTED_SPAN_MODES = ("markerV0",)
SUPPORTED_SUBTOKEN_POOLING = ("first", "last")
# "whitespace": the reference's regex splitter (hyphenated compounds stay one word);
# "alphanumeric": every run of letters/digits is a word, so "cocaine-induced" is three words.
SUPPORTED_WORD_SPLITTERS = ("whitespace", "alphanumeric")


def backbone_config_from_dict(config: Any) -> Optional[PretrainedConfig]:
    """Turns a serialized backbone config (dict with ``model_type``) into its config class."""
    if config is None or isinstance(config, PretrainedConfig):
        return config
    if not isinstance(config, dict) or "model_type" not in config:
        raise ValueError(
            "a backbone config must be a dict with a 'model_type' key (as written by "
            f"PretrainedConfig.to_dict()), got {type(config).__name__}"
        )
    values = dict(config)
    return CONFIG_MAPPING[values.pop("model_type")](**values)


class GLiNERConfig(PretrainedConfig):
    r"""
    Configuration of a GLiNER span model: a transformer backbone reads the text (and, for the
    uni-encoder, the entity-type prompt), words are pooled from their sub-tokens, a BiLSTM
    contextualises them, every span of up to ``max_width`` words gets a representation from its
    start and end words ("markerV0"), and a span's score for an entity type is the dot product
    of the span representation with the projected type embedding.

    Args:
        encoder_config (`dict` or `PretrainedConfig`):
            Config of the text encoder backbone (BERT, DeBERTa-v2/v3, ...).
        labels_encoder_config (`dict` or `PretrainedConfig`, *optional*):
            Config of the separate labels encoder. Set for bi-encoder models, `None` for
            uni-encoder models, whose labels are prompt tokens in the text.
        hidden_size (`int`, defaults to 512):
            Width of the span and label representations.
        max_width (`int`, defaults to 12):
            Longest span, in words.
        max_len (`int`, defaults to 384):
            Most words the model reads in one pass. Longer texts are split into overlapping
            windows (never truncated).
        window_overlap (`int`, *optional*):
            Words shared by consecutive windows of a long text; defaults to ``2 * max_width``,
            so that every span lies whole inside the window that owns it.
        max_types (`int`, defaults to 25):
            Most entity types in one uni-encoder prompt; larger label sets are split into
            several passes so that they do not crowd out the text.
        dropout (`float`, defaults to 0.4):
            Dropout of the projection layers (training only).
        num_rnn_layers (`int`, defaults to 1):
            BiLSTM layers over word representations; 0 disables the BiLSTM.
        span_mode (`str`, defaults to `"markerV0"`):
            Span representation. Only ``"markerV0"`` (the released GLiNER/GLiNER-biomed
            checkpoints) is implemented.
        subtoken_pooling (`str`, defaults to `"first"`):
            Which sub-token represents a word: ``"first"`` or ``"last"``.
        class_token_index (`int`, defaults to -1):
            Vocabulary id of ``ent_token`` (uni-encoder).
        embed_ent_token (`bool`, defaults to `True`):
            Whether a label is represented by its ``ent_token`` (True) or by the token after it.
        ent_token / sep_token (`str`):
            Prompt marker tokens of the uni-encoder.
        words_splitter_type (`str`, defaults to `"whitespace"`):
            Word splitter: ``"whitespace"`` (the reference's regex splitter: runs of word
            characters joined by single hyphens/underscores, or any other single non-space
            character) or ``"alphanumeric"`` (runs of word characters, or any other single
            non-space character: mentions inside hyphenated compounds become reachable spans).
        fused_span_scoring (`bool`, defaults to `False`):
            Score spans without the `(words, max_width, 2*hidden)` intermediates (faster, far
            less memory; float rounding differs from the reference by about 1e-6, which can
            flip decisions between candidates whose scores tie within that noise). False gives
            the reference's scores bit for bit.
        per_text_attention (`bool`, defaults to `True`):
            DeBERTa-v2/v3 backbones, CPU inference: compute the disentangled self-attention one
            text of the batch at a time, in place (see ``PerTextDisentangledSelfAttention`` in ``modeling_gliner``). Same operations
            in the same order as transformers' module, so the same floats; about 2x faster
            encoder at batch 16. Other backbones, training and accelerators are unaffected. Read
            when the model is built; switch a built model with ``model.set_per_text_attention``.
    """

    model_type = "gliner_span"

    def __init__(
        self,
        encoder_config: Optional[Dict[str, Any]] = None,
        labels_encoder_config: Optional[Dict[str, Any]] = None,
        hidden_size: int = 512,
        max_width: int = 12,
        max_len: int = 384,
        window_overlap: Optional[int] = None,
        max_types: int = 25,
        dropout: float = 0.4,
        num_rnn_layers: int = 1,
        span_mode: str = "markerV0",
        subtoken_pooling: str = "first",
        class_token_index: int = -1,
        embed_ent_token: bool = True,
        ent_token: str = "<<ENT>>",
        sep_token: str = "<<SEP>>",
        words_splitter_type: str = "whitespace",
        fused_span_scoring: bool = False,
        per_text_attention: bool = True,
        **kwargs,
    ):
        if span_mode not in SUPPORTED_SPAN_MODES:
            raise ValueError(f"span_mode={span_mode!r} is not supported; supported: {SUPPORTED_SPAN_MODES}")
        if subtoken_pooling not in SUPPORTED_SUBTOKEN_POOLING:
            raise ValueError(
                f"subtoken_pooling={subtoken_pooling!r} is not supported; supported: {SUPPORTED_SUBTOKEN_POOLING}"
            )
        if words_splitter_type not in SUPPORTED_WORD_SPLITTERS:
            raise ValueError(
                f"words_splitter_type={words_splitter_type!r} is not supported; supported: {SUPPORTED_WORD_SPLITTERS}"
            )
        self.encoder_config = backbone_config_from_dict(encoder_config)
        self.labels_encoder_config = backbone_config_from_dict(labels_encoder_config)
        self.hidden_size = hidden_size
        self.max_width = max_width
        self.max_len = max_len
        self.window_overlap = window_overlap if window_overlap is not None else 2 * max_width
        if not 0 <= self.window_overlap < max_len:
            raise ValueError(f"window_overlap={self.window_overlap} must be in [0, max_len={max_len})")
        self.max_types = max_types
        self.dropout = dropout
        self.num_rnn_layers = num_rnn_layers
        self.span_mode = span_mode
        self.subtoken_pooling = subtoken_pooling
        self.class_token_index = class_token_index
        self.embed_ent_token = embed_ent_token
        self.ent_token = ent_token
        self.sep_token = sep_token
        self.words_splitter_type = words_splitter_type
        self.fused_span_scoring = fused_span_scoring
        self.per_text_attention = per_text_attention
        super().__init__(**kwargs)

    @property
    def is_bi_encoder(self) -> bool:
        return self.labels_encoder_config is not None

    def to_dict(self) -> Dict[str, Any]:
        output = super().to_dict()
        for key in ("encoder_config", "labels_encoder_config"):
            value = getattr(self, key)
            output[key] = value.to_dict() if isinstance(value, PretrainedConfig) else value
        return output
