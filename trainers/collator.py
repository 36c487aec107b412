"""From training examples (``tokenized_text`` + ``ner``) to model inputs and span targets:
the GLiNER objective's label sets (positives, corpus and in-batch negative types, shuffled,
capped) and the (batch, words, width, labels) 0/1 span labels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import torch


@dataclass
class LabelSampling:
    """How each example's entity-type prompt is drawn (GLiNER's training recipe)."""

    max_neg_type_ratio: int = 1  # in-batch negatives: up to ratio x (positive types) per example
    corpus_negatives: bool = True  # also ask for the corpus's other types (true negatives)
    shuffle: bool = True  # shuffle the label order of each prompt
    max_types: int = 25  # cap on types per example (bi-encoder: per batch)

    def __post_init__(self):
        if self.max_neg_type_ratio < 0:
            raise ValueError(f"max_neg_type_ratio must be >= 0, got {self.max_neg_type_ratio}")
        if self.max_types < 1:
            raise ValueError(f"max_types must be >= 1, got {self.max_types}")


def positive_types(example: Mapping) -> List[str]:
    return list(dict.fromkeys(label for _, _, label in example["ner"]))


def sample_label_sets(examples: Sequence[Mapping], sampling: LabelSampling, rng: random.Random) -> List[List[str]]:
    """One prompt (list of types) per example, as the reference collator draws them: its own
    types, plus up to ``ratio x len(ner)`` types seen elsewhere in the batch (ratio drawn in
    [0, max_neg_type_ratio]), plus (optionally) its corpus's other types; shuffled; capped."""
    batch_types = list(dict.fromkeys(t for example in examples for t in positive_types(example)))
    rng.shuffle(batch_types)
    label_sets = []
    for example in examples:
        own = positive_types(example)
        ratio = rng.randint(0, sampling.max_neg_type_ratio) if sampling.max_neg_type_ratio else 0
        negatives = [t for t in batch_types if t not in own][: len(example["ner"]) * ratio]
        if sampling.corpus_negatives:
            negatives += [t for t in example.get("corpus_types", ()) if t not in own and t not in negatives]
        types = own + negatives
        if sampling.shuffle:
            rng.shuffle(types)
        label_sets.append(types[: sampling.max_types])
    return label_sets


def span_label_tensor(examples: Sequence[Mapping], label_sets: Sequence[Sequence[str]], max_width: int) -> torch.Tensor:
    """`(batch, max_words, max_width, max_labels)` 0/1 targets: cell (i, s, k, c) is 1 when example
    i has an entity of type label_sets[i][c] over words s..s+k. Entities whose type is not in the
    prompt or that are wider than ``max_width`` get no target (as in the reference)."""
    num_words = max(len(example["tokenized_text"]) for example in examples)
    num_labels = max(len(labels) for labels in label_sets)
    targets = torch.zeros(len(examples), num_words, max_width, max(num_labels, 1))
    for row, (example, labels) in enumerate(zip(examples, label_sets)):
        index = {label: position for position, label in enumerate(labels)}
        length = len(example["tokenized_text"])
        for start, end, label in example["ner"]:
            if not 0 <= start <= end < length:
                raise ValueError(
                    f"example {example.get('id', row)!r}: entity [{start}, {end}, {label!r}] is outside its "
                    f"{length} words"
                )
            width = end - start
            if label in index and width < max_width:
                targets[row, start, width, index[label]] = 1.0
    return targets[..., :num_labels] if num_labels else targets[..., :0]


