"""``datasets`` builder: one config per corpus (plus ``synthetic``), official splits, document or sentence examples.

datasets 5 does not run loading scripts from the Hub, so this builder runs locally (``gliner-biomed
datasets build``) and the Hub gets its Parquet output plus a card; it can also be used directly::

    builder = BiomedNERBuilder(config_name="ncbi-disease", level="sentence", cache_dir=...)
    builder.download_and_prepare()
    dataset = builder.as_dataset()
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Dict, List, Mapping, Optional, Sequence

import datasets

from .corpora import CORPORA
from .pipeline import SYNTHETIC, BuildOptions, CorpusBuild, build_corpus, corpus_splits

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "document_id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "entities": datasets.List(
            {
                "start": datasets.Value("int32"),
                "end": datasets.Value("int32"),
                "label": datasets.Value("string"),
                "mention": datasets.Value("string"),
            }
        ),
        "tokenized_text": datasets.List(datasets.Value("string")),
        # GLiNER's [start_word, end_word_inclusive, label] triples mix ints and a string, which an
        # Arrow list cannot hold: stored as typed structs (ner_triples turns them back).
        "ner": datasets.List(
            {
                "start": datasets.Value("int32"),
                "end": datasets.Value("int32"),  # inclusive, as in GLiNER's triples
                "label": datasets.Value("string"),
            }
        ),
    }
)


def ner_structs(triples: Sequence[Sequence]) -> List[Dict]:
    """GLiNER's ``[start_word, end_word_inclusive, label]`` triples as the ``ner`` column stores them."""
    return [{"start": start, "end": end, "label": label} for start, end, label in triples]


def ner_triples(structs: Sequence[Mapping]) -> List[List]:
    """The ``ner`` column of a loaded dataset row back as GLiNER's triples."""
    return [[span["start"], span["end"], span["label"]] for span in structs]


@dataclass
class BiomedNERConfig(datasets.BuilderConfig):
    """A corpus plus the :class:`BuildOptions` fields (all overridable as builder kwargs)."""

    level: str = "document"
    lenient: bool = False
    repair_offsets: bool = True
    heldout_validation: float = 0.0
    seed: int = 13
    corpora_dir: Optional[str] = None
    synthetic_source: Optional[str] = None
    label_map_override: Optional[Dict[str, Optional[str]]] = None

    @property
    def build_options(self) -> BuildOptions:
        names = {f.name for f in fields(BuildOptions)}
        return BuildOptions(**{name: getattr(self, name) for name in names})


class BiomedNERBuilder(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = BiomedNERConfig
    BUILDER_CONFIGS = [
        BiomedNERConfig(name=spec.name, version=datasets.Version("1.0.0"), description=spec.description)
        for spec in CORPORA.values()
    ] + [
        BiomedNERConfig(
            name=SYNTHETIC, version=datasets.Version("1.0.0"),
            description="Synthetic annotated texts from the synthetic-data pipeline (span JSONL); pass synthetic_source=...",
        )
    ]
    DEFAULT_CONFIG_NAME = "ncbi-disease"

    _corpus_build: Optional[CorpusBuild] = None

    @property
    def corpus_build(self) -> CorpusBuild:
        """The examples and the validation report of every split (built once per builder)."""
        if self._corpus_build is None:
            self._corpus_build = build_corpus(self.config.name, self.config.build_options, self.config.label_map_override)
        return self._corpus_build

    def _info(self) -> datasets.DatasetInfo:
        spec = CORPORA.get(self.config.name)
        return datasets.DatasetInfo(
            description=self.config.description or "",
            features=FEATURES,
            citation=spec.bibtex if spec else "",
            homepage=spec.homepage if spec else "",
            license=spec.license if spec else "",
        )

    def _split_generators(self, dl_manager):
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"split": split})
            for split in corpus_splits(self.config.name, self.config.build_options)
            if self.corpus_build.splits[split].examples  # datasets cannot read back an empty split
        ]

    def _generate_examples(self, split: str):
        for index, example in enumerate(self.corpus_build.splits[split].examples):
            yield index, {**example, "ner": ner_structs(example["ner"])}
