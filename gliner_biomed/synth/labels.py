"""Label normalisation: LLMs return "Genes", "DISEASE", "gene_or_gene_product", "drug" for the
labels a prompt asked for; GLiNER needs one spelling per type. Labels are reduced to a normal
form (lower case, separators as spaces, last word singular) and then mapped through the
synonyms table (a data file, versioned with the prompts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Union

import yaml
from ..errors import BadInputError

DEFAULT_SYNONYMS = "label_synonyms.yaml"

# Words whose trailing "s" is not a plural (after lower-casing); checked before the rules below.
_INVARIANT = {"species", "series", "bacillus", "virus", "status", "diabetes", "mellitus", "analysis", "sepsis",
              "syndrome", "mass", "process", "class", "ss", "rna", "dna", "its", "axis", "carcinogenesis"}
_IRREGULAR = {"bacteria": "bacterium", "viruses": "virus", "analyses": "analysis", "diagnoses": "diagnosis",
              "mice": "mouse", "children": "child", "people": "person", "taxa": "taxon", "phenomena": "phenomenon"}


def singular(word: str) -> str:
    """A cautious English singular for the last word of a label ("diseases" -> "disease",
    "species" stays): labels are short nouns, so a handful of rules suffices."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _INVARIANT or len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "zes", "sses")):
        return word[:-2]
    return word[:-1]


def normal_form(label: str) -> str:
    """Lower case, ``_``/``-``/runs of spaces as one space, CamelCase split, last word singular."""
    label = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label.strip())  # "CellLine" -> "Cell Line"
    words = re.sub(r"[\s_\-]+", " ", label.lower()).strip().split(" ")
    if not words or words == [""]:
        return ""
    words[-1] = singular(words[-1])
    return " ".join(words)


class LabelTableError(BadInputError):
    """A label synonyms table that cannot be used, with the file at fault in the message."""


@dataclass
class LabelNormaliser:
    """Maps raw LLM labels to canonical labels (``None`` for an empty label)."""

    synonyms: Mapping[str, Iterable[str]]
    version: str = "inline"
    _lookup: Dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lookup = {}
        for canonical, variants in self.synonyms.items():
            for variant in [canonical, *variants]:
                key = normal_form(variant)
                previous = self._lookup.get(key)
                if previous is not None and previous != canonical:
                    raise LabelTableError(f"label synonym {variant!r} maps to both {previous!r} and {canonical!r}")
                self._lookup[key] = canonical

    def __call__(self, label: str) -> Optional[str]:
        key = normal_form(label)
        return self._lookup.get(key, key) if key else None

    @classmethod
    def from_file(cls, path: Union[str, Path, None] = None) -> "LabelNormaliser":
        """The table in ``path`` (default: the packaged ``label_synonyms.yaml``)."""
        if path is None:
            text = resources.files("gliner_biomed.synth").joinpath("prompts", DEFAULT_SYNONYMS).read_text(encoding="utf-8")
            where = f"gliner_biomed/synth/prompts/{DEFAULT_SYNONYMS}"
        else:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        data = yaml.safe_load(text)
        if not isinstance(data, dict) or not isinstance(data.get("synonyms"), dict):
            raise LabelTableError(f"{where}: want a mapping with a 'synonyms' mapping (canonical label -> list of synonyms)")
        for canonical, variants in data["synonyms"].items():
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                raise LabelTableError(f"{where}: synonyms of {canonical!r} must be a list of strings")
        try:
            return cls(data["synonyms"], version=str(data.get("version", where)))
        except LabelTableError as error:
            raise LabelTableError(f"{where}: {error}") from None
