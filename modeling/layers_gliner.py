"""Building blocks shared by the uni-encoder and bi-encoder GLiNER span models."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


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
