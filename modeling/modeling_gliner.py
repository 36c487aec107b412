"""GLiNER span models as transformers models: the layers, the DeBERTa-v2 per-text attention,
the shared base (heads, loading and saving complete repositories, prediction through the
processor), and the two architectures (uni-encoder and bi-encoder)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers import AutoModel, PreTrainedModel
from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention
from transformers.utils import ModelOutput

from .configuration_gliner import GLiNERConfig
from .pipeline_gliner import PIPELINE_TASK, GLiNERPipeline
from .processing_gliner import GLiNERProcessor, Labels, ScoredDocument

# -- layers ---------------------------------------------------------------------------------
class ProjectionMLP(nn.Sequential):
    """``in -> 4*out -> ReLU -> dropout -> out``; the layer indices (0 and 3) match the
    reference checkpoints' parameter names."""

    def __init__(self, in_features: int, dropout: float, out_features: int | None = None):
        out_features = in_features if out_features is None else out_features
        super().__init__(
            nn.Linear(in_features, out_features * 4),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(out_features * 4, out_features),
        )


class WordBiLSTM(nn.Module):
    """Bidirectional LSTM over word representations, skipping padding."""

    def __init__(self, hidden_size: int, num_layers: int = 1):
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=hidden_size,
            hidden_size=hidden_size // 2,
            num_layers=num_layers,
            bidirectional=True,
            batch_first=True,
        )

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        """
        Args:
            words: `(batch, num_words, hidden)`.
            word_mask: `(batch, num_words)`, true for real words.
        Returns:
            `(batch, num_words, hidden)`; padding positions are zeros.
        """
        num_words = words.shape[1]
        lengths = word_mask.sum(dim=1).clamp(min=1).cpu()
        packed = pack_padded_sequence(words, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=num_words)
        return output


