"""Issues found while reading and validating a corpus, kept so that nothing is dropped silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

# Every kind of issue a reader or the validation pass can record, with what it means; the dataset
# card and the JSON report use these descriptions.
ISSUE_KINDS: Dict[str, str] = {
    "mention_repaired": "mention string did not match text[start:end]; offsets/surface re-aligned (see detail)",
    "record_skipped": "malformed or unrepairable record skipped in lenient mode",
    "broken_tag_sequence": "I-/E- tag without a matching open chunk; started a new chunk as conlleval does",
    "discontinuous_mention": "discontinuous mention kept as its covering extent (fragments in detail)",
    "duplicate_document": "document id already seen in this split; kept as published",
    "document_in_several_splits": "document id also present in another split",
    "nested_mention": "mention lies inside another mention of the same document",
    "overlapping_mention": "mention crosses another mention's boundary",
    "same_span_mention": "two mentions share exact offsets (same or different labels)",
    "not_word_aligned": "mention boundary falls inside a word of the shared splitter; kept in `entities`, absent from `ner`",
    "excluded_by_label_map": "type mapped to null in the label map; mention left out",
    "sentence_boundary_merged": "sentence boundary inside a mention; the two sentences were merged",
    "ner_disagrees_with_entities": "supplied tokenized_text/ner differ from the ones recomputed from `entities`",
}


@dataclass
class Issue:
    kind: str
    where: str
    detail: str
    # Document the issue belongs to, when known: lets a split that is a slice of a file
    # (BC5CDR/BioRED TrainDev) keep only its own documents' issues.
    document_id: Optional[str] = None

    def to_dict(self) -> Dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}


@dataclass
class IssueLog:
    """Collects issues; readers and validators append, reports summarise."""

    issues: List[Issue] = field(default_factory=list)

    def add(self, kind: str, where: object, detail: str) -> None:
        if kind not in ISSUE_KINDS:
            raise KeyError(f"unknown issue kind {kind!r}; known: {sorted(ISSUE_KINDS)}")
        self.issues.append(Issue(kind, str(where), detail, getattr(where, "document_id", None)))

    def counts(self) -> Counter:
        return Counter(issue.kind for issue in self.issues)

    def of_kind(self, kind: str) -> List[Issue]:
        return [issue for issue in self.issues if issue.kind == kind]

    def extend(self, other: "IssueLog") -> None:
        self.issues.extend(other.issues)

    def summary(self, examples_per_kind: int = 20) -> Dict[str, object]:
        """JSON-ready: counts per kind plus the first few issues of each kind."""
        result: Dict[str, object] = {}
        for kind, count in sorted(self.counts().items()):
            result[kind] = {
                "count": count,
                "meaning": ISSUE_KINDS[kind],
                "examples": [issue.to_dict() for issue in self.of_kind(kind)[:examples_per_kind]],
            }
        return result


def relative_paths(value: Any, roots: Sequence[Path]) -> Any:
    """``value`` (JSON-ready) with every ``ROOT/`` prefix of a path inside its strings removed,
    for each root as given and resolved: what stays is the path inside the corpora folder."""
    prefixes = sorted({f"{root}/" for folder in roots for root in (Path(folder), Path(folder).resolve())}, key=len, reverse=True)
    if isinstance(value, str):
        for prefix in prefixes:
            value = value.replace(prefix, "")
        return value
    if isinstance(value, dict):
        return {key: relative_paths(item, roots) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [relative_paths(item, roots) for item in value]
    return value
