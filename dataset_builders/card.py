"""Dataset card (README.md with YAML metadata) for an exported corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from datasets import DatasetInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from .corpora import CORPORA
from .pipeline import CorpusBuild
from .report import ISSUE_KINDS


def _table(header: Sequence[str], rows: List[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# The Hub's size_categories buckets: (upper bound on the number of examples, tag).
SIZE_CATEGORIES = [(10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"), (10**7, "1M<n<10M"),
                   (10**8, "10M<n<100M"), (10**9, "100M<n<1B")]


def size_category(examples: int) -> str:
    return next((tag for bound, tag in SIZE_CATEGORIES if examples < bound), "n>1B")


def render_card(builds: Dict[str, CorpusBuild], data_files: Dict[str, Dict[str, str]], default_level: str,
                infos: Optional[Mapping[str, DatasetInfo]] = None) -> DatasetCard:
    """``builds``, ``data_files`` and ``infos`` (the builders' DatasetInfo, for the card's
    ``dataset_info``) are keyed by level (config name); ``data_files`` maps split -> glob."""
    first = builds[default_level]
    name = first.name
    spec = CORPORA.get(name)
    configs = [
        {
            "config_name": level,
            "data_files": [{"split": split, "path": pattern} for split, pattern in files.items()],
            **({"default": True} if level == default_level else {}),
        }
        for level, files in data_files.items()
    ]
    examples = sum(len(data.examples) for data in first.splits.values())
    card_data = DatasetCardData(
        pretty_name=spec.pretty_name if spec else "GLiNER-biomed synthetic NER corpus",
        # A synthetic corpus's terms are those of its generator and source texts: not known here.
        license=spec.license if spec else "unknown",
        license_name=spec.license_name if spec and spec.license_name else None,
        license_link=spec.license_link if spec and spec.license_link else None,
        language=["en"],
        task_categories=["token-classification"],
        task_ids=["named-entity-recognition"],
        size_categories=[size_category(examples)],
        tags=["biomedical", "ner", "gliner"],
        configs=configs,
    )
    DatasetInfosDict(infos or {}).to_dataset_card_data(card_data)
    options = first.options
    sections = [f"# {card_data.pretty_name}\n"]
    sections.append(spec.description if spec else "Synthetic annotated texts produced by the GLiNER-biomed synthetic-data pipeline.")
    sections.append(
        "\n## Source\n\n"
        + (f"{spec.source}.\n\nCitation: {spec.citation} (BibTeX below)\n" if spec else f"Span JSONL from `{Path(options.synthetic_source).name}`.\n")
        + (f"\nHomepage: {spec.homepage}\n" if spec and spec.homepage else "")
    )
    sections.append(
        "\n## Schema\n\nEvery example: `id`, `document_id`, `text` (original text), `entities` "
        "(`{start, end, label, mention}` with character offsets, end exclusive, `text[start:end] == mention`), "
        "and the GLiNER training view: `tokenized_text` (words of the models' splitter, regex "
        "`\\w+(?:[-_]\\w+)*|\\S`) and `ner` (`{start, end, label}` word indices, end inclusive; GLiNER's "
        "`[start_word, end_word_inclusive, label]` triples as Arrow structs). "
        "A mention whose boundary falls inside a word of that splitter stays in `entities` but cannot be "
        "expressed in `ner` (counted as `not_word_aligned` below).\n\n"
        + "Configs: " + ", ".join(f"`{level}`" + (" (default)" if level == default_level else "") for level in builds)
        + ". Sentence-level examples never cut a mention.\n"
    )
    notes = (spec.split_note if spec else "Splits as found in the source.")
    split_notes = [f"{split}: {data.note}" for split, data in first.splits.items() if data.note]
    sections.append("\n## Splits\n\n" + notes + ("\n\n" + "\n".join(f"- {n}" for n in split_notes) if split_notes else "") + "\n")
    sections.append(
        "\n## Label map\n\nSource type -> natural-language label (the file `label_map.yaml`; override with "
        "`gliner-biomed datasets build ... --label-map FILE`; a null label leaves a type out).\n\n"
        + _table(["source type", "label"], [[f"`{t}`", label if label is not None else "*(left out)*"] for t, label in first.label_map.items()])
        + "\n"
    )
    for level, build in builds.items():
        splits = list(build.splits)
        rows = [[split, d.stats.documents, d.stats.examples, sum(d.stats.mentions_by_label.values()), d.stats.ner_spans] for split, d in build.splits.items()]
        sections.append(f"\n## Counts ({level} level)\n\n" + _table(["split", "documents", "examples", "mentions", "`ner` spans"], rows) + "\n")
        labels = sorted({label for d in build.splits.values() for label in d.stats.mentions_by_label})
        sections.append("\nMentions per label:\n\n" + _table(["label"] + splits, [[label] + [build.splits[s].stats.mentions_by_label.get(label, 0) for s in splits] for label in labels]) + "\n")
    types = sorted({t for d in first.splits.values() for t in d.stats.mentions_by_type})
    splits = list(first.splits)
    sections.append("\nMentions per source type:\n\n" + _table(["source type"] + splits, [[f"`{t}`"] + [first.splits[s].stats.mentions_by_type.get(t, 0) for s in splits] for t in types]) + "\n")
    kinds = sorted({kind for d in first.splits.values() for kind in d.log.counts()})
    sections.append(
        "\n## Validation report\n\nBuilt with "
        + f"`lenient={options.lenient}`, `repair_offsets={options.repair_offsets}`. "
        + "Full details (with examples of each issue) in `validation_report.json`.\n\n"
        + (_table(["issue", "meaning"] + splits, [[kind, ISSUE_KINDS[kind]] + [first.splits[s].log.counts().get(kind, 0) for s in splits] for kind in kinds]) if kinds else "No issues found.")
        + "\n"
    )
    sections.append(
        "\n## Loading\n\n```python\nfrom datasets import load_dataset\n\nds = load_dataset(\"PATH_OR_REPO\")  # no remote code\n"
        "# GLiNER's training format: [start_word, end_word_inclusive, label] triples\n"
        "gliner_rows = [{\"tokenized_text\": row[\"tokenized_text\"], \"ner\": [[s[\"start\"], s[\"end\"], s[\"label\"]] for s in row[\"ner\"]]}\n"
        "               for row in ds[\"train\"]]\n```\n"
    )
    if spec and spec.bibtex:
        sections.append(f"\n## Citation\n\n```bibtex\n{spec.bibtex}\n```\n")
    return DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n" + "\n".join(sections))