class SpanMarkerHead(nn.Module):
    """Span-type scores from projected start and end words ("markerV0").

    Two ways to compute the same function:

    * ``fused=False`` (default) follows the reference operation for operation: a
      `(batch, words * max_width, 2*hidden)` concatenation of start and end representations is
      projected to `4*hidden`, then to `hidden`, then dotted with each type. Scores are
      bit-for-bit those of the reference package on the same batch.
    * ``fused=True`` avoids the large intermediates: the first projection of
      ``[relu(start), relu(end)]`` splits into a start part and an end part computed once per
      word; the second projection folds into the type embeddings (one `(4*hidden, num_types)`
      matrix per text); spans are visited one width at a time, so no
      `(words, max_width, 4*hidden)` tensor exists. Same function on the spans inside the text
      (spans running past the last word score 0 instead of an arbitrary value), different float rounding
      (about 1e-6), so a decision between two candidates whose scores tie within that noise
      can go the other way.

    Parameter names and shapes are the reference's, so its checkpoints load unchanged.
    """

    def __init__(self, hidden_size: int, max_width: int, dropout: float):
        super().__init__()
        self.max_width = max_width
        self.project_start = ProjectionMLP(hidden_size, dropout)
        self.project_end = ProjectionMLP(hidden_size, dropout)
        self.out_project = ProjectionMLP(hidden_size * 2, dropout, hidden_size)

    def forward(self, words: torch.Tensor, labels: torch.Tensor, fused: bool = False) -> torch.Tensor:
        """
        Args:
            words: `(batch, num_words, hidden)` contextual word representations.
            labels: `(batch, num_labels, hidden)` projected type embeddings.
            fused: use the low-memory computation (see the class docstring).
        Returns:
            `(batch, num_words, max_width, num_labels)` scores; the span starting at word ``i``
            with width ``k`` covers words ``i .. i + k``. Spans running past the last word are
            meaningless (mask them with `enumerate_spans`).
        """
        start = self.project_start(words)
        end = self.project_end(words)
        if fused:
            return self._fused_scores(start, end, labels)
        batch, num_words, hidden = words.shape
        # (start, end) of every span, ordered by start then width; spans past the end point at
        # word 0, as in the reference
        starts = torch.arange(num_words, device=words.device)[:, None].expand(-1, self.max_width)
        ends = starts + torch.arange(self.max_width, device=words.device)
        inside = ends < num_words
        starts, ends = (starts * inside).reshape(-1), (ends * inside).reshape(-1)
        spans = torch.cat([start[:, starts], end[:, ends]], dim=-1).relu()
        spans = self.out_project(spans).view(batch, num_words, self.max_width, hidden)
        return torch.einsum("bwkd,bcd->bwkc", spans, labels)

    def _fused_scores(self, start: torch.Tensor, end: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        batch, num_words, hidden = start.shape
        first, _, dropout, second = self.out_project
        start_part = nn.functional.linear(start.relu(), first.weight[:, :hidden], first.bias)  # (batch, words, 4*hidden)
        end_part = nn.functional.linear(end.relu(), first.weight[:, hidden:])  # (batch, words, 4*hidden)
        label_weights = torch.matmul(second.weight.t(), labels.transpose(1, 2))  # (batch, 4*hidden, num_labels)
        label_bias = torch.matmul(labels, second.bias)  # (batch, num_labels)
        # Spans running past the last word keep score 0 (the span mask hides them); the others
        # are computed from aligned slices, so no gathered copy of `end_part` is made.
        scores = start_part.new_zeros(batch, num_words, self.max_width, labels.shape[1])
        for width in range(min(self.max_width, num_words)):
            hidden_units = dropout(torch.add(start_part[:, : num_words - width], end_part[:, width:]).relu_())
            scores[:, : num_words - width, width] = torch.baddbmm(label_bias.unsqueeze(1), hidden_units, label_weights)
        return scores


def pool_words(
    token_states: torch.Tensor, word_index: torch.Tensor, num_words: int
) -> torch.Tensor:
    """Gathers one sub-token per word.

    Args:
        token_states: `(batch, seq_len, hidden)`.
        word_index: `(batch, seq_len)`: for the sub-token chosen to represent a word, that
            word's index + 1; 0 elsewhere.
        num_words: width of the output.
    Returns:
        `(batch, num_words, hidden)`; words without a representative sub-token are zeros.
    """
    batch, _, hidden = token_states.shape
    words = token_states.new_zeros(batch, num_words, hidden)
    batch_idx, token_idx = torch.nonzero(word_index > 0, as_tuple=True)
    words[batch_idx, word_index[batch_idx, token_idx] - 1] = token_states[batch_idx, token_idx]
    return words


def enumerate_spans(lengths: torch.Tensor, num_words: int, max_width: int) -> torch.Tensor:
    """`(batch, num_words, max_width)` mask of the spans (start word, width) that lie inside
    each text of `(batch,)` word ``lengths``."""
    ends = torch.arange(num_words, device=lengths.device)[:, None] + torch.arange(max_width, device=lengths.device)
    return ends[None] < lengths[:, None, None]


def focal_loss_with_logits(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    alpha: float = -1.0,
    gamma: float = 0.0,
) -> torch.Tensor:
    """Sum of the (optionally focal) binary cross-entropy over unmasked span/type cells.

    Args:
        logits: `(..., num_types)` span-type scores.
        targets: same shape, 1.0 where the span has the type.
        mask: same shape (or broadcastable), true where the cell counts.
        alpha: weight of positives in [0, 1]; negative disables the weighting.
        gamma: focusing parameter; 0 gives plain binary cross-entropy.
    """
    loss = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if gamma > 0:
        probs = torch.sigmoid(logits)
        p_t = probs * targets + (1 - probs) * (1 - targets)
        loss = loss * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    return (loss * mask).sum()


# -- DeBERTa-v2/v3 per-text attention ------------------------------------------------------
# DeBERTa-v2/v3 disentangled self-attention computed one text of the batch at a time.
#
# transformers' ``DisentangledSelfAttention`` materialises about ten `(batch * heads, seq, seq)`
# float buffers per layer (scores, two gathered position terms, their scaled copies, their sum, the
# masked scores, the probabilities) and walks each of them once. On a CPU, at batch 16 and 450
# sub-tokens, each buffer is 150 MB: the layer is bound by memory traffic and page faults, and the
# attention costs three times the layer's matrix products. Run per text, the working set is a
# `(heads, seq, seq)` slice that stays in cache, and the buffers are reused in place.
#
# The operations and their order are transformers' own (the same products, the same divisions by
# the same scale, the same sums in the same order, the same mask value), so every float is the
# same: the tests compare encoder states bit for bit on real documents. The module falls back to
# the parent's code where it does not apply: while gradients are recorded (training), on
# accelerators (not measured here), during ONNX export or tracing (a Python loop over the batch
# would be frozen into the graph), and for the rarely used call forms (``query_states``,
# ``output_attentions``, per-text relative positions).
class PerTextDisentangledSelfAttention(DisentangledSelfAttention):
    """Same parameters and outputs as ``DisentangledSelfAttention``; see the module docstring."""

    def forward(
        self,
        hidden_states,
        attention_mask,
        output_attentions=False,
        query_states=None,
        relative_pos=None,
        rel_embeddings=None,
    ):
        if not self._per_text_applies(hidden_states, attention_mask, output_attentions, query_states, relative_pos):
            return super().forward(
                hidden_states,
                attention_mask,
                output_attentions=output_attentions,
                query_states=query_states,
                relative_pos=relative_pos,
                rel_embeddings=rel_embeddings,
            )
        return self._per_text_forward(hidden_states, attention_mask, relative_pos, rel_embeddings), None

    def _per_text_applies(self, hidden_states, attention_mask, output_attentions, query_states, relative_pos) -> bool:
        if torch.is_grad_enabled() or output_attentions or query_states is not None:
            return False
        if hidden_states.device.type != "cpu" or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            return False
        if attention_mask.dim() != 4:
            return False
        if self.relative_attention:
            if relative_pos is None or relative_pos.dim() not in (2, 3) or relative_pos.numel() != relative_pos.shape[-1] ** 2:
                return False
        return True

    def _per_text_forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor,
        relative_pos: torch.Tensor | None,
        rel_embeddings: torch.Tensor | None,
    ) -> torch.Tensor:
        """
        Args:
            hidden_states: `(batch, seq_len, hidden)`.
            attention_mask: `(batch or 1, 1, seq_len, seq_len)`, true where query i may see key j.
            relative_pos: `(1, seq_len, seq_len)` or `(seq_len, seq_len)` bucketed query - key positions.
            rel_embeddings: `(num_relative_embeddings, hidden)`.
        Returns:
            `(batch, seq_len, all_head_size)` attention context.
        """
        heads = self.num_attention_heads
        batch, seq_len = hidden_states.shape[:2]
        query = self.transpose_for_scores(self.query_proj(hidden_states), heads)  # (batch*heads, seq, head_dim)
        key = self.transpose_for_scores(self.key_proj(hidden_states), heads)
        value = self.transpose_for_scores(self.value_proj(hidden_states), heads)

        use_c2p = self.relative_attention and "c2p" in self.pos_att_type
        use_p2c = self.relative_attention and "p2c" in self.pos_att_type
        scale_factor = 1 + ("c2p" in self.pos_att_type) + ("p2c" in self.pos_att_type)
        scale = torch.sqrt(torch.tensor(query.size(-1), dtype=torch.float) * scale_factor).to(dtype=query.dtype)
        key_scaled_t = key.transpose(-1, -2) / scale  # (batch*heads, head_dim, seq)

        if use_c2p or use_p2c:
            span = self.pos_ebd_size
            positions = self.pos_dropout(rel_embeddings)[0 : span * 2, :].unsqueeze(0)
            relative_pos = relative_pos.reshape(seq_len, seq_len).to(device=query.device, dtype=torch.long)
        if use_c2p:
            projection = self.key_proj if self.share_att_key else self.pos_key_proj
            pos_key_t = self.transpose_for_scores(projection(positions), heads).transpose(-1, -2)  # (heads, head_dim, 2*span)
            c2p_index = torch.clamp(relative_pos + span, 0, span * 2 - 1).expand(heads, seq_len, seq_len)
        if use_p2c:
            projection = self.query_proj if self.share_att_key else self.pos_query_proj
            pos_query_t = self.transpose_for_scores(projection(positions), heads).transpose(-1, -2)
            p2c_index = torch.clamp(-relative_pos + span, 0, span * 2 - 1).expand(heads, seq_len, seq_len)

        masked = ~attention_mask.bool()  # (batch or 1, 1, seq, seq)
        fill_value = torch.finfo(query.dtype).min
        context = torch.empty_like(query)
        for text in range(batch):
            rows = slice(text * heads, (text + 1) * heads)
            scores = torch.bmm(query[rows], key_scaled_t[rows])  # (heads, seq, seq)
            # transformers: scores + (c2p / scale + p2c.T / scale); float addition commutes, so
            # summing into the c2p buffer first keeps every rounding step
            relative = None
            if use_c2p:
                relative = torch.gather(torch.bmm(query[rows], pos_key_t), -1, c2p_index).div_(scale)
            if use_p2c:
                p2c = torch.gather(torch.bmm(key[rows], pos_query_t), -1, p2c_index).div_(scale)
                relative = p2c.transpose(-1, -2) if relative is None else relative.add_(p2c.transpose(-1, -2))
            if relative is not None:
                scores.add_(relative)
            scores.masked_fill_(masked[text if masked.shape[0] > 1 else 0], fill_value)
            probabilities = self.dropout(nn.functional.softmax(scores, dim=-1))
            torch.bmm(probabilities, value[rows], out=context[rows])
        context = context.view(batch, heads, seq_len, -1).permute(0, 2, 1, 3).contiguous()
        return context.view(batch, seq_len, -1)


