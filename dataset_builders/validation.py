"""The validation pass: duplicates, overlapping/nested mentions and per-type counts of a split."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from .records import SourceDocument
from .report import IssueLog


@dataclass
class SplitStats:
    documents: int = 0
    examples: int = 0
    mentions_by_type: Counter = field(default_factory=Counter)  # source type names, before the label map
    mentions_by_label: Counter = field(default_factory=Counter)  # labels of the emitted `entities`
    ner_spans: int = 0  # spans of the GLiNER view (word-aligned, duplicates collapsed)

    def to_dict(self) -> Dict[str, object]:
        return {
            "documents": self.documents,
            "examples": self.examples,
            "mentions": sum(self.mentions_by_label.values()),
            "mentions_by_type": dict(sorted(self.mentions_by_type.items())),
            "mentions_by_label": dict(sorted(self.mentions_by_label.items())),
            "ner_spans": self.ner_spans,
        }


def check_mention_overlaps(document: SourceDocument, log: IssueLog) -> None:
    """Log every pair of mentions that share offsets, nest, or cross (sweep over start order)."""
    entities = sorted(document.entities, key=lambda e: (e.start, -e.end))
    active: List = []
    for entity in entities:
        active = [other for other in active if other.end > entity.start]
        for other in active:  # other.start <= entity.start < other.end
            where = entity.where or document.where
            pair = f"{other.type} {other.mention!r} {other.start}-{other.end} / {entity.type} {entity.mention!r} {entity.start}-{entity.end}"
            if (other.start, other.end) == (entity.start, entity.end):
                log.add("same_span_mention", where, pair)
            elif entity.end <= other.end:
                log.add("nested_mention", where, pair)
            else:
                log.add("overlapping_mention", where, pair)
        active.append(entity)


def validate_split(documents: Sequence[SourceDocument], examples: Sequence[Dict], log: IssueLog) -> SplitStats:
    """Run the checks of one split (issues go to ``log``) and count what it holds."""
    stats = SplitStats(documents=len(documents), examples=len(examples))
    seen: Counter = Counter()
    for document in documents:
        seen[document.document_id] += 1
        if seen[document.document_id] == 2:
            log.add("duplicate_document", document.where or document.document_id, f"document {document.document_id} appears again; kept as published")
        check_mention_overlaps(document, log)
        stats.mentions_by_type.update(entity.type for entity in document.entities)
    for example in examples:
        stats.mentions_by_label.update(entity["label"] for entity in example["entities"])
        stats.ner_spans += len(example["ner"])
    return stats


def check_cross_split_duplicates(documents_by_split: Dict[str, Sequence[SourceDocument]], logs: Dict[str, IssueLog]) -> None:
    """Log documents whose id appears in more than one split (train/test leakage)."""
    splits_of: Dict[str, List[str]] = {}
    for split, documents in documents_by_split.items():
        for document_id in dict.fromkeys(d.document_id for d in documents):
            splits_of.setdefault(document_id, []).append(split)
    for document_id, splits in splits_of.items():
        if len(splits) > 1:
            for split in splits:
                logs[split].add("document_in_several_splits", document_id, f"also in {', '.join(s for s in splits if s != split)}")
