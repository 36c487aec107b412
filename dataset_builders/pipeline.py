"""From corpus files to examples in the one schema, with the validation report of each split.

This is what everything else uses: ``load_corpus`` (in memory, for training and evaluation),
the ``datasets`` builder, and the Hub-ready export.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

from .corpora import SplitPlan, available_splits, corpus_spec, split_documents
from .sources import resolve_corpus_dir
from .examples import LEVELS, document_examples, unique_example_ids
from .label_maps import load_label_map, read_label_map_file
from .readers import ReadOptions, read_span_jsonl
from .records import SourceDocument
from .report import IssueLog, relative_paths
from .validation import SplitStats, check_cross_split_duplicates, validate_split

SYNTHETIC = "synthetic"
SYNTHETIC_SPLIT_FILES = {split: f"{split}.jsonl" for split in ("train", "validation", "test")}


@dataclass(frozen=True)
class BuildOptions:
    """Everything that decides the content of a build (all of it is recorded in the dataset card)."""

    level: str = "document"
    lenient: bool = False  # skip malformed records (counted) instead of failing
    repair_offsets: bool = True  # re-align mentions that do not match their text (each repair logged)
    heldout_validation: float = 0.0  # for corpora without a published validation split
    seed: int = 13
    corpora_dir: Optional[str] = None  # default: $GLINER_BIOMED_CORPORA or ../shared/corpora
    synthetic_source: Optional[str] = None  # JSONL file (all train) or folder with {train,validation,test}.jsonl

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(lenient=self.lenient, repair_offsets=self.repair_offsets)

    @property
    def split_plan(self) -> SplitPlan:
        return SplitPlan(self.heldout_validation, self.seed)


@dataclass
class SplitExamples:
    examples: List[Dict]
    documents: List[SourceDocument]
    log: IssueLog
    stats: SplitStats
    note: str = ""


@dataclass
class CorpusBuild:
    name: str
    options: BuildOptions
    label_map: Dict[str, Optional[str]]
    splits: Dict[str, SplitExamples] = field(default_factory=dict)

    def source_roots(self) -> List[Path]:
        """The folders this build's source files lie under (the corpora root, or the synthetic source's folder)."""
        if self.name == SYNTHETIC:
            source = Path(self.options.synthetic_source)
            return [source if source.is_dir() else source.parent]
        return [resolve_corpus_dir(self.name, self.options.corpora_dir)]

    def report(self, examples_per_kind: int = 20, portable: bool = False) -> Dict[str, object]:
        """The validation report, JSON-ready; ``portable``: source paths relative to
        :meth:`source_roots` (for published repos, which must not name this machine's folders)."""
        report = {
            "corpus": self.name,
            "level": self.options.level,
            "label_map": self.label_map,
            "splits": {
                split: {**data.stats.to_dict(), "note": data.note, "issues": data.log.summary(examples_per_kind)}
                for split, data in self.splits.items()
            },
        }
        return relative_paths(report, self.source_roots()) if portable else report


def _synthetic_sources(options: BuildOptions) -> Dict[str, Path]:
    if not options.synthetic_source:
        raise ValueError("the synthetic corpus needs a source: a JSONL file or a folder with train/validation/test .jsonl files")
    source = Path(options.synthetic_source)
    if source.is_file():
        return {"train": source}
    if source.is_dir():
        found = {split: source / file for split, file in SYNTHETIC_SPLIT_FILES.items() if (source / file).is_file()}
        if found:
            return found
        raise FileNotFoundError(f"{source}: no {', '.join(SYNTHETIC_SPLIT_FILES.values())} in this folder")
    raise FileNotFoundError(f"synthetic source {source} not found")


def corpus_splits(name: str, options: BuildOptions = BuildOptions()) -> List[str]:
    if name == SYNTHETIC:
        return list(_synthetic_sources(options))
    return available_splits(name, options.split_plan)


def _source_documents(name: str, split: str, options: BuildOptions) -> Tuple[List[SourceDocument], IssueLog, str]:
    if name == SYNTHETIC:
        sources = _synthetic_sources(options)
        if split not in sources:
            raise KeyError(f"synthetic source {options.synthetic_source} has no {split!r} split (available: {list(sources)})")
        log = IssueLog()
        return list(read_span_jsonl(sources[split], options.read_options, log)), log, f"from {sources[split].name}"
    data = split_documents(name, split, options.read_options, options.split_plan, options.corpora_dir)
    log = IssueLog()
    log.extend(data.log)  # a copy: the file-level log is cached and shared between slices
    return data.documents, log, data.note


def _identity_label_map(documents: List[SourceDocument]) -> Dict[str, Optional[str]]:
    return {label: label for label in sorted({e.type for d in documents for e in d.entities})}


def build_split(
    name: str, split: str, options: BuildOptions = BuildOptions(), label_map: Optional[Mapping[str, Optional[str]]] = None
) -> SplitExamples:
    """Examples of one split plus its validation (issues and counts)."""
    documents, log, note = _source_documents(name, split, options)
    if label_map is None:
        label_map = _identity_label_map(documents) if name == SYNTHETIC else load_label_map(name)
    examples: List[Dict] = []
    for document, example_id in zip(documents, unique_example_ids(documents)):
        examples.extend(document_examples(document, example_id, label_map, options.level, log))
    stats = validate_split(documents, examples, log)
    return SplitExamples(examples, documents, log, stats, note)


def build_corpus(
    name: str, options: BuildOptions = BuildOptions(), label_map_override: Optional[Union[Mapping, str, Path]] = None
) -> CorpusBuild:
    """All splits of a corpus, validated together (including documents shared between splits)."""
    if name == SYNTHETIC:
        splits = corpus_splits(name, options)
        documents = [d for split in splits for d in _source_documents(name, split, options)[0]]
        label_map = _identity_label_map(documents)
        if label_map_override is not None:
            label_map.update(load_label_map_file(label_map_override))
    else:
        corpus_spec(name)
        splits = corpus_splits(name, options)
        label_map = load_label_map(name, label_map_override)
    build = CorpusBuild(name, options, label_map)
    for split in splits:
        build.splits[split] = build_split(name, split, options, label_map)
    check_cross_split_duplicates(
        {split: data.documents for split, data in build.splits.items()},
        {split: data.log for split, data in build.splits.items()},
    )
    return build


def load_label_map_file(override: Union[Mapping, str, Path]) -> Dict[str, Optional[str]]:
    return dict(override) if isinstance(override, Mapping) else read_label_map_file(override)


_EXAMPLE_CACHE: Dict[tuple, List[Dict]] = {}


def load_corpus(
    name: str,
    split: str,
    level: str = "document",
    label_map: Optional[Mapping[str, Optional[str]]] = None,
    **options,
) -> List[Dict]:
    """Examples of one split in the one schema, straight from the source files (cached in memory).

    ``label_map`` is merged over the corpus's own map (``None`` values leave a type out).
    Extra keyword arguments are :class:`BuildOptions` fields (``lenient``, ``heldout_validation``,
    ``synthetic_source``...). Each call returns a fresh copy, so callers may modify it.
    """
    build_options = BuildOptions(level=level, **options)
    if name == SYNTHETIC:
        merged = None if label_map is None else {**_identity_label_map(_source_documents(name, split, build_options)[0]), **label_map}
    else:
        merged = load_label_map(name, label_map)
    key = (name, split, build_options, None if merged is None else tuple(sorted(merged.items(), key=lambda item: item[0])))
    if key not in _EXAMPLE_CACHE:
        _EXAMPLE_CACHE[key] = build_split(name, split, build_options, merged).examples
    return copy.deepcopy(_EXAMPLE_CACHE[key])
