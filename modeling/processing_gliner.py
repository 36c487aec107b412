"""From texts and labels to model inputs: word splitting, prompts, windows over long texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from .word_splitter import WordSplitter

Labels = Union[str, Sequence[str], Mapping[str, str]]

SENTENCE_END_WORDS = frozenset({".", "!", "?"})
# A tokenizer whose model_max_length is a placeholder (no limit recorded) reports ~1e30.
UNSET_MODEL_MAX_LENGTH = 10**9


def normalize_labels(labels: Labels) -> Tuple[List[str], List[str]]:
    """Returns ``(prompts, names)``: what the model reads for each entity type, and what the
    predictions call it. ``{name: description}`` prompts with the description.

    Raises ``ValueError`` for an empty label set, a label that is not a non-empty string, or
    duplicated descriptions; duplicated plain labels are merged (first occurrence wins).
    """
    if isinstance(labels, str):
        labels = [labels]
    if isinstance(labels, Mapping):
        names, prompts = list(labels.keys()), list(labels.values())
    elif isinstance(labels, Sequence):
        names = prompts = list(labels)
    else:
        raise ValueError(f"labels must be a list of strings or a {{name: description}} dict, got {type(labels).__name__}")
    if not names:
        raise ValueError("labels is empty: give at least one entity type, e.g. ['disease']")
    for what, values in (("label", names), ("label description", prompts)):
        for value in values:
            if not isinstance(value, str):
                raise ValueError(f"every {what} must be a string, got {value!r} ({type(value).__name__})")
            if not value.strip():
                raise ValueError(f"{what}s must not be empty or whitespace, got {value!r}")
    if isinstance(labels, Mapping):
        if len(set(prompts)) != len(prompts):
            raise ValueError("label descriptions must be unique within a label set")
        return prompts, names
    unique = list(dict.fromkeys(names))
    return unique, unique


@dataclass(frozen=True)
class Window:
    """Words ``[start, end)`` of a document read in one pass; the window reports spans that
    start in ``[own_start, own_end)`` so that overlapping windows never report a span twice."""

    start: int
    end: int
    own_start: int
    own_end: int


def plan_windows(
    words: Sequence[str],
    token_counts: Sequence[int],
    max_words: int,
    max_tokens: int,
    overlap: int,
) -> List[Window]:
    """Splits a document into overlapping windows of at most ``max_words`` words and
    ``max_tokens`` sub-tokens, ending on sentence boundaries where possible."""
    n = len(words)
    sentence_starts = [i + 1 for i, word in enumerate(words) if word in SENTENCE_END_WORDS]
    spans: List[Tuple[int, int]] = []
    start = 0
    while True:
        end, used = start, 0
        while end < n and end - start < max_words and used + token_counts[end] <= max_tokens:
            used += token_counts[end]
            end += 1
        if end == start:
            raise ValueError(
                f"word {start} ({words[start]!r}) needs {token_counts[start]} sub-tokens, more than the "
                f"{max_tokens} that fit in one pass with this label prompt; use fewer or shorter labels"
            )
        if end < n:
            midpoint = start + (end - start) // 2
            boundaries = [b for b in sentence_starts if midpoint < b <= end]
            if boundaries:
                end = boundaries[-1]
        spans.append((start, end))
        if end >= n:
            break
        next_start = end - overlap
        restarts = [b for b in sentence_starts if start < b <= next_start and next_start - b < overlap]
        if restarts:
            next_start = restarts[-1]
        start = max(next_start, start + 1)
    windows = []
    for i, (start, end) in enumerate(spans):
        own_start = 0 if i == 0 else (start + spans[i - 1][1]) // 2
        own_end = n if i == len(spans) - 1 else (spans[i + 1][0] + end) // 2
        windows.append(Window(start, end, own_start, own_end))
    return windows


@dataclass
class WindowTask:
    """One forward pass worth of work: a window of a document with a chunk of its labels."""

    document: int
    window: Window
    label_chunk: int


class GLiNERProcessor:
    """Tokenizes words (and, for the uni-encoder, the label prompt) into model inputs."""

    def __init__(self, config, tokenizer, labels_tokenizer=None):
        self.config = config
        self.tokenizer = tokenizer
        self.labels_tokenizer = labels_tokenizer
        self.split_words = WordSplitter.of_type(getattr(config, "words_splitter_type", "whitespace"))

    # -- limits ---------------------------------------------------------------------------
    @property
    def max_sequence_tokens(self) -> int:
        limits = [getattr(self.config.encoder_config, "max_position_embeddings", None)]
        model_max = getattr(self.tokenizer, "model_max_length", None)
        if model_max is not None and model_max < UNSET_MODEL_MAX_LENGTH:
            limits.append(model_max)
        limits = [limit for limit in limits if limit]
        if not limits:
            raise ValueError("cannot tell the encoder's maximum sequence length from its config or tokenizer")
        return min(limits) - self.tokenizer.num_special_tokens_to_add(pair=False)

    # -- words ----------------------------------------------------------------------------
    def word_token_counts(self, words: Sequence[str]) -> List[int]:
        """Sub-tokens of each word as the tokenizer splits words (no special tokens)."""
        if not words:
            return []
        encoding = self.tokenizer(list(words), is_split_into_words=True, add_special_tokens=False, verbose=False)
        counts = [0] * len(words)
        for word_id in encoding.word_ids():
            if word_id is not None:
                counts[word_id] += 1
        return counts

    def readable_words(self, words: Sequence[str], counts: Sequence[int]) -> List[str]:
        """Words the tokenizer drops entirely (e.g. zero-width characters) are read as the
        unknown token, so that every word has a representation and later words keep their
        positions (the reference shifts every following word by one instead)."""
        unk = self.tokenizer.unk_token
        if unk is None:
            return list(words)
        return [word if count > 0 else unk for word, count in zip(words, counts)]

    # -- prompts --------------------------------------------------------------------------
    def prompt_words(self, prompts: Sequence[str]) -> List[str]:
        words: List[str] = []
        for prompt in prompts:
            words += [self.config.ent_token, prompt]
        return words + [self.config.sep_token]

    def prompt_token_count(self, prompts: Sequence[str]) -> int:
        return sum(self.word_token_counts(self.prompt_words(prompts)))

    def label_chunks(self, prompts: Sequence[str]) -> List[List[str]]:
        """Uni-encoder: splits a large label set into passes of at most ``max_types`` labels whose
        prompt leaves at least half of the sequence for text. Bi-encoder: one chunk."""
        prompts = list(prompts)
        if self.config.is_bi_encoder:
            return [prompts]
        budget = self.max_sequence_tokens // 2
        chunks: List[List[str]] = [[]]
        for prompt in prompts:
            candidate = chunks[-1] + [prompt]
            if chunks[-1] and (
                len(candidate) > self.config.max_types or self.prompt_token_count(candidate) > budget
            ):
                chunks.append([prompt])
            else:
                chunks[-1] = candidate
        for chunk in chunks:
            if self.prompt_token_count(chunk) > budget:
                raise ValueError(
                    f"the label {chunk[0]!r} alone needs more than {budget} sub-tokens; use a shorter label"
                )
        return chunks

    # -- batches --------------------------------------------------------------------------
    def encode_texts(
        self, word_lists: Sequence[Sequence[str]], prompts: Optional[Sequence[Sequence[str]]] = None
    ) -> Dict[str, torch.Tensor]:
        """
        Args:
            word_lists: words of each sequence (already made readable).
            prompts: uni-encoder only: the label prompts of each sequence.
        Returns:
            input_ids, attention_mask: `(batch, seq_len)`.
            word_index: `(batch, seq_len)`, for the sub-token representing each text word that
                word's index + 1, else 0.
            word_lengths: `(batch,)` words per sequence.
        """
        prompt_words = [self.prompt_words(p) for p in prompts] if prompts is not None else [[] for _ in word_lists]
        inputs = [list(p) + list(w) for p, w in zip(prompt_words, word_lists)]
        encoding = self.tokenizer(inputs, is_split_into_words=True, padding="longest", return_tensors="pt")
        word_index = torch.zeros_like(encoding["input_ids"])
        last = self.config.subtoken_pooling == "last"
        for row, num_prompt_words in enumerate(len(p) for p in prompt_words):
            word_ids = encoding.word_ids(row)
            for position, word_id in enumerate(word_ids):
                if word_id is None or word_id < num_prompt_words:
                    continue
                neighbour = position + 1 if last else position - 1
                neighbour_id = word_ids[neighbour] if 0 <= neighbour < len(word_ids) else None
                if neighbour_id != word_id:
                    word_index[row, position] = word_id - num_prompt_words + 1
        return {
            "input_ids": encoding["input_ids"],
            "attention_mask": encoding["attention_mask"],
            "word_index": word_index,
            "word_lengths": torch.tensor([len(w) for w in word_lists], dtype=torch.long),
        }

    def encode_labels(self, prompts: Sequence[str]) -> Dict[str, torch.Tensor]:
        """Bi-encoder: `labels_input_ids`, `labels_attention_mask` of shape `(num_labels, len)`."""
        encoding = self.labels_tokenizer(list(prompts), padding="longest", return_tensors="pt")
        return {"labels_input_ids": encoding["input_ids"], "labels_attention_mask": encoding["attention_mask"]}
