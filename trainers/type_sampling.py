"""Label prompts drawn from the type vocabulary, so that training teaches meanings, not strings
(issue 13; docs/open-types.md "Training with the vocabulary").

Examples of a corpus the vocabulary has a policy for carry their corpus's own source types in
``ner`` (``load_source(..., source_types=True)``). Per example:

1. every gold type is asked under one phrasing, drawn from the phrasings of its group (and, with
   ``hierarchy``, of an ancestor the corpus annotates exhaustively: ``sequence variant`` for a
   tmVar ``ProteinMutation``);
2. each gold type is dropped from the prompt with ``drop_type_prob`` (its mentions then stay
   unlabelled, which is only right because every label still asked is judged to exclude them, or
   covers them and labels them);
3. up to ``vocabulary_negatives`` negative types are added from the whole vocabulary, each one
   allowed by the corpus's negative policy and in conflict with none of the example's gold types;
4. up to ``contrast_types`` contrast types are added: groups disjoint from every gold type of the
   example that the corpus does not annotate (BC5CDR's chemicals are not genes, but BC5CDR text has
   unannotated genes). They are judged only on the example's gold mentions (``contrast_labels``:
   the collator masks their other spans), which teaches "tamoxifen is not a gene" without teaching
   that an unannotated gene is not one;
5. the prompt is shuffled and capped, and ``ner`` is rewritten into the prompt's phrasings: a gold
   mention is labelled with EVERY asked label whose group covers its type (``mutation`` and
   ``protein mutation`` both mark W486C), never with a label that merely might apply (such labels
   are not asked: see ``TypeVocabulary.label_judgements``).

With ``pair_examples``, an example is joined with the next example of the batch when that one
comes from another corpus: one text, the two prompts' union, so that a gene and a chemical meet in
one input under both types (a model trained on one corpus per input learns "one type per text":
with ``cisplatin`` beside it, BRCA1 became a chemical). Each part judges every label of the union
by its own corpus's annotation: a label its corpus may ask is judged on all its spans, a label
disjoint from all its gold types only on its gold mentions, any other label nowhere in it
(``loss_regions``, masked by the collator).

Examples of corpora outside the vocabulary (the ``synthetic`` corpus, given examples) keep their
labels and take their corpus's other types as negatives, as without a vocabulary. With
``open_contrast_types``, such an example also takes contrast types, judged on its mentions whose
type the vocabulary resolves (a mined ``cytokine`` IL-6 is not a ``transcription factor``; its
other spans and its unresolved mentions stay unknown): groups disjoint from every resolved type
(with ``near_contrast``, those sharing the most ancestors with one first: the near misses the mined
corpus alone never contrasts), phrased by the vocabulary or by the open corpus's own types that resolve to them
(``add_open_types``: a held-out phrasing among those is one that corpus already shows as a
positive, so the unseen-type suite stays unseen as long as the corpus was mined without its phrases)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from collections import Counter
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from gliner_biomed.dataset_builders import load_label_map
from gliner_biomed.dataset_builders.type_vocabulary import DEFAULT_VOCABULARY, TypeVocabulary, load_type_vocabulary

SURFACE_FORM_SAMPLING = ("canonical", "synonyms", "hierarchy")
OPEN_PHRASE_CHOICES = ("uniform", "frequency")


@dataclass
class TypeSampling:
    """How prompts are drawn from the vocabulary (TrainConfig's fields of the same names)."""

    vocabulary: str = "default"  # the type vocabulary YAML ("default": the packaged one)
    surface_form_sampling: str = "hierarchy"  # canonical (label-map label), synonyms (own group), hierarchy (+ exhaustive ancestors)
    drop_type_prob: float = 0.1  # chance each gold type is left out of the prompt
    vocabulary_negatives: int = 4  # up to this many negative types per example (drawn in [0, n])
    contrast_types: int = 0  # up to this many contrast types per example (drawn in [0, n]), judged on its gold mentions only
    shuffle: bool = True
    max_types: int = 25
    pair_examples: float = 0.0  # chance an example is joined with the next one of the batch (another corpus)
    pair_max_words: int = 128  # a pair never has more words than this
    open_contrast_types: int = 0  # up to this many contrast types (drawn in [0, n]) per example of a corpus without a policy
    near_contrast: bool = False  # contrast types sharing the most ancestors with a gold type first (else uniform)
    open_phrase_choice: str = "uniform"  # an open contrast type's phrasing: "uniform" over its group's phrasings, or by "frequency" in the open corpora
    open_overlaps_unknown: bool = False  # open corpora: a mention is a negative of another own type only when the vocabulary says their types are disjoint
    open_head_phrasing: float = 0.0  # open corpora: chance each own type is asked by its head ("gram negative bacterium" -> "bacterium")

    def __post_init__(self):
        if self.surface_form_sampling not in SURFACE_FORM_SAMPLING:
            raise ValueError(f"surface_form_sampling must be one of {', '.join(SURFACE_FORM_SAMPLING)}, got {self.surface_form_sampling!r}")
        if not 0 <= self.drop_type_prob < 1:
            raise ValueError(f"drop_type_prob must be in [0, 1), got {self.drop_type_prob}")
        if self.vocabulary_negatives < 0:
            raise ValueError(f"vocabulary_negatives must be >= 0, got {self.vocabulary_negatives}")
        if self.contrast_types < 0:
            raise ValueError(f"contrast_types must be >= 0, got {self.contrast_types}")
        if self.max_types < 1:
            raise ValueError(f"max_types must be >= 1, got {self.max_types}")
        if not 0 <= self.pair_examples <= 1:
            raise ValueError(f"pair_examples must be in [0, 1], got {self.pair_examples}")
        if self.open_contrast_types < 0:
            raise ValueError(f"open_contrast_types must be >= 0, got {self.open_contrast_types}")
        if self.open_phrase_choice not in OPEN_PHRASE_CHOICES:
            raise ValueError(f"open_phrase_choice must be one of {', '.join(OPEN_PHRASE_CHOICES)}, got {self.open_phrase_choice!r}")
        if not 0 <= self.open_head_phrasing <= 1:
            raise ValueError(f"open_head_phrasing must be in [0, 1], got {self.open_head_phrasing}")
        if self.pair_max_words < 2:
            raise ValueError(f"pair_max_words must be >= 2, got {self.pair_max_words}")

    def load_vocabulary(self) -> TypeVocabulary:
        return load_type_vocabulary(DEFAULT_VOCABULARY if self.vocabulary == "default" else self.vocabulary)


class VocabularyPromptSampler:
    """Draws each example's prompt and rewrites its ``ner`` into the prompt's phrasings (see module doc)."""

    def __init__(self, sampling: TypeSampling, vocabulary: Optional[TypeVocabulary] = None):
        self.sampling = sampling
        self.vocabulary = vocabulary or sampling.load_vocabulary()
        self._canonical: Dict[str, Dict[str, Optional[str]]] = {}
        self._open_phrases: Dict[str, List[str]] = {}  # group -> types of open corpora that resolve to it
        self._open_counts: Counter = Counter()  # type of an open corpus -> its mentions there
        self._disjoint: Dict[Optional[str], frozenset] = {}  # group -> groups disjoint from it

    def add_open_types(self, labels: Iterable[str]) -> None:
        """Types of a corpus without a policy (the mined ``synthetic`` corpus): those the vocabulary
        resolves phrase their group as open contrast types, next to its training phrasings."""
        for label in labels:
            self._open_counts[label] += 1
            group = self.vocabulary.group_of_head(label)
            if group is not None and label not in self._open_phrases.setdefault(group, []):
                self._open_phrases[group].append(label)

    def knows(self, corpus: Optional[str]) -> bool:
        return corpus in self.vocabulary.policies

    def check_corpora(self, corpora: Sequence[str]) -> None:
        """Every source type of these corpora (those the vocabulary has a policy for) is covered."""
        self.vocabulary.check_label_maps([c for c in dict.fromkeys(corpora) if self.knows(c)])

    def use_sources(self, sources: Sequence[Tuple[object, Sequence[Mapping]]]) -> None:
        """Before drawing from ``(SourceSpec, examples)`` sources: checks the corpora the vocabulary
        has a policy for (``check_corpora``) and registers the others' types (``add_open_types``)."""
        self.check_corpora([spec.corpus for spec, _ in sources])
        for spec, examples in sources:
            if not self.knows(spec.corpus):
                self.add_open_types(label for example in examples for _, _, label in example["ner"])

    def __call__(self, examples: Sequence[Mapping], rng: random.Random) -> Tuple[List[Dict], List[List[str]]]:
        """(examples with ``ner`` in prompt phrasings and their ``contrast_labels``, one prompt per
        example; with ``pair_examples``, a joined pair is one example with ``loss_regions``)."""
        out_examples, label_sets = [], []
        examples = list(examples)
        index = 0
        while index < len(examples):
            example = examples[index]
            index += 1
            if self.sampling.pair_examples and index < len(examples) and self._pairable(example, examples[index]) \
                    and rng.random() < self.sampling.pair_examples:
                joined, labels = self._paired_prompt(example, examples[index], rng)
                index += 1
                out_examples.append(joined)
                label_sets.append(labels)
                continue
            if self.knows(example.get("corpus")):
                labels, ner, contrast = self._vocabulary_prompt(example, rng)
                out_examples.append({**example, "ner": ner, "contrast_labels": contrast})
            else:
                if self.sampling.open_head_phrasing:
                    example = self._open_heads(example, rng)
                labels, regions, unknown = self._open_prompt(example, rng)
                out_examples.append({**example, "ner": [list(entity) for entity in example["ner"]], "contrast_labels": [],
                                     "loss_regions": regions, "unknown_spans": unknown})
            label_sets.append(labels)
        return out_examples, label_sets

    # -- a pair of examples ----------------------------------------------------------------------
    def _pairable(self, first: Mapping, second: Mapping) -> bool:
        return (first.get("corpus") != second.get("corpus") and self.knows(first.get("corpus")) and self.knows(second.get("corpus"))
                and len(first["tokenized_text"]) + len(second["tokenized_text"]) <= self.sampling.pair_max_words)

    def _paired_prompt(self, first: Mapping, second: Mapping, rng: random.Random) -> Tuple[Dict, List[str]]:
        """One example of ``first``'s words then ``second``'s, asked the union of their prompts;
        every label judged on each part by that part's corpus (see module doc)."""
        prompts = [self._vocabulary_prompt(part, rng)[0] for part in (first, second)]
        labels = list(dict.fromkeys(prompts[0] + prompts[1]))
        if self.sampling.shuffle:
            rng.shuffle(labels)
        labels = labels[: self.sampling.max_types]
        groups = {phrase: self.vocabulary.group_of(phrase) for phrase in labels}
        ner: List[List] = []
        regions: List[List] = []
        offset = 0
        for part in (first, second):
            golds = list(dict.fromkeys(label for _, _, label in part["ner"]))
            judged = self.vocabulary.label_judgements(part["corpus"], golds)
            contrast = set(self.vocabulary.contrast_groups(part["corpus"], golds))
            end = offset + len(part["tokenized_text"])
            for phrase, group in groups.items():
                if group in judged:
                    ner += [[s + offset, e + offset, phrase] for s, e, gold in part["ner"] if gold in judged[group]]
                else:  # unknown on this part, except (for a disjoint type) its gold mentions: they are not of it
                    kept = [[s + offset, e + offset] for s, e, _ in part["ner"]] if group in contrast else []
                    regions.append([phrase, offset, end, kept])
            offset = end
        joined = {**first, "id": f"{first.get('id')}+{second.get('id')}", "tokenized_text": list(first["tokenized_text"]) + list(second["tokenized_text"]),
                  "ner": ner, "contrast_labels": [], "loss_regions": regions}
        return joined, labels

    # -- one example ---------------------------------------------------------------------------
    def _vocabulary_prompt(self, example: Mapping, rng: random.Random) -> Tuple[List[str], List[List], List[str]]:
        corpus = example["corpus"]
        golds = list(dict.fromkeys(label for _, _, label in example["ner"]))
        judged = self.vocabulary.label_judgements(corpus, golds)
        asked: Dict[str, str] = {}  # phrasing -> group
        for gold in golds:
            if rng.random() < self.sampling.drop_type_prob:
                continue
            group = self._positive_group(corpus, gold, judged, rng)
            phrase = self._phrase(corpus, gold, group, rng)
            asked.setdefault(phrase, group)
        negatives = [group for group, covered in judged.items() if not covered and group not in asked.values()]
        count = rng.randint(0, self.sampling.vocabulary_negatives) if self.sampling.vocabulary_negatives else 0
        for group in rng.sample(negatives, min(count, len(negatives))):
            asked.setdefault(self._negative_phrase(group, rng), group)
        contrast: Dict[str, str] = {}
        if self.sampling.contrast_types and example["ner"]:
            candidates = self.vocabulary.contrast_groups(corpus, golds)
            count = rng.randint(0, self.sampling.contrast_types)
            gold_groups = [self.vocabulary.group_of_source(corpus, gold) for gold in golds]
            for group in self._pick_contrast(candidates, gold_groups, count, rng):
                phrase = self._negative_phrase(group, rng)
                if phrase not in asked:
                    contrast[phrase] = group
        if not asked:  # every type dropped and no negative allowed: keep one gold type rather than an empty prompt
            gold = golds[0] if golds else None
            if gold is None:
                return [], [], []
            group = self._positive_group(corpus, gold, judged, rng)
            asked[self._phrase(corpus, gold, group, rng)] = group
        labels = list(asked) + list(contrast)
        if self.sampling.shuffle:
            rng.shuffle(labels)
        labels = labels[: self.sampling.max_types]
        ner = [[start, end, phrase] for start, end, gold in example["ner"] for phrase in labels
               if phrase in asked and gold in judged[asked[phrase]]]
        return labels, ner, [phrase for phrase in labels if phrase in contrast]

    def _pick_contrast(self, candidates: Sequence[str], gold_groups: Sequence[Optional[str]], count: int, rng: random.Random) -> List[str]:
        """``count`` contrast groups: drawn uniformly, or (``near_contrast``) those sharing the most
        ancestors with a gold group first (a cytokine's near miss is a transcription factor, not a
        chemical), ties in random order."""
        if not self.sampling.near_contrast:
            return rng.sample(list(candidates), min(count, len(candidates)))
        ancestries = [self.vocabulary.ancestors(group) for group in gold_groups if group is not None]
        shuffled = rng.sample(list(candidates), len(candidates))
        shared = {group: max((len(self.vocabulary.ancestors(group) & ancestry) for ancestry in ancestries), default=0)
                  for group in shuffled}
        return sorted(shuffled, key=lambda group: -shared[group])[:count]

    def _positive_group(self, corpus: str, gold: str, judged: Mapping[str, frozenset], rng: random.Random) -> str:
        """The group a gold type is asked under: its own, or (hierarchy) an exhaustive ancestor;
        only groups that are unambiguous for every gold type of the example."""
        own = self.vocabulary.group_of_source(corpus, gold)
        covering = [group for group, covered in judged.items() if gold in covered]
        mode = self.sampling.surface_form_sampling
        if mode == "canonical":
            return self.vocabulary.group_of(self._canonical_label(corpus, gold))
        if mode == "synonyms" and own in covering:
            return own
        if not covering:  # cannot happen for a checked vocabulary: the canonical label's group covers it
            raise ValueError(f"type vocabulary {self.vocabulary.source}: no group may name {corpus}:{gold} in an example "
                             f"with types {sorted(judged)}")
        return rng.choice(covering)

    def _phrase(self, corpus: str, gold: str, group: str, rng: random.Random) -> str:
        if self.sampling.surface_form_sampling == "canonical":
            return self._canonical_label(corpus, gold)
        return rng.choice(self.vocabulary.surface_forms(group))

    def _negative_phrase(self, group: str, rng: random.Random) -> str:
        forms = self.vocabulary.surface_forms(group)
        return forms[0] if self.sampling.surface_form_sampling == "canonical" else rng.choice(forms)

    def _canonical_label(self, corpus: str, gold: str) -> str:
        if corpus not in self._canonical:
            self._canonical[corpus] = load_label_map(corpus)
        return self._canonical[corpus][gold]

    # -- an example of a corpus without a policy ------------------------------------------------
    def _open_prompt(self, example: Mapping, rng: random.Random) -> Tuple[List[str], List[List], List[List]]:
        """Its own types and its corpus's (``_plain_prompt``), plus open contrast types, each a
        ``loss_regions`` entry known only on the mentions whose type the vocabulary resolves; and
        (``open_overlaps_unknown``) the ``unknown_spans`` of ``_open_overlaps``."""
        labels = self._plain_prompt(example, rng)
        count = rng.randint(0, self.sampling.open_contrast_types) if self.sampling.open_contrast_types else 0
        resolved = [(start, end, group) for start, end, label in example["ner"] for group in [self.vocabulary.group_of_head(label)] if group] \
            if count else []
        if resolved:
            groups = sorted({group for _, _, group in resolved})
            phrases = {group: [p for p in dict.fromkeys(self.vocabulary.surface_forms(group) + self._open_phrases.get(group, []))
                               if p not in labels] for group in self.vocabulary.excluding_groups(groups)}
            candidates = [group for group, forms in phrases.items() if forms]
            contrast = [self._open_phrase(phrases[group], rng) for group in self._pick_contrast(candidates, groups, count, rng)]
            kept = [[start, end] for start, end, _ in resolved]
            labels = labels + contrast
            if self.sampling.shuffle:
                rng.shuffle(labels)
            labels = labels[: self.sampling.max_types]
            regions = [[phrase, 0, len(example["tokenized_text"]), kept] for phrase in contrast if phrase in labels]
        else:
            regions = []
        return labels, regions, self._open_overlaps(example, labels) if self.sampling.open_overlaps_unknown else []

    def _open_heads(self, example: Mapping, rng: random.Random) -> Mapping:
        """The example with each own type asked, with ``open_head_phrasing``, by its head words
        instead: a mined "gram negative bacterium" is a ``bacterium``, an "inflammatory cytokine" a
        ``cytokine`` (a hypernym by construction, so every mention stays a positive). Only heads
        that training already shows (a training phrasing of the vocabulary, or a type of the open
        corpora), so a held-out phrasing of the unseen-type suite never enters through a head."""
        renamed = {}
        for label in dict.fromkeys(label for _, _, label in example["ner"]):
            head = self.vocabulary.head_phrase(label)
            if head is not None and head != label and (self.vocabulary.contains_phrase(head) or self._open_counts[head]) \
                    and rng.random() < self.sampling.open_head_phrasing:
                renamed[label] = head
        if not renamed:
            return example
        ner = dict.fromkeys((start, end, renamed.get(label, label)) for start, end, label in example["ner"])
        return {**example, "ner": [list(entity) for entity in ner]}

    def _open_phrase(self, forms: Sequence[str], rng: random.Random) -> str:
        """A phrasing of an open contrast group: uniform, or weighted by its mentions in the open
        corpora (a vocabulary phrasing they never use counts one), so that a cytokine meets the
        plain "transcription factor" far more often than "mitogen inducible transcription factor"."""
        if self.sampling.open_phrase_choice == "uniform":
            return rng.choice(forms)
        return rng.choices(forms, weights=[max(self._open_counts[form], 1) for form in forms])[0]

    def _open_overlaps(self, example: Mapping, labels: Sequence[str]) -> List[List]:
        """``[label, first_word, last_word]`` cells of an open example's own types that stay unknown:
        a mention of another type is a negative of an own type only when the vocabulary resolves
        both to disjoint groups. A mined ``transcription factor`` is no negative of the sentence's
        ``protein`` (it is one), nor is a mention whose type the vocabulary does not know."""
        own = {label for _, _, label in example["ner"]}
        positive = {(start, end, label) for start, end, label in example["ner"]}
        cells = []
        for label in labels:
            if label not in own:
                continue
            group = self.vocabulary.group_of_head(label)
            if group not in self._disjoint:
                self._disjoint[group] = frozenset(self.vocabulary.excluding_groups([group])) if group else frozenset()
            disjoint = self._disjoint[group]
            for start, end, other in example["ner"]:
                if (start, end, label) not in positive and self.vocabulary.group_of_head(other) not in disjoint:
                    cells.append([label, start, end])
        return cells

    def _plain_prompt(self, example: Mapping, rng: random.Random) -> List[str]:
        own = list(dict.fromkeys(label for _, _, label in example["ner"]))
        labels = own + [t for t in example.get("corpus_types", ()) if t not in own]
        if self.sampling.shuffle:
            rng.shuffle(labels)
        return labels[: self.sampling.max_types]
