"""DeBERTa-v2/v3 disentangled self-attention computed one text of the batch at a time.

transformers' ``DisentangledSelfAttention`` materialises about ten `(batch * heads, seq, seq)`
float buffers per layer (scores, two gathered position terms, their scaled copies, their sum, the
masked scores, the probabilities) and walks each of them once. On a CPU, at batch 16 and 450
sub-tokens, each buffer is 150 MB: the layer is bound by memory traffic and page faults, and the
attention costs three times the layer's matrix products. Run per text, the working set is a
`(heads, seq, seq)` slice that stays in cache, and the buffers are reused in place.

The operations and their order are transformers' own (the same products, the same divisions by
the same scale, the same sums in the same order, the same mask value), so every float is the
same: the tests compare encoder states bit for bit on real documents. The module falls back to
the parent's code where it does not apply: while gradients are recorded (training), on
accelerators (not measured here), during ONNX export or tracing (a Python loop over the batch
would be frozen into the graph), and for the rarely used call forms (``query_states``,
``output_attentions``, per-text relative positions).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention


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