def set_per_text_attention(module: nn.Module, enabled: bool) -> int:
    """Swaps every DeBERTa-v2 attention inside ``module`` to the per-text class (``enabled``) or
    back to transformers' class, keeping its weights; returns how many were swapped."""
    source, target = (
        (DisentangledSelfAttention, PerTextDisentangledSelfAttention)
        if enabled
        else (PerTextDisentangledSelfAttention, DisentangledSelfAttention)
    )
    swapped = 0
    for child in list(module.modules()):
        if type(child) is not source:
            continue
        # the subclass adds no state: only the class (the forward) changes, so the parameters,
        # their device, dtype and any hooks stay exactly as they are
        child.__class__ = target
        swapped += 1
    return swapped


# -- shared base -----------------------------------------------------------------------------
HUB_KWARGS = ("cache_dir", "revision", "token", "local_files_only", "subfolder", "force_download", "proxies")
# The files of a complete model repository's code (this folder), copied next to its weights.
CODE_FILES = ("configuration_gliner.py", "modeling_gliner.py", "processing_gliner.py", "pipeline_gliner.py")
CARD_FILE = "README.md"


@dataclass
class GLiNEROutput(ModelOutput):
    """
    Args:
        loss: scalar, when `span_labels` were given.
        logits: `(batch, num_words, max_width, num_labels)` span-label scores (before sigmoid).
        span_mask: `(batch, num_words, max_width)`, true for spans inside their text.
    """

    loss: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    span_mask: Optional[torch.BoolTensor] = None


