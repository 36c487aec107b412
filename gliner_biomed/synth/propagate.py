"""Propagate mined types across a corpus: a name that a pattern typed in one text ("K562, a human
leukemic cell line") is typed wherever else it occurs in the corpus's texts ("K562 cells were
treated with ..."), when the type vocabulary says that its mined types agree.

Patterns see a name typed only where the text says what it is, once or twice per corpus; the same
name appears untyped in many more sentences, next to other kinds of entities. Propagation
(distant supervision from a lexicon the corpus itself mined) gives the model those sentences.
Only names whose mined types resolve, through their head words, to one group of the vocabulary
(or to groups that contain each other) are propagated, so an ambiguous name ("IL-6" mined as a
`cytokine`, an `antibody` and a `chemokine`) stays where it was mined. Matches are exact, at word
edges, and never overlap a mined mention of the same text.

With ``extend``, a mention of a listed group that the text continues with one of the group's
listed words is also typed with that word: "HeLa" is a cell line, and so is "HeLa cells" (the same
entity named with its head noun), so that a model learns that the cells of a line are a cell line,
not a cell type. The shorter mention stays: both are entities.

Output: the ``synth ground`` format (``text[start:end] == mention`` for every entity), one object
per text with at least one mined or propagated entity, ``annotator.propagated`` counting the
propagated ones; a report next to it (``<out>.report.json``)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from tqdm.auto import tqdm

from .grounding import GroundingConfig, ground_mentions
from .labels import LabelNormaliser
from .parsing import RawMention
from ..atomic_files import atomic_writer
from ..io_records import InputError, iter_jsonl, write_json_atomic


@dataclass(frozen=True)
class PropagateConfig:
    mined: Path  # `synth ground` output of the patterns backend
    texts: Path  # the texts it was mined from (`synth corpus-texts` output): {"id", "text"} per line
    out: Path
    report: Optional[Path] = None  # default: <out>.report.json
    vocabulary: Optional[Path] = None  # default: the packaged type vocabulary
    min_agreement: float = 0.6  # share of a name's resolved mined labels that must fall in its group
    min_name_length: int = 3  # characters; shorter names ("NF", "GR") are too ambiguous to propagate
    lowercase_names: bool = False  # also propagate names without a capital or a digit ("atherosclerosis", but also mining errors: "two", "activity")
    max_per_name: int = 50  # propagated occurrences per name, the first in file order (frequent names would swamp the rest)
    extend: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # (group, words): a mention of the group followed by one of the words is also typed with it
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0.5 < self.min_agreement <= 1.0:
            raise ValueError(f"min_agreement must be in (0.5, 1], got {self.min_agreement}")
        if self.min_name_length < 1 or self.max_per_name < 1:
            raise ValueError(f"min_name_length and max_per_name must be at least 1, got {self.min_name_length} / {self.max_per_name}")
        for group, words in self.extend:
            if not words or not all(word and word.split() == [word] for word in words):
                raise ValueError(f"extend {group!r}: give one or more single words, got {list(words)}")

    def report_path(self) -> Path:
        return self.report or self.out.with_name(self.out.name + ".report.json")


@dataclass(frozen=True)
class LexiconEntry:
    name: str  # the mention text, matched exactly
    label: str  # its most frequent mined label among those of its group
    group: str  # the vocabulary group its mined labels agree on
    mined: int  # mined occurrences of the name


def build_lexicon(mentions: Iterable[Tuple[str, str]], vocabulary, config: PropagateConfig, counts: Counter) -> Dict[str, LexiconEntry]:
    """Names to propagate from ``(mention, label)`` pairs; ``counts`` gets one ``names_*`` key per
    reason a name is left out (``too_short``, ``lowercase``, ``type_word``: the name is itself a type phrase,
    ``unresolved``: no mined label resolves, ``conflicting``: its labels disagree)."""
    labels_of: Dict[str, Counter] = defaultdict(Counter)
    for mention, label in mentions:
        labels_of[mention][label] += 1
    lexicon = {}
    for name, labels in labels_of.items():
        if len(name) < config.min_name_length or not any(ch.isalpha() for ch in name):
            counts["names_too_short"] += 1
            continue
        if not config.lowercase_names and not any(ch.isupper() or ch.isdigit() for ch in name):
            counts["names_lowercase"] += 1
            continue
        if vocabulary.group_of(name) is not None:
            counts["names_type_word"] += 1
            continue
        group_of = {label: vocabulary.group_of_head(label) for label in labels}
        groups = Counter()
        for label, n in labels.items():
            if group_of[label] is not None:
                groups[group_of[label]] += n
        if not groups:
            counts["names_unresolved"] += 1
            continue
        group, n = max(groups.items(), key=lambda item: (item[1], item[0]))
        if n / sum(groups.values()) < config.min_agreement or not all(vocabulary.compatible(group, other) for other in groups):
            counts["names_conflicting"] += 1
            continue
        label = min((l for l in labels if group_of[l] == group), key=lambda l: (-labels[l], len(l), l))
        lexicon[name] = LexiconEntry(name, label, group, sum(labels.values()))
        counts["names_propagated"] += 1
    return lexicon


def _name_pattern(names: Iterable[str]) -> "re.Pattern[str]":
    """Any of the names, longest first, not inside a longer word or hyphenated compound (no "NF"
    in "NF-kappaB")."""
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=lambda name: (-len(name), name)))
    return re.compile(rf"(?<![^\W_]|-)(?:{alternatives})(?![^\W_]|-)")


def parse_extend(value: str) -> Tuple[str, Tuple[str, ...]]:
    """``GROUP=WORD[,WORD...]`` (the CLI's ``--extend``) as ``(group, words)``."""
    group, sep, words = value.partition("=")
    if not sep or not group.strip():
        raise ValueError(f"--extend {value!r}: expected GROUP=WORD[,WORD...], e.g. 'cell line=cells,cell'")
    return group.strip(), tuple(word.strip() for word in words.split(","))


def _extension_patterns(extend, vocabulary) -> Dict[str, "re.Pattern[str]"]:
    """Group name -> the pattern of its words right after a mention (one space, whole word)."""
    patterns = {}
    for group, words in extend:
        name = vocabulary.group_of(group)
        if name is None:
            raise InputError(f"extend {group!r}: not a group or phrasing of the type vocabulary {vocabulary.source}")
        alternatives = "|".join(re.escape(word) for word in sorted(words, key=lambda word: (-len(word), word)))
        patterns[name] = re.compile(rf" (?:{alternatives})(?![^\W_]|-)")
    return patterns


def _extensions(text: str, mentions: Iterable[Tuple[RawMention, Optional[str]]], patterns) -> List[RawMention]:
    """Each ``(mention, group)`` of an extended group that the text continues with one of its words,
    as the longer mention; never over another mention."""
    mentions = list(mentions)
    out = []
    for raw, group in mentions:
        pattern = patterns.get(group)
        match = pattern.match(text, raw.end) if pattern else None
        if match is None or any(raw.end < other.end and other.start < match.end() for other, _ in mentions):
            continue
        out.append(RawMention(text[raw.start:match.end()], raw.label, raw.start, match.end()))
    return out


def _mined_records(path: Path) -> Dict[str, Mapping]:
    records = {}
    for record in iter_jsonl(path, {"id": str, "text": str, "entities": list}):
        if record["id"] in records:
            raise InputError(f"{path}: id {record['id']!r} appears twice")
        for entity in record["entities"]:
            if record["text"][entity["start"]:entity["end"]] != entity["mention"]:
                raise InputError(f"{path}: record {record['id']!r}: entity {entity!r} does not match its text span")
        records[record["id"]] = record
    return records


def propagate_file(config: PropagateConfig) -> Dict:
    """Write the propagated corpus and its report (both atomically); return the report."""
    from ..dataset_builders.type_vocabulary import load_type_vocabulary

    vocabulary = load_type_vocabulary(config.vocabulary)
    mined = _mined_records(config.mined)
    counts: Counter = Counter()
    lexicon = build_lexicon(((e["mention"], e["label"]) for r in mined.values() for e in r["entities"]), vocabulary, config, counts)
    if not lexicon:
        raise InputError(f"{config.mined}: no mined name has labels that the type vocabulary resolves to one group: nothing to propagate")
    pattern = _name_pattern(lexicon)
    extension_patterns = _extension_patterns(config.extend, vocabulary)
    normaliser = LabelNormaliser.from_file(None)
    exact = GroundingConfig(occurrences="all", unaligned="drop", normalised_match=False)
    per_name: Counter = Counter()
    by_group: Counter = Counter()
    texts_seen = set()
    with atomic_writer(config.out) as out:
        for record in tqdm(iter_jsonl(config.texts, {"id": str, "text": str}), desc=f"propagate {config.texts.name}", unit="text",
                           disable=not config.progress):
            if record["id"] in texts_seen:
                raise InputError(f"{config.texts}: id {record['id']!r} appears twice")
            texts_seen.add(record["id"])
            text = record["text"]
            own = mined.get(record["id"])
            if own is not None and own["text"] != text:
                raise InputError(f"{config.texts}: text {record['id']!r} differs from the text mined under that id in {config.mined}")
            raws = [RawMention(e["mention"], e["label"], e["start"], e["end"]) for e in (own["entities"] if own else ())]
            taken = [(raw.start, raw.end) for raw in raws]
            propagated = []
            for match in pattern.finditer(text):
                start, end = match.span()
                entry = lexicon[match.group()]
                if any(start < e and s < end for s, e in taken):
                    counts["matches_overlapping_mined"] += 1
                    continue
                if per_name[entry.name] >= config.max_per_name:
                    counts["matches_over_max_per_name"] += 1
                    continue
                per_name[entry.name] += 1
                propagated.append(RawMention(entry.name, entry.label, start, end))
            if not raws and not propagated:
                continue
            extended = _extensions(text, [(raw, vocabulary.group_of_head(raw.label)) for raw in raws]
                                   + [(raw, lexicon[raw.mention].group) for raw in propagated], extension_patterns) if extension_patterns else []
            result = ground_mentions(text, raws + propagated + extended, normaliser, exact)
            counts["mentions_not_word_aligned"] += result.counts["dropped_not_word_aligned"]
            if not result.entities:
                continue
            spans = {(e["start"], e["end"]) for e in result.entities}
            kept = [raw for raw in propagated if (raw.start, raw.end) in spans]
            kept_extended = {(raw.start, raw.end) for raw in extended} & spans
            by_group.update(lexicon[raw.mention].group for raw in kept)
            counts["mentions_mined"] += len(result.entities) - len(kept) - len(kept_extended)
            counts["mentions_propagated"] += len(kept)
            if extended:
                counts["mentions_extended"] += len(kept_extended)
            counts["texts_written"] += 1
            counts["texts_with_propagated_only"] += own is None
            out.write(json.dumps({"id": record["id"], "text": text, "entities": result.entities, "tokenized_text": result.tokenized_text,
                                  "ner": result.ner, "annotator": {"model": "patterns+propagation", "propagated": len(kept)}},
                                 ensure_ascii=False) + "\n")
        missing = sorted(set(mined) - texts_seen)
        if missing:  # raised inside the writer, so that no output replaces the old one
            raise InputError(f"{config.texts}: {len(missing)} texts of {config.mined} are not in it (first: {missing[0]!r}); "
                             f"propagate over the texts the corpus was mined from")
    report = {
        "mined": str(config.mined), "texts": str(config.texts), "output": str(config.out),
        "counts": dict(counts),
        "lexicon_by_group": dict(Counter(entry.group for entry in lexicon.values()).most_common()),
        "propagated_by_group": dict(by_group.most_common()),
        "most_propagated": {name: {"label": lexicon[name].label, "group": lexicon[name].group, "propagated": n}
                            for name, n in per_name.most_common(30)},
        "config": {"min_agreement": config.min_agreement, "min_name_length": config.min_name_length, "lowercase_names": config.lowercase_names,
                   "max_per_name": config.max_per_name, "vocabulary": vocabulary.source,
                   **({"extend": {group: list(words) for group, words in config.extend}} if config.extend else {})},
    }
    write_json_atomic(config.report_path(), report)
    return report
