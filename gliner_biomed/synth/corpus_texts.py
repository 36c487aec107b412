"""The texts of annotated corpora as `synth annotate` input: one JSONL object per document
(``{"id": "corpus:split:document_id", "text", "corpus", "split", "document_id"}``), the text
exactly as the dataset builders give it, so that an annotation of it can be laid over the
corpus's gold mentions (``benchmarks/synth_patterns_quality.py``) by id alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from tqdm.auto import tqdm

from ..atomic_files import atomic_writer
from ..io_records import InputError

SEPARATOR = ":"


def parse_source(value: str) -> Tuple[str, str]:
    """``"bc5cdr"`` -> (bc5cdr, train); ``"bc5cdr:validation"`` -> (bc5cdr, validation). Test
    splits are refused: text mined for training must never come from an evaluation set."""
    corpus, _, split = value.partition(SEPARATOR)
    split = split or "train"
    if split == "test":
        raise InputError(f"{value!r}: test splits are for evaluation only and never become synthetic training text")
    return corpus, split


def text_id(corpus: str, split: str, document_id: str) -> str:
    return SEPARATOR.join((corpus, split, document_id))


def split_text_id(record_id: str) -> Tuple[str, str, str]:
    """(corpus, split, document_id) of an id made by :func:`text_id` (document ids may hold ':')."""
    parts = record_id.split(SEPARATOR, 2)
    if len(parts) != 3:
        raise InputError(f"id {record_id!r} is not corpus:split:document_id (made by `synth corpus-texts`)")
    return parts[0], parts[1], parts[2]


def iter_corpus_texts(sources: Sequence[str], corpora_dir: Optional[Path] = None) -> Iterator[Dict[str, str]]:
    from ..dataset_builders import load_corpus

    options = {} if corpora_dir is None else {"corpora_dir": str(corpora_dir)}
    for source in sources:
        corpus, split = parse_source(source)
        for example in load_corpus(corpus, split, level="document", **options):
            yield {"id": text_id(corpus, split, example["document_id"]), "text": example["text"], "corpus": corpus,
                   "split": split, "document_id": example["document_id"]}


def write_corpus_texts(sources: Sequence[str], out: Path, corpora_dir: Optional[Path] = None, progress: bool = True) -> Dict[str, int]:
    """Write the texts of ``sources`` to ``out`` (atomically); return texts per source corpus.
    A document id seen twice in one split (NCBI-disease train has one) is written once."""
    counts: Dict[str, int] = {}
    seen = set()
    duplicates: List[str] = []
    for source in sources:
        parse_source(source)  # refuse a test split before anything is read
    with atomic_writer(out) as handle:
        for record in tqdm(iter_corpus_texts(sources, corpora_dir), desc=f"texts -> {out.name}", unit="text", disable=not progress):
            if record["id"] in seen:
                duplicates.append(record["id"])
                continue
            seen.add(record["id"])
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            counts[record["corpus"]] = counts.get(record["corpus"], 0) + 1
    if duplicates:
        counts["duplicate_ids_skipped"] = len(duplicates)
    return counts
