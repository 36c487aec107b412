"""Annotation records (``synth annotate`` output) -> grounded GLiNER examples + a report.

Output, one object per line (read by the dataset builder's ``synthetic`` config and by
``synth distil``): ``{"id", "text", "entities": [{"start", "end", "label", "mention"}],
"tokenized_text", "ner": [[first_word, last_word, label], ...], "annotator": {...}}`` with
``text[start:end] == mention`` for every entity. Texts whose output has no parseable JSON are
left out (an empty entity list would teach the model that the text has no entities) and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from tqdm.auto import tqdm

from .grounding import GroundingConfig, ground_mentions
from .labels import LabelNormaliser
from .parsing import parse_llm_output
from ..atomic_files import atomic_writer
from ..io_records import InputError, iter_jsonl, write_json_atomic

TRUNCATED_POLICIES = ("keep", "drop")


@dataclass(frozen=True)
class GroundConfig:
    annotations: Path
    out: Path
    report: Optional[Path] = None  # default: <out>.report.json
    grounding: GroundingConfig = GroundingConfig()
    synonyms: Optional[Path] = None  # default: the packaged label_synonyms.yaml
    open_labels: bool = False  # keep labels the prompt did not ask for (default: drop and count them)
    truncated: str = "keep"  # texts whose output was cut (finish_reason "length"): "keep" the complete mentions or "drop" the text
    drop_empty: bool = False  # leave out (and count) texts with no grounded entity: for annotators whose silence means "not found", not "none there" (patterns)
    progress: bool = True

    def report_path(self) -> Path:
        return self.report or self.out.with_name(self.out.name + ".report.json")


def ground_file(config: GroundConfig) -> Dict:
    """Write the grounded examples and the report (both atomically); return the report."""
    if config.truncated not in TRUNCATED_POLICIES:
        raise ValueError(f"truncated must be one of {TRUNCATED_POLICIES}, got {config.truncated!r}")
    normaliser = LabelNormaliser.from_file(config.synonyms)
    texts: Counter = Counter()
    mentions: Counter = Counter()
    parse_status: Counter = Counter()
    label_distribution: Counter = Counter()
    label_mapping: Counter = Counter()
    seen_ids = set()
    with atomic_writer(config.out) as out:
        records = iter_jsonl(config.annotations, {"id": str, "text": str})
        for record in tqdm(records, desc=f"ground {config.annotations.name}", unit="text", disable=not config.progress):
            if record["id"] in seen_ids:
                raise InputError(f"{config.annotations}: id {record['id']!r} appears twice (merge shards with `synth merge`)")
            seen_ids.add(record["id"])
            texts["read"] += 1
            parsed = parse_llm_output(record.get("response"))
            parse_status[parsed.status] += 1
            mentions["malformed_items"] += parsed.malformed_items
            truncated = record.get("finish_reason") == "length"
            texts["truncated"] += truncated
            if parsed.status == "failed":
                texts["dropped_unparseable"] += 1
                continue
            if truncated and config.truncated == "drop":
                texts["dropped_truncated"] += 1
                continue
            allowed = None
            if not config.open_labels and record.get("labels"):
                allowed = {normaliser(label) for label in record["labels"]}
            result = ground_mentions(record["text"], parsed.mentions, normaliser, config.grounding, allowed)
            mentions.update(result.counts)
            if config.drop_empty and not result.entities:
                texts["dropped_empty"] += 1
                continue
            label_distribution.update(entity["label"] for entity in result.entities)
            label_mapping.update({f"{raw} -> {canonical}": n for (raw, canonical), n in result.labels_seen.items()})
            example = {
                "id": record["id"],
                "text": record["text"],
                "entities": result.entities,
                "tokenized_text": result.tokenized_text,
                "ner": result.ner,
                "annotator": {"model": record.get("model"), "prompt_version": record.get("prompt_version"), "labels": record.get("labels"),
                              "label_table": normaliser.version, "truncated": truncated},
            }
            out.write(json.dumps(example, ensure_ascii=False) + "\n")
            texts["written"] += 1
    proposed = mentions["proposed"]
    report = {
        "annotations": str(config.annotations),
        "output": str(config.out),
        "texts": dict(texts),
        "parse_status": dict(parse_status),
        "mentions": dict(mentions),
        "grounded_share": round(mentions["grounded"] / proposed, 4) if proposed else None,
        "label_distribution": dict(label_distribution.most_common()),
        "label_mapping": dict(label_mapping.most_common()),
        "config": {"occurrences": config.grounding.occurrences, "unaligned": config.grounding.unaligned,
                   "normalised_match": config.grounding.normalised_match, "open_labels": config.open_labels,
                   "truncated": config.truncated, "drop_empty": config.drop_empty, "label_table": normaliser.version},
    }
    write_json_atomic(config.report_path(), report)
    return report