def known_target_mask(examples: Sequence[Mapping], label_sets: Sequence[Sequence[str]], span_labels: torch.Tensor) -> Optional[torch.Tensor]:
    """`span_labels`-shaped mask, true where a target is known; None when every target is. A
    contrast type of an example (``contrast_labels``) is judged only on that example's gold
    mentions (they are not of it): every other cell of its column is unknown (the corpus does not
    annotate that type). A ``loss_regions`` entry ``[label, first_word, end_word, kept_spans]``
    (a joined pair: trainers/type_sampling.py) makes the spans that start in words
    ``first_word..end_word-1`` unknown for that label, except ``kept_spans`` (``[start, end]``). An
    ``unknown_spans`` entry ``[label, first_word, last_word]`` makes that one span unknown for it."""
    if not any(example.get("contrast_labels") or example.get("loss_regions") or example.get("unknown_spans") for example in examples):
        return None
    mask = torch.ones_like(span_labels, dtype=torch.bool)
    max_width = span_labels.shape[2]
    for row, (example, labels) in enumerate(zip(examples, label_sets)):
        columns = {label: column for column, label in enumerate(labels)}
        regions = [[label, 0, len(example["tokenized_text"]), [[s, e] for s, e, _ in example["ner"]]]
                   for label in example.get("contrast_labels") or ()]
        for label, first_word, end_word, kept in regions + list(example.get("loss_regions") or ()):
            column = columns.get(label)
            if column is None:  # capped out of the prompt
                continue
            if end_word >= len(example["tokenized_text"]):
                end_word = mask.shape[1]  # through the padding, which no target is known of either
            mask[row, first_word:end_word, :, column] = False
            for start, end in kept:
                if end - start < max_width:
                    mask[row, start, end - start, column] = True
        for label, start, end in example.get("unknown_spans") or ():
            if label in columns and end - start < max_width:
                mask[row, start, end - start, columns[label]] = False
    return mask


class SpanCollator:
    """Builds one training batch for a uni- or bi-encoder model."""

    def __init__(self, model, sampling: LabelSampling, type_sampler=None):
        """``type_sampler``: a trainers.type_sampling.VocabularyPromptSampler that draws the prompts
        (and rewrites ``ner`` into their phrasings) instead of ``sampling``."""
        self.config = model.config
        self.processor = model.processor
        self.sampling = sampling
        self.type_sampler = type_sampler

    def __call__(self, examples: Sequence[Mapping], rng: random.Random, label_sets: Optional[List[List[str]]] = None) -> Dict[str, torch.Tensor]:
        if not examples:
            raise ValueError("a batch needs at least one example")
        for example in examples:
            if not example["tokenized_text"]:
                raise ValueError(f"example {example.get('id')!r} has no words")
        if label_sets is None and self.type_sampler is not None:
            examples, label_sets = self.type_sampler(examples, rng)
        elif label_sets is None:
            label_sets = sample_label_sets(examples, self.sampling, rng)
        words = [self.readable(example["tokenized_text"]) for example in examples]
        if self.config.is_bi_encoder:
            shared = list(dict.fromkeys(t for labels in label_sets for t in labels))
            if self.sampling.shuffle:
                rng.shuffle(shared)
            shared = shared[: self.sampling.max_types]
            if not shared:
                raise ValueError("no entity type in this batch (no entities and no negative types)")
            batch = dict(self.processor.encode_texts(words))
            batch.update(self.processor.encode_labels(shared))
            batch["span_labels"] = span_label_tensor(examples, [shared] * len(examples), self.config.max_width)
            loss_mask = known_target_mask(examples, [shared] * len(examples), batch["span_labels"])
            if loss_mask is not None:
                batch["span_loss_mask"] = loss_mask
            if self.type_sampler is None:
                batch["label_mask"] = torch.ones(len(examples), len(shared), dtype=torch.bool)
            else:  # a type is scored only where the example's own policy may ask it (mixed corpora)
                batch["label_mask"] = torch.tensor([[label in labels for label in shared] for labels in label_sets], dtype=torch.bool)
            return batch
        if not any(label_sets):
            raise ValueError("no entity type in this batch (no entities and no negative types)")
        batch = dict(self.processor.encode_texts(words, label_sets))
        batch["span_labels"] = span_label_tensor(examples, label_sets, self.config.max_width)
        loss_mask = known_target_mask(examples, label_sets, batch["span_labels"])
        if loss_mask is not None:
            batch["span_loss_mask"] = loss_mask
        return batch

    def readable(self, words: Sequence[str]) -> List[str]:
        return self.processor.readable_words(words, self.processor.word_token_counts(words))
