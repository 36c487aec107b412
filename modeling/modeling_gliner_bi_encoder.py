"""GLiNER bi-encoder span model: a text encoder reads the text, a separate labels encoder
embeds each entity type (mean pooling), so label embeddings can be computed once and reused."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn
from transformers import AutoModel

from .configuration_gliner import GLiNERConfig
from .modeling_gliner_base import GLiNEROutput, GLiNERPreTrainedModel

# transformers 4.x copies only the direct relative imports of a remote-code module when loading
# from a local folder, so the siblings that modeling_gliner_base needs are named here too.
from .attention_deberta_v2 import PerTextDisentangledSelfAttention  # noqa: F401,E402
from .decoding_gliner import SpanDecoder  # noqa: F401,E402
from .layers_gliner import SpanMarkerHead  # noqa: F401,E402
from .processing_gliner import GLiNERProcessor  # noqa: F401,E402
from .word_splitter import WordSplitter  # noqa: F401,E402


class GLiNERBiEncoderModel(GLiNERPreTrainedModel):
    def __init__(self, config: GLiNERConfig):
        super().__init__(config)
        if not config.is_bi_encoder:
            raise ValueError("GLiNERBiEncoderModel needs a config with labels_encoder_config")
        self.text_encoder = AutoModel.from_config(config.encoder_config)
        self.labels_encoder = AutoModel.from_config(config.labels_encoder_config)
        labels_hidden = config.labels_encoder_config.hidden_size
        self.labels_projection = nn.Linear(labels_hidden, config.hidden_size) if labels_hidden != config.hidden_size else None
        self._init_heads(config, config.encoder_config.hidden_size)
        self.set_per_text_attention(config.per_text_attention)
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
        return self.score_spans(words, word_lengths, label_embeddings, span_labels, label_mask, focal_alpha, focal_gamma)
