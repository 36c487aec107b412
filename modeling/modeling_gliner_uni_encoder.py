"""GLiNER uni-encoder span model: entity types are prompt tokens read together with the text."""

from __future__ import annotations

from typing import Optional

import torch
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


class GLiNERUniEncoderModel(GLiNERPreTrainedModel):
    """The input is ``<<ENT>> type1 <<ENT>> type2 ... <<SEP>> word1 word2 ...``; each type is
    represented by its ``<<ENT>>`` token (or the token after it), each word by one sub-token."""

    def __init__(self, config: GLiNERConfig):
        super().__init__(config)
        if config.is_bi_encoder:
            raise ValueError("GLiNERUniEncoderModel needs a config without labels_encoder_config")
        self.text_encoder = AutoModel.from_config(config.encoder_config)
        self._init_heads(config, config.encoder_config.hidden_size)
        self.set_per_text_attention(config.per_text_attention)
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
        **kwargs,
    ) -> GLiNEROutput:
        """
        Args:
            input_ids, attention_mask: `(batch, seq_len)` prompt + text sub-tokens.
            word_index: `(batch, seq_len)` word index + 1 at each word's representative sub-token.
            word_lengths: `(batch,)` words per text.
            span_labels: `(batch, max_words, max_width, num_labels)` targets, for training.
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
        return self.score_spans(words, word_lengths, label_embeddings, span_labels, label_mask, focal_alpha, focal_gamma)