class GLiNERPreTrainedModel(PreTrainedModel):
    """Base of the GLiNER span models. Subclasses build ``text_encoder`` (and the labels
    encoder) and implement ``encode`` → ``(words, word_mask, label_embeddings)``."""

    config_class = GLiNERConfig
    base_model_prefix = "gliner"
    main_input_name = "input_ids"
    _tied_weights_keys: Dict[str, str] = {}

    def _init_heads(self, config: GLiNERConfig, encoder_hidden_size: int) -> None:
        self.text_projection = (
            nn.Linear(encoder_hidden_size, config.hidden_size) if encoder_hidden_size != config.hidden_size else None
        )
        self.word_lstm = WordBiLSTM(config.hidden_size, config.num_rnn_layers) if config.num_rnn_layers > 0 else None
        self.span_head = SpanMarkerHead(config.hidden_size, config.max_width, config.dropout)
        self.label_projection = ProjectionMLP(config.hidden_size, config.dropout)
        self.tokenizer = None
        self.labels_tokenizer = None
        # Set in the constructor, so that every way of building a model (from a config, over
        # given backbones, wrapped in PEFT) gets the same attention.
        set_per_text_attention(self, config.per_text_attention)

    @staticmethod
    def _backbone(given: Optional[nn.Module], config, what: str) -> nn.Module:
        """The backbone handed to the constructor (pretrained weights, a PEFT-wrapped encoder),
        else a fresh one built from its config."""
        if given is None:
            return AutoModel.from_config(config)
        hidden = getattr(getattr(given, "config", None), "hidden_size", None)
        if hidden is not None and hidden != config.hidden_size:
            raise ValueError(f"the {what} has hidden size {hidden}, the config says {config.hidden_size}")
        # post_init() initialises every module transformers has not marked as initialised; a
        # given backbone's weights (its LoRA matrices too) are the point of giving it.
        for module in given.modules():
            module._is_hf_initialized = True
        for tensor in list(given.parameters()) + list(given.buffers()):
            tensor._is_hf_initialized = True
        return given

    @classmethod
    def from_encoders(cls, config: GLiNERConfig, text_encoder: nn.Module, labels_encoder: Optional[nn.Module] = None,
                      tokenizer=None, labels_tokenizer=None) -> "GLiNERPreTrainedModel":
        """A model over given backbones (e.g. pretrained encoders, whose weights are kept) with
        fresh heads, and its tokenizers. The uni-encoder or bi-encoder class, as the config says."""
        model_class = GLiNERBiEncoderModel if config.is_bi_encoder else GLiNERUniEncoderModel
        if cls not in (GLiNERPreTrainedModel, model_class):
            raise ValueError(f"{cls.__name__}.from_encoders: this config makes a {model_class.__name__}")
        backbones = {"labels_encoder": labels_encoder} if config.is_bi_encoder else {}
        model = model_class(config, text_encoder=text_encoder, **backbones)
        model.tokenizer, model.labels_tokenizer = tokenizer, labels_tokenizer
        return model

    def set_per_text_attention(self, enabled: bool) -> None:
        """Switches the DeBERTa-v2 backbones' per-text attention (``config.per_text_attention``)
        on or off; the weights are untouched."""
        self.config.per_text_attention = enabled
        set_per_text_attention(self, enabled)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """Heads: PyTorch's default initialisation (as the reference's), drawn again for heads
        that a checkpoint does not hold (transformers builds those empty). Backbones are
        initialised by their own classes (transformers hands their modules to them)."""
        if isinstance(module, (nn.Linear, nn.LSTM)):
            module.reset_parameters()

    # -- shared forward pieces ------------------------------------------------------------
    def encode_text(self, input_ids: torch.LongTensor, attention_mask: torch.LongTensor) -> torch.Tensor:
        """`(batch, seq_len)` sub-tokens -> `(batch, seq_len, hidden)` projected states."""
        states = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.text_projection is not None:
            states = self.text_projection(states)
        return states

    def encode_words(
        self, states: torch.Tensor, word_index: torch.LongTensor, word_lengths: torch.LongTensor
    ) -> torch.Tensor:
        """`(batch, seq_len, hidden)` states -> `(batch, max_words, hidden)` contextual words."""
        num_words = int(word_lengths.max())
        words = pool_words(states, word_index, num_words)
        if self.word_lstm is not None:
            word_mask = torch.arange(num_words, device=states.device)[None, :] < word_lengths[:, None]
            words = self.word_lstm(words, word_mask)
        return words

    def score_spans(
        self,
        words: torch.Tensor,
        word_lengths: torch.Tensor,
        label_embeddings: torch.Tensor,
        span_labels: Optional[torch.Tensor] = None,
        label_mask: Optional[torch.Tensor] = None,
        focal_alpha: float = -1.0,
        focal_gamma: float = 0.0,
        span_loss_mask: Optional[torch.Tensor] = None,
    ) -> GLiNEROutput:
        """
        Args:
            words: `(batch, num_words, hidden)` contextual word representations.
            word_lengths: `(batch,)`.
            label_embeddings: `(batch, num_labels, hidden)` before `label_projection`.
            span_labels: `(batch, num_words, max_width, num_labels)` 0/1 targets (training).
            label_mask: `(batch, num_labels)`, true for real labels (training).
            span_loss_mask: `(batch, num_words, max_width, num_labels)`, true where a target is
                known (training; e.g. a type judged only on an example's gold mentions).
        """
        span_mask = enumerate_spans(word_lengths, words.shape[1], self.config.max_width)
        logits = self.span_head(words, self.label_projection(label_embeddings), fused=self.config.fused_span_scoring)
        loss = None
        if span_labels is not None:
            cell_mask = span_mask[..., None].to(logits.dtype)
            if label_mask is not None:
                cell_mask = cell_mask * label_mask[:, None, None, :].to(logits.dtype)
            if span_loss_mask is not None:
                cell_mask = cell_mask * span_loss_mask.to(logits.dtype)
            loss = focal_loss_with_logits(logits, span_labels.to(logits.dtype), cell_mask, focal_alpha, focal_gamma)
        return GLiNEROutput(loss=loss, logits=logits, span_mask=span_mask)

    # -- loading and saving ---------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, **kwargs):
        config = kwargs.get("config")
        if getattr(config, "model_type", None) == GLiNERConfig.model_type:
            # Both architectures share GLiNERConfig, and AutoModel maps a config class to the
            # first model class it loaded in this process: the config decides, not the mapping.
            # (Compared by model_type: remote code can hold several copies of the class.)
            architecture = GLiNERBiEncoderModel if config.is_bi_encoder else GLiNERUniEncoderModel
            if cls is not architecture:
                return architecture.from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        model = super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        hub_kwargs = {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}
        model.load_tokenizers(pretrained_model_name_or_path, **hub_kwargs)
        return model

    def load_tokenizers(self, pretrained_model_name_or_path, **hub_kwargs) -> None:
        """Loads the text tokenizer (and, for bi-encoders, the labels tokenizer) saved with the model."""
        self.tokenizer, self.labels_tokenizer = GLiNERProcessor.load_tokenizers(
            self.config, pretrained_model_name_or_path, **hub_kwargs
        )

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Writes a complete repository: config (with ``auto_map`` and ``custom_pipelines``, so that
        ``AutoModel`` and ``pipeline()`` load it with ``trust_remote_code=True``), weights, the
        processor (tokenizers + ``processor_config.json``), this code and, when the folder has
        none yet, a minimal model card."""
        if self.tokenizer is None or (self.config.is_bi_encoder and self.labels_tokenizer is None):
            raise ValueError(
                "cannot save a complete model without its tokenizer(s): attach them (model.tokenizer = ..., "
                "model.labels_tokenizer = ...) or load the model with from_pretrained"
            )
        self.config.auto_map = {
            "AutoConfig": f"configuration_gliner.{type(self.config).__name__}",
            "AutoModel": f"modeling_gliner.{type(self).__name__}",
        }
        self.config.custom_pipelines = {
            PIPELINE_TASK: {"impl": f"pipeline_gliner.{GLiNERPipeline.__name__}", "pt": ["AutoModel"], "tf": [], "type": "text"}
        }
        super().save_pretrained(save_directory, *args, **kwargs)
        self.processor.save_pretrained(save_directory)
        code_dir = os.path.dirname(os.path.abspath(__file__))
        for name in CODE_FILES:
            shutil.copyfile(os.path.join(code_dir, name), os.path.join(save_directory, name))
        card = os.path.join(save_directory, CARD_FILE)
        if not os.path.exists(card):
            with open(card, "w", encoding="utf-8") as handle:
                handle.write(minimal_model_card(self.config))

    @property
    def processor(self) -> GLiNERProcessor:
        if self.tokenizer is None or (self.config.is_bi_encoder and self.labels_tokenizer is None):
            raise RuntimeError(
                "this model has no tokenizer attached: load it with from_pretrained(...) or call "
                "model.load_tokenizers(path)"
            )
        cached = getattr(self, "_processor", None)
        if cached is None or cached.tokenizer is not self.tokenizer or cached.labels_tokenizer is not self.labels_tokenizer:
            cached = GLiNERProcessor(self.config, self.tokenizer, self.labels_tokenizer)
            self._processor = cached
        return cached

    # -- prediction (the processor does the work) -----------------------------------------
    def predict_entities(
        self,
        text: str,
        labels: Labels,
        threshold: float = 0.5,
        flat_ner: bool = True,
        multi_label: bool = False,
    ) -> List[Dict[str, Any]]:
        """Entities in one text: ``[{start, end, text, label, score}]`` with character offsets
        (end exclusive), sorted by start."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}; use inference() for a list")
        return self.inference([text], labels, threshold=threshold, flat_ner=flat_ner, multi_label=multi_label)[0]

    def inference(
        self,
        texts: Sequence[str],
        labels: Labels,
        batch_size: int = 8,
        threshold: float = 0.5,
        flat_ner: bool = True,
        multi_label: bool = False,
        progress: bool = False,
        sort_by_length: bool = True,
    ) -> List[List[Dict[str, Any]]]:
        """Entities of many texts, one list per text in input order (``GLiNERProcessor.predict``).

        Texts longer than ``config.max_len`` words (or the encoder's sub-token limit) are read in
        overlapping windows and merged, never truncated. Empty or whitespace-only texts give
        ``[]``. Uni-encoder label sets larger than ``config.max_types`` are read in several
        passes.
        """
        return self.processor.predict(
            self, texts, labels, batch_size=batch_size, threshold=threshold, flat_ner=flat_ner,
            multi_label=multi_label, progress=progress, sort_by_length=sort_by_length,
        )

    def score_documents(
        self,
        texts: Sequence[str],
        labels: Labels,
        batch_size: int = 8,
        threshold: float = 0.5,
        progress: bool = False,
        sort_by_length: bool = True,
    ) -> List[ScoredDocument]:
        """Span candidates of many texts from one forward pass (``GLiNERProcessor.score_documents``)."""
        return self.processor.score_documents(
            self, texts, labels, batch_size=batch_size, threshold=threshold, progress=progress, sort_by_length=sort_by_length
        )


