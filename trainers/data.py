"""Training data: examples of one or more corpora (sentence level by default), long examples cut
into pieces of at most ``max_words`` words (never through an entity), a weighted mixture, and
a deterministic batch order that a resumed run can replay exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple


@dataclass(frozen=True)
class SourceSpec:
    """One corpus split in the mixture: ``corpus[:split][@weight][#max_examples]``, e.g.
    ``bc5cdr:train@3`` or ``craft@0.5#2000``. Weight: relative share of the batches drawn
    from it (not proportional to its size); max_examples: seeded sub-sample."""

    corpus: str
    split: str = "train"
    weight: float = 1.0
    max_examples: Optional[int] = None

    @classmethod
    def parse(cls, text: str) -> "SourceSpec":
        rest, max_examples = (text.split("#", 1) + [None])[:2]
        rest, weight = (rest.split("@", 1) + [None])[:2]
        corpus, split = (rest.split(":", 1) + ["train"])[:2]
        try:
            spec = cls(corpus.strip(), split.strip(), float(weight) if weight else 1.0, int(max_examples) if max_examples else None)
        except ValueError:
            raise ValueError(f"bad data source {text!r}: expected CORPUS[:SPLIT][@WEIGHT][#MAX_EXAMPLES], e.g. bc5cdr:train@2") from None
        if not spec.corpus or spec.weight <= 0 or (spec.max_examples is not None and spec.max_examples < 1):
            raise ValueError(f"bad data source {text!r}: corpus must be named, weight > 0, max examples >= 1")
        return spec


def corpus_types(corpus: str) -> List[str]:
    from gliner_biomed.dataset_builders import load_label_map

    return list(dict.fromkeys(label for label in load_label_map(corpus).values() if label is not None))


def cut_example(example: Mapping, max_words: int) -> List[Dict]:
    """Pieces of at most ``max_words`` words; a cut never falls inside an entity (a piece ends
    early instead). An entity longer than ``max_words`` is an error, never dropped silently."""
    words = example["tokenized_text"]
    if len(words) <= max_words:
        return [dict(example)]
    covered = [False] * (len(words) + 1)  # covered[i]: a cut before word i would split an entity
    for start, end, _ in example["ner"]:
        if end - start + 1 > max_words:
            raise ValueError(f"example {example.get('id')!r}: entity {start}-{end} is longer than max_words={max_words}")
        for i in range(start + 1, end + 1):
            covered[i] = True
    pieces, start = [], 0
    while start < len(words):
        end = min(start + max_words, len(words))
        while end < len(words) and covered[end]:
            end -= 1
        ner = [[s - start, e - start, label] for s, e, label in example["ner"] if start <= s and e < end]
        piece = {key: value for key, value in example.items() if key not in ("tokenized_text", "ner", "entities", "text")}
        piece.update(id=f"{example.get('id')}@{start}", tokenized_text=list(words[start:end]), ner=ner)
        pieces.append(piece)
        start = end
    return pieces


def load_source(spec: SourceSpec, level: str, max_words: int, seed: int, synthetic_source: Optional[str] = None,
                source_types: bool = False, synthetic_negatives: bool = True) -> List[Dict]:
    """Training examples of one source, each tagged with its corpus's types (for negatives).
    ``synthetic_source`` is where the ``synthetic`` corpus is read from (see BuildOptions).
    ``synthetic_negatives=False``: the synthetic corpus is a partial annotation (mined by the
    ``patterns`` backend: only the mentions a pattern named), so none of its types is known absent
    from a text: its examples carry no corpus types, and its texts without a mention (nothing to
    learn from without negatives) are left out, with their count logged.
    ``source_types``: labels are the corpus's own type names (``Protein``, ``ProteinMutation``),
    for the type vocabulary to phrase (trainers/type_sampling.py), instead of the label map's."""
    from gliner_biomed.dataset_builders import load_corpus, load_label_map
    from gliner_biomed.dataset_builders.pipeline import SYNTHETIC

    if spec.corpus == SYNTHETIC:
        if not synthetic_source:
            raise ValueError(f"data source {spec.corpus}:{spec.split} needs --synthetic-source (synthetic_source in the YAML "
                             "config): the grounded JSONL of `gliner-biomed synth ground`, or a folder with train/validation/test .jsonl")
        examples = load_corpus(spec.corpus, spec.split, level=level, synthetic_source=synthetic_source)
        # No label map names a synthetic corpus's types: they are the labels its split uses.
        types = sorted({label for example in examples for _, _, label in example["ner"]}) if synthetic_negatives else []
    else:
        label_map = load_label_map(spec.corpus)
        # Identity map over the kept types: a type the label map leaves out (null) stays out.
        identity = {source: source if label is not None else None for source, label in label_map.items()} if source_types else None
        examples = load_corpus(spec.corpus, spec.split, level=level, label_map=identity)
        types = [t for t, label in label_map.items() if label is not None] if source_types else corpus_types(spec.corpus)
    if spec.max_examples is not None and len(examples) > spec.max_examples:
        rng = random.Random(f"{seed}/{spec.corpus}/{spec.split}")
        examples = [examples[i] for i in sorted(rng.sample(range(len(examples)), spec.max_examples))]
    out = []
    without_mentions = 0
    drop_without_mentions = spec.corpus == SYNTHETIC and not synthetic_negatives
    for example in examples:
        if not example["tokenized_text"]:
            continue  # empty sentence: nothing to learn from, nothing lost
        for piece in cut_example(example, max_words):
            if drop_without_mentions and not piece["ner"]:
                without_mentions += 1
                continue
            out.append({"id": piece["id"], "tokenized_text": piece["tokenized_text"], "ner": piece["ner"],
                        "corpus": spec.corpus, "corpus_types": types})
    if without_mentions:
        from gliner_biomed.log import get_logger

        get_logger(__name__).info(
            "%s:%s: %d of %d examples have no mined mention and are left out (synthetic_negatives: false)",
            spec.corpus, spec.split, without_mentions, without_mentions + len(out))
    if not out:
        raise ValueError(f"data source {spec.corpus}:{spec.split} has no examples")
    return out


def refuse_evaluation_only(specs: Sequence[SourceSpec]) -> None:
    """Corpora kept for measuring generalisation (``CorpusSpec.evaluation_only``, e.g. Chia) are
    not training data: training on them would make the unseen-type numbers meaningless."""
    from gliner_biomed.dataset_builders.corpora import CORPORA

    for spec in specs:
        reason = CORPORA[spec.corpus].evaluation_only if spec.corpus in CORPORA else ""
        if reason:
            raise ValueError(f"data source {spec.corpus}:{spec.split}: {spec.corpus} is evaluation-only ({reason}); "
                             "pass --allow-evaluation-corpora (allow_evaluation_corpora: true in the config) to train on it anyway")


def load_sources(data: Sequence[str], level: str, max_words: int, seed: int,
                 synthetic_source: Optional[str] = None, source_types: bool = False,
                 allow_evaluation_corpora: bool = False, synthetic_negatives: bool = True) -> List[Tuple[SourceSpec, List[Dict]]]:
    """Each ``CORPUS[:SPLIT][@WEIGHT][#MAX]`` of ``data`` with its examples (see load_source);
    evaluation-only corpora are refused unless ``allow_evaluation_corpora``."""
    from gliner_biomed.dataset_builders.pipeline import SYNTHETIC

    specs = [SourceSpec.parse(text) for text in data]
    if not allow_evaluation_corpora:
        refuse_evaluation_only(specs)
    if synthetic_source and not any(spec.corpus == SYNTHETIC for spec in specs):
        raise ValueError(f"synthetic_source {synthetic_source} is given but no data source reads it: add {SYNTHETIC}:train to --data")
    return [(spec, load_source(spec, level, max_words, seed, synthetic_source, source_types, synthetic_negatives)) for spec in specs]


class BatchSchedule:
    """The sequence of batches of a run, a pure function of (sources, weights, seed): batch n is
    drawn from a source chosen by weight (``mixed=True``: each of its examples from a source
    chosen by weight, so one batch holds several corpora), examples from that source's seeded
    epoch permutation. A resumed run asks for batch n directly (no state to save beyond the step count)."""

    def __init__(self, sources: Sequence[Tuple[SourceSpec, List[Dict]]], batch_size: int, seed: int, mixed: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.sources = list(sources)
        self.batch_size = batch_size
        self.seed = seed
        self.mixed = mixed
        total = sum(spec.weight for spec, _ in self.sources)
        self.probabilities = [spec.weight / total for spec, _ in self.sources]
        self._positions = [0] * len(self.sources)
        self._orders: Dict[Tuple[int, int], List[int]] = {}
        self._next_batch = 0

    def _order(self, source: int, epoch: int) -> List[int]:
        key = (source, epoch)
        if key not in self._orders:
            order = list(range(len(self.sources[source][1])))
            random.Random(f"{self.seed}/order/{source}/{epoch}").shuffle(order)
            self._orders = {k: v for k, v in self._orders.items() if k[0] != source}  # keep memory flat
            self._orders[key] = order
        return self._orders[key]

    def _slot_sources(self, number: int) -> List[int]:
        """The source of each example slot of batch ``number``."""
        rng = random.Random(f"{self.seed}/source/{number}")
        if self.mixed:
            return rng.choices(range(len(self.sources)), weights=self.probabilities, k=self.batch_size)
        return [rng.choices(range(len(self.sources)), weights=self.probabilities)[0]] * self.batch_size

    def _draw(self) -> List[Dict]:
        batch = []
        for source in self._slot_sources(self._next_batch):
            examples = self.sources[source][1]
            epoch, offset = divmod(self._positions[source], len(examples))
            batch.append(examples[self._order(source, epoch)[offset]])
            self._positions[source] += 1
        self._next_batch += 1
        return batch

    def batches(self, start: int = 0) -> Iterator[Tuple[int, List[Dict]]]:
        """``(batch_number, examples)`` from batch ``start`` on (replaying the draws before it)."""
        self._positions = [0] * len(self.sources)
        self._next_batch = 0
        while self._next_batch < start:
            for source in self._slot_sources(self._next_batch):
                self._positions[source] += 1
            self._next_batch += 1
        while True:
            number = self._next_batch
            yield number, self._draw()


def few_shot_sample(examples: Sequence[Mapping], shots: int, seed: int) -> List[Dict]:
    """At least ``shots`` examples per entity type (greedy over a seeded order: an example is
    taken while one of its types still has fewer than ``shots``); ``shots=0`` gives []."""
    if shots < 0:
        raise ValueError(f"shots must be >= 0, got {shots}")
    if shots == 0:
        return []
    order = list(range(len(examples)))
    random.Random(f"{seed}/shots").shuffle(order)
    counts: Dict[str, int] = {}
    types = {label for example in examples for _, _, label in example["ner"]}
    chosen = []
    for index in order:
        labels = {label for _, _, label in examples[index]["ner"]}
        if any(counts.get(label, 0) < shots for label in labels):
            chosen.append(dict(examples[index]))
            for label in labels:
                counts[label] = counts.get(label, 0) + 1
        if all(counts.get(t, 0) >= shots for t in types):
            break
    return chosen
