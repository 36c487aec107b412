"""Source documents -> examples in the one schema (document- or sentence-level)."""

from __future__ import annotations

from collections import Counter
from typing import Dict, List, Mapping, Optional, Sequence

from .records import CorpusFormatError, SourceDocument
from .report import IssueLog
from .sentences import sentence_spans
from .word_view import word_view

LEVELS = ("document", "sentence")


def unique_example_ids(documents: Sequence[SourceDocument]) -> List[str]:
    """Example ids in document order: the document id, with ``#2``, ``#3``... for repeats kept as published."""
    seen: Counter = Counter()
    ids = []
    for document in documents:
        seen[document.document_id] += 1
        count = seen[document.document_id]
        ids.append(document.document_id if count == 1 else f"{document.document_id}#{count}")
    return ids


def _mapped_entities(document: SourceDocument, label_map: Mapping[str, Optional[str]], log: IssueLog) -> List[Dict]:
    entities = []
    for entity in document.entities:
        if entity.type not in label_map:
            raise CorpusFormatError(
                f"entity type {entity.type!r} has no entry in the label map (known: {sorted(label_map)}); "
                "add it to the label map or map it to null to leave it out",
                entity.where or document.where,
            )
        label = label_map[entity.type]
        if label is None:
            log.add("excluded_by_label_map", entity.where or document.where, f"{entity.type} {entity.mention!r}")
            continue
        entities.append({"start": entity.start, "end": entity.end, "label": label, "mention": entity.mention})
    entities.sort(key=lambda e: (e["start"], e["end"], e["label"]))
    return entities


def _example(example_id: str, document_id: str, text: str, entities: List[Dict], log: IssueLog, where) -> Dict:
    tokenized_text, ner, not_aligned = word_view(text, [(e["start"], e["end"], e["label"]) for e in entities])
    for start, end, label in not_aligned:
        log.add("not_word_aligned", where, f"{label} {text[start:end]!r} at {start}-{end} in example {example_id}")
    return {
        "id": example_id,
        "document_id": document_id,
        "text": text,
        "entities": entities,
        "tokenized_text": tokenized_text,
        "ner": ner,
    }


def document_examples(
    document: SourceDocument,
    example_id: str,
    label_map: Mapping[str, Optional[str]],
    level: str,
    log: IssueLog,
) -> List[Dict]:
    """One example for ``level="document"``, one per sentence for ``level="sentence"``."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    entities = _mapped_entities(document, label_map, log)
    where = document.where or document.document_id
    if level == "document":
        return [_example(example_id, document.document_id, document.text, entities, log, where)]
    spans, merged = sentence_spans(
        document.text, [(e["start"], e["end"]) for e in entities], document.sentences or (), document.passages or ()
    )
    if merged:
        log.add("sentence_boundary_merged", where, f"{merged} sentence boundaries inside mentions of {document.document_id} were not used")
    examples = []
    entity_index = 0
    for number, (left, right) in enumerate(spans):
        own = []
        while entity_index < len(entities) and entities[entity_index]["start"] < right:
            entity = entities[entity_index]
            own.append({**entity, "start": entity["start"] - left, "end": entity["end"] - left})
            entity_index += 1
        examples.append(_example(f"{example_id}-s{number}", document.document_id, document.text[left:right], own, log, where))
    if entity_index != len(entities):  # sentence_spans guarantees this; a failure is a bug, never a silent drop
        raise AssertionError(f"{document.document_id}: {len(entities) - entity_index} mentions fell outside all sentences")
    return examples