def minimal_model_card(config: GLiNERConfig) -> str:
    """A model card for a repository that has none: what the model is and how to run it."""
    kind = "bi-encoder" if config.is_bi_encoder else "uni-encoder"
    backbone = getattr(config.encoder_config, "model_type", "transformer")
    return f"""---
library_name: transformers
pipeline_tag: {PIPELINE_TASK}
tags:
- gliner
- named-entity-recognition
---

# GLiNER span model ({kind}, {backbone} backbone)

Zero-shot named entity recognition: give any entity types as labels, get character-offset
spans. The model code travels in this repository (`trust_remote_code=True`); only `torch` and
`transformers` are needed.

```python
from transformers import pipeline

ner = pipeline(model="PATH_OR_REPO_ID", trust_remote_code=True)
ner("Mutations in BRCA1 modify the risk of breast cancer.", labels=["disease", "gene"], threshold=0.5)
```

or `AutoModel.from_pretrained("PATH_OR_REPO_ID", trust_remote_code=True).predict_entities(text, labels)`.
"""


# -- uni-encoder -----------------------------------------------------------------------------
class GLiNERUniEncoderModel(GLiNERPreTrainedModel):
    """The input is ``<<ENT>> type1 <<ENT>> type2 ... <<SEP>> word1 word2 ...``; each type is
    represented by its ``<<ENT>>`` token (or the token after it), each word by one sub-token."""

    def __init__(self, config: GLiNERConfig, text_encoder: Optional[nn.Module] = None):
        super().__init__(config)
        if config.is_bi_encoder:
            raise ValueError("GLiNERUniEncoderModel needs a config without labels_encoder_config")
        self.text_encoder = self._backbone(text_encoder, config.encoder_config, "text encoder")
        self._init_heads(config, config.encoder_config.hidden_size)
        self.post_init()

    def get_input_embeddings(self):
        return self.text_encoder.get_input_embeddings()

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.LongTensor,
        word_index: torch.LongTensor,
        word_lengths: torch.LongTensor,
        span_labels: Optional[torch.Tensor] = None,
        focal_alpha: float = -1.0,
        focal_gamma: float = 0.0,
        span_loss_mask: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> GLiNEROutput:
        """
        Args:
            input_ids, attention_mask: `(batch, seq_len)` prompt + text sub-tokens.
            word_index: `(batch, seq_len)` word index + 1 at each word's representative sub-token.
            word_lengths: `(batch,)` words per text.
            span_labels: `(batch, max_words, max_width, num_labels)` targets, for training.
            span_loss_mask: same shape, true where a target is known (training; default: all).
        Returns:
            `GLiNEROutput` with logits `(batch, max_words, max_width, num_labels)`, where
            `num_labels` is the most prompts of any row (rows with fewer are zero-padded).
        """
        states = self.encode_text(input_ids, attention_mask)
        class_positions = input_ids.eq(self.config.class_token_index) & attention_mask.bool()
        labels_per_row = class_positions.sum(dim=1)
        num_labels = int(labels_per_row.max())
        label_embeddings = states.new_zeros(states.shape[0], num_labels, states.shape[-1])
        label_mask = torch.arange(num_labels, device=states.device)[None, :] < labels_per_row[:, None]
        rows, positions = torch.nonzero(class_positions, as_tuple=True)
        if not self.config.embed_ent_token:
            positions = positions + 1
        label_embeddings[label_mask] = states[rows, positions]

        words = self.encode_words(states, word_index, word_lengths)
        return self.score_spans(words, word_lengths, label_embeddings, span_labels, label_mask, focal_alpha, focal_gamma,
                                span_loss_mask)


