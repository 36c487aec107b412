"""How far two sets of predictions are apart: entity-level precision/recall/F1 of ``predicted``
against ``reference`` (exact start, end and label), e.g. int8 against fp32 or a model against
gold annotations."""

from __future__ import annotations

from typing import Dict, List, Sequence


def entity_agreement(predicted: Sequence[List[dict]], reference: Sequence[List[dict]]) -> Dict[str, float]:
    if len(predicted) != len(reference):
        raise ValueError(f"{len(predicted)} predicted documents but {len(reference)} reference documents")
    true_positives = predicted_total = reference_total = identical_documents = 0
    for mine, theirs in zip(predicted, reference):
        mine_keys = {(e["start"], e["end"], e["label"]) for e in mine}
        their_keys = {(e["start"], e["end"], e["label"]) for e in theirs}
        true_positives += len(mine_keys & their_keys)
        predicted_total += len(mine_keys)
        reference_total += len(their_keys)
        identical_documents += mine_keys == their_keys
    precision = true_positives / predicted_total if predicted_total else 1.0
    recall = true_positives / reference_total if reference_total else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted_entities": predicted_total,
        "reference_entities": reference_total,
        "identical_documents": identical_documents,
        "documents": len(reference),
    }
