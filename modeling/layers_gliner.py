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
    """Span representations from projected start and end words ("markerV0")."""

    def __init__(self, hidden_size: int, max_width: int, dropout: float):
        super().__init__()
        self.max_width = max_width
        self.project_start = ProjectionMLP(hidden_size, dropout)
        self.project_end = ProjectionMLP(hidden_size, dropout)
        self.out_project = ProjectionMLP(hidden_size * 2, dropout, hidden_size)

    def forward(self, words: torch.Tensor, span_index: torch.Tensor) -> torch.Tensor:
        """
        Args:
            words: `(batch, num_words, hidden)`.
            span_index: `(batch, num_words * max_width, 2)` start and end word (inclusive) of
                every candidate span, ordered by start then width; invalid spans point at word 0.
        Returns:
            `(batch, num_words, max_width, hidden)` span representations.
        """
        batch, num_words, hidden = words.shape
        start = self.project_start(words)
        end = self.project_end(words)
        start = torch.gather(start, 1, span_index[:, :, 0:1].expand(-1, -1, hidden))
        end = torch.gather(end, 1, span_index[:, :, 1:2].expand(-1, -1, hidden))
        spans = self.out_project(torch.cat([start, end], dim=-1).relu())
        return spans.view(batch, num_words, self.max_width, hidden)


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


def enumerate_spans(lengths: torch.Tensor, num_words: int, max_width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All candidate spans of every text in a batch.

    Args:
        lengths: `(batch,)` number of words of each text.
        num_words: padded number of words.
        max_width: longest span.
    Returns:
        span_index: `(batch, num_words * max_width, 2)` start/end word, zeroed where invalid.
        span_mask: `(batch, num_words, max_width)` true where the span lies inside its text.
    """
    starts = torch.arange(num_words, device=lengths.device)
    widths = torch.arange(max_width, device=lengths.device)
    ends = starts[:, None] + widths[None, :]
    span_mask = ends[None] < lengths[:, None, None]
    span_index = torch.stack([starts[:, None].expand(-1, max_width), ends], dim=-1)
    span_index = span_index[None] * span_mask[..., None]
    return span_index.reshape(lengths.shape[0], num_words * max_width, 2), span_mask


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