# -- bi-encoder ------------------------------------------------------------------------------
class GLiNERBiEncoderModel(GLiNERPreTrainedModel):
    def __init__(self, config: GLiNERConfig, text_encoder: Optional[nn.Module] = None, labels_encoder: Optional[nn.Module] = None):
        super().__init__(config)
        if not config.is_bi_encoder:
            raise ValueError("GLiNERBiEncoderModel needs a config with labels_encoder_config")
        self.text_encoder = self._backbone(text_encoder, config.encoder_config, "text encoder")
        self.labels_encoder = self._backbone(labels_encoder, config.labels_encoder_config, "labels encoder")
        labels_hidden = config.labels_encoder_config.hidden_size
        self.labels_projection = nn.Linear(labels_hidden, config.hidden_size) if labels_hidden != config.hidden_size else None
        self._init_heads(config, config.encoder_config.hidden_size)
        self.post_init()

    def get_input_embeddings(self):
        return self.text_encoder.get_input_embeddings()

    def encode_labels(self, labels_input_ids: torch.LongTensor, labels_attention_mask: torch.LongTensor) -> torch.Tensor:
        """
        Args:
            labels_input_ids, labels_attention_mask: `(num_labels, label_len)`.
        Returns:
            `(num_labels, hidden)` mean-pooled label embeddings.
        """
        states = self.labels_encoder(input_ids=labels_input_ids, attention_mask=labels_attention_mask).last_hidden_state
        if self.labels_projection is not None:
            states = self.labels_projection(states)
        mask = labels_attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    @torch.inference_mode()
    def embed_labels(self, prompts: Sequence[str]) -> torch.Tensor:
        """`(num_labels, hidden)` embeddings of label prompts, to reuse across texts."""
        inputs = self.processor.encode_labels(prompts)
        return self.encode_labels(**{key: value.to(self.device) for key, value in inputs.items()})

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.LongTensor,
        word_index: torch.LongTensor,
        word_lengths: torch.LongTensor,
        labels_input_ids: Optional[torch.LongTensor] = None,
        labels_attention_mask: Optional[torch.LongTensor] = None,
        label_embeddings: Optional[torch.Tensor] = None,
        span_labels: Optional[torch.Tensor] = None,
        label_mask: Optional[torch.Tensor] = None,
        focal_alpha: float = -1.0,
        focal_gamma: float = 0.0,
        span_loss_mask: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> GLiNEROutput:
        """
        Args:
            input_ids, attention_mask: `(batch, seq_len)` text sub-tokens.
            word_index: `(batch, seq_len)` word index + 1 at each word's representative sub-token.
            word_lengths: `(batch,)` words per text.
            labels_input_ids, labels_attention_mask: `(num_labels, label_len)`, or instead
            label_embeddings: `(num_labels, hidden)` from `encode_labels` (shared by the batch)
                or `(batch, num_labels, hidden)`.
            span_labels: `(batch, max_words, max_width, num_labels)` targets, for training.
            label_mask: `(batch, num_labels)` true for real labels, for training.
            span_loss_mask: `(batch, max_words, max_width, num_labels)`, true where a target is
                known (training; default: all).
        Returns:
            `GLiNEROutput` with logits `(batch, max_words, max_width, num_labels)`.
        """
        if label_embeddings is None:
            if labels_input_ids is None:
                raise ValueError("pass labels_input_ids/labels_attention_mask or label_embeddings")
            label_embeddings = self.encode_labels(labels_input_ids, labels_attention_mask)
        if label_embeddings.dim() == 2:
            label_embeddings = label_embeddings.unsqueeze(0).expand(input_ids.shape[0], -1, -1)

        words = self.encode_words(self.encode_text(input_ids, attention_mask), word_index, word_lengths)
        return self.score_spans(words, word_lengths, label_embeddings, span_labels, label_mask, focal_alpha, focal_gamma,
                                span_loss_mask)
