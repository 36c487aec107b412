"""Evaluation suites as data: YAML files naming, per dataset, a corpus, its test split, the split a
threshold may be tuned on, and optionally a label-map override and label prompts.

A suite file (gliner_biomed/suites/NAME.yaml, or any path)::

    name: zero-shot
    description: ...
    datasets:
      - corpus: ncbi-disease          # a corpus of gliner_biomed.dataset_builders
        split: test                   # the split that is scored
        validation_split: validation  # where --sweep may choose a threshold (never test)
        name: ncbi-disease            # row name in reports (default: the corpus)
        level: document               # document | sentence
        label_map: {Modifier: null}   # merged over the corpus's label map
        label_prompts: {disease: "disease or syndrome"}   # what the model reads for a label
        max_documents: 50             # seeded sub-sample (the CLI's --max-documents overrides)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

import yaml
from ..errors import BadInputError

SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"
LEVELS = ("document", "sentence")


class SuiteError(BadInputError):
    """A suite file that cannot be used; the message names the file and the dataset."""


@dataclass(frozen=True)
class SuiteDataset:
    corpus: str
    split: str = "test"
    name: str = ""
    validation_split: Optional[str] = None
    level: str = "document"
    label_map: Optional[Dict[str, Optional[str]]] = None
    label_prompts: Optional[Dict[str, str]] = None
    max_documents: Optional[int] = None

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.corpus)

    def labels(self) -> List[str]:
        """The natural-language labels the model is asked for: every non-null label of the corpus's
        label map (with the suite's override merged over it), in map order."""
        from gliner_biomed.dataset_builders import load_label_map

        label_map = load_label_map(self.corpus, self.label_map)
        return list(dict.fromkeys(label for label in label_map.values() if label is not None))

    def model_labels(self) -> Union[List[str], Dict[str, str]]:
        """What the predictor receives: the labels, or ``{label: prompt}`` where prompts are given
        (predictions still carry the label)."""
        labels = self.labels()
        if not self.label_prompts:
            return labels
        return {label: self.label_prompts.get(label, label) for label in labels}


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    datasets: Tuple[SuiteDataset, ...]
    source: str = ""

    def with_validation(self) -> List[SuiteDataset]:
        return [dataset for dataset in self.datasets if dataset.validation_split]


_DATASET_KEYS = {f.name for f in fields(SuiteDataset)}


def list_suites() -> List[str]:
    """Names of the suites shipped with the package."""
    return sorted(path.stem for path in SUITES_DIR.glob("*.yaml"))


def suite_path(name_or_path: Union[str, Path]) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise SuiteError(f"suite file {path} not found")
        return path
    shipped = SUITES_DIR / f"{name_or_path}.yaml"
    if not shipped.is_file():
        raise SuiteError(f"unknown suite {str(name_or_path)!r}; shipped suites: {', '.join(list_suites())} (or give a YAML file)")
    return shipped


def _check_dataset(raw: Mapping, where: str, known_corpora: List[str]) -> SuiteDataset:
    from gliner_biomed.dataset_builders.pipeline import corpus_splits

    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: a dataset is a mapping with at least 'corpus', got {raw!r}")
    unknown = set(raw) - _DATASET_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_DATASET_KEYS)}")
    if "corpus" not in raw:
        raise SuiteError(f"{where}: missing 'corpus'")
    try:
        dataset = SuiteDataset(**raw)
    except TypeError as error:
        raise SuiteError(f"{where}: {error}") from error
    if dataset.corpus not in known_corpora:
        raise SuiteError(f"{where}: unknown corpus {dataset.corpus!r}; known: {', '.join(known_corpora)}")
    splits = corpus_splits(dataset.corpus)
    for key in ("split", "validation_split"):
        value = getattr(dataset, key)
        if value is not None and value not in splits:
            raise SuiteError(f"{where}: {key} {value!r} does not exist for {dataset.corpus} (splits: {', '.join(splits)})")
    if dataset.validation_split in ("test", dataset.split):
        raise SuiteError(
            f"{where}: validation_split {dataset.validation_split!r} would tune the threshold on the scored "
            "data; a threshold is chosen on validation data only"
        )
    if dataset.level not in LEVELS:
        raise SuiteError(f"{where}: level must be one of {LEVELS}, got {dataset.level!r}")
    if dataset.max_documents is not None and (not isinstance(dataset.max_documents, int) or dataset.max_documents < 1):
        raise SuiteError(f"{where}: max_documents must be a positive integer, got {dataset.max_documents!r}")
    for key in ("label_map", "label_prompts"):
        value = getattr(dataset, key)
        if value is not None and not isinstance(value, Mapping):
            raise SuiteError(f"{where}: {key} must be a mapping, got {value!r}")
    try:
        labels = dataset.labels()
    except (KeyError, ValueError) as error:
        raise SuiteError(f"{where}: {error}") from error
    if not labels:
        raise SuiteError(f"{where}: the label map of {dataset.corpus} leaves no label to predict")
    stray = set(dataset.label_prompts or {}) - set(labels)
    if stray:
        raise SuiteError(f"{where}: label_prompts for labels that are not in the label map: {sorted(stray)} (labels: {labels})")
    return dataset


def phrases_read(suite: "Suite") -> List[str]:
    """Every phrase a model reads when it is scored on ``suite`` (each prompt, or the label where
    the dataset gives no prompt): what training must not show to keep the suite unseen."""
    phrases: List[str] = []
    for dataset in suite.datasets:
        read = dataset.model_labels()
        phrases += list(read.values()) if isinstance(read, dict) else read
    return list(dict.fromkeys(phrases))


def load_suite(name_or_path: Union[str, Path]) -> Suite:
    """A shipped suite by name (``zero-shot``) or a suite YAML file, checked against the corpora."""
    from gliner_biomed.dataset_builders import list_corpora

    path = suite_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SuiteError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(data, Mapping) or not isinstance(data.get("datasets"), list) or not data["datasets"]:
        raise SuiteError(f"{path}: a suite is a mapping with a non-empty 'datasets' list")
    unknown = set(data) - {"name", "description", "datasets"}
    if unknown:
        raise SuiteError(f"{path}: unknown top-level keys {sorted(unknown)}; allowed: name, description, datasets")
    known = list_corpora()
    datasets = tuple(_check_dataset(raw, f"{path}: datasets[{i}]", known) for i, raw in enumerate(data["datasets"]))
    names = [dataset.name for dataset in datasets]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise SuiteError(f"{path}: dataset names must be unique (set 'name'), repeated: {duplicated}")
    return Suite(str(data.get("name") or path.stem), str(data.get("description") or ""), datasets, str(path))
