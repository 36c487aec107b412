"""The open-type probe: a few hand-written texts with label sets a new user would type, and the
entities a model must find (``open_type_probe.yaml``). Scores each expectation as met or not and
keeps every prediction, so that a model's open-type behaviour can be read at a glance and tested."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import yaml

PROBE_FILE = Path(__file__).resolve().parent / "open_type_probe.yaml"
# The same cases with names that no training text contains: kinds, not memorised names.
RARE_NAMES_PROBE_FILE = Path(__file__).resolve().parent / "open_type_probe_rare_names.yaml"


@dataclass(frozen=True)
class Expectation:
    mentions: Tuple[str, ...]  # any of these exact texts
    label: str

    def met_by(self, entities: List[Dict]) -> bool:
        return any(entity["label"] == self.label and entity["text"] in self.mentions for entity in entities)


@dataclass(frozen=True)
class ProbeCase:
    name: str
    text: str
    labels: Tuple[str, ...]
    expect: Tuple[Expectation, ...]


@dataclass
class ProbeResult:
    case: ProbeCase
    predictions: List[Dict]  # {start, end, text, label, score}
    met: List[bool]  # one per expectation, in order

    @property
    def hits(self) -> int:
        return sum(self.met)


def load_probe(path: Union[str, Path, None] = None) -> Tuple[float, List[ProbeCase]]:
    """(threshold, cases) of a probe file; bad entries are refused with the file and case named."""
    path = Path(path) if path is not None else PROBE_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data["cases"]:
        raise ValueError(f"{path}: a probe file is a mapping with a non-empty 'cases' list")
    cases = []
    for index, raw in enumerate(data["cases"]):
        where = f"{path}: cases[{index}] ({raw.get('name', '?') if isinstance(raw, dict) else raw!r})"
        if not isinstance(raw, dict) or not {"name", "text", "labels", "expect"} <= set(raw):
            raise ValueError(f"{where}: a case needs name, text, labels and expect")
        expect = []
        for item in raw["expect"]:
            mentions = tuple(item.get("mention") or ())
            if item.get("label") not in raw["labels"]:
                raise ValueError(f"{where}: expected label {item.get('label')!r} is not one of the case's labels {raw['labels']}")
            missing = [mention for mention in mentions if mention not in raw["text"]]
            if not mentions or missing:
                raise ValueError(f"{where}: expected mentions {list(mentions)} must be non-empty and occur in the text (missing: {missing})")
            expect.append(Expectation(mentions, item["label"]))
        cases.append(ProbeCase(raw["name"], raw["text"], tuple(raw["labels"]), tuple(expect)))
    return float(data.get("threshold", 0.5)), cases


def run_probe(model, path: Union[str, Path, None] = None, threshold: Optional[float] = None) -> List[ProbeResult]:
    """Every case of the probe file predicted with ``model.predict_entities`` and scored."""
    file_threshold, cases = load_probe(path)
    threshold = file_threshold if threshold is None else threshold
    results = []
    for case in cases:
        predictions = model.predict_entities(case.text, list(case.labels), threshold=threshold)
        results.append(ProbeResult(case, predictions, [expectation.met_by(predictions) for expectation in case.expect]))
    return results


def probe_table(results: List[ProbeResult]) -> str:
    """Markdown: case, labels, what was found, which expectations were met."""
    lines = ["| case | labels | found | expectations met |", "| --- | --- | --- | --- |"]
    for result in results:
        found = ", ".join(f"{e['text']} ({e['label']}, {e['score']:.2f})" for e in result.predictions) or "nothing"
        expected = ", ".join(f"{'yes' if met else 'no'}: {x.mentions[0]} as {x.label}" for x, met in zip(result.case.expect, result.met))
        lines.append(f"| {result.case.name} | {', '.join(result.case.labels)} | {found} | {expected} |")
    return "\n".join(lines)
