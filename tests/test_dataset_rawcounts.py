"""Mention counts computed straight from the raw corpus files with a few lines of plain code,
independently of the readers; the builder tests compare their output against these."""

from collections import Counter
from pathlib import Path

import pytest

# corpus -> split -> (file, first document, stop document); mirrors the corpora README.
PUBTATOR_SPLITS = {
    "ncbi-disease": {"train": ("NCBIdisease_Train", 0, None), "validation": ("NCBIdisease_Dev", 0, None), "test": ("NCBIdisease_Test", 0, None)},
    "bc5cdr": {"train": ("BC5CDR_TrainDev", 0, 500), "validation": ("BC5CDR_TrainDev", 500, 1000), "test": ("BC5CDR_Test", 0, None)},
    "biored": {"train": ("BioRED_TrainDev", 0, 400), "validation": ("BioRED_TrainDev", 400, 500), "test": ("BioRED_Test", 0, None)},
    "nlm-gene": {"train": ("NLMgene_Train", 0, None), "test": ("NLMgene_Test", 0, None)},
    "gnormplus": {"train": ("GNormPlus_Train", 0, None), "test": ("GNormPlus_Test", 0, None)},
    "tmvar3": {"train": ("tmVar3_Train", 0, None), "test": ("tmVar3_Test", 0, None)},
}
IOB_FOLDERS = {
    "bc2gm": "BC2GM-IOB", "anatem": "AnatEM-IOB", "craft": "CRAFT-IOB", "bionlp13cg": "BioNLP13CG-IOB",
    "bionlp13pc": "BioNLP13PC-IOB", "bionlp11id": "BioNLP11ID-IOB", "bionlp09": "BioNLP09-IOB",
}
IOB_FILES = {"train": "train", "validation": "devel", "test": "test"}


def raw_counts(corpora_dir: Path, corpus: str, split: str):
    """(documents, Counter of mentions per source type) of one split."""
    if corpus in PUBTATOR_SPLITS:
        file_name, first, stop = PUBTATOR_SPLITS[corpus][split]
        documents, counts = -1, Counter()
        for line in (corpora_dir / "pubtator" / f"{file_name}.PubTator").read_text(encoding="utf-8").splitlines():
            if "|t|" in line[:30]:
                documents += 1
            fields = line.split("\t")
            if len(fields) >= 5 and fields[1].isdigit() and first <= documents < (stop if stop is not None else 10**9):
                counts[fields[4]] += 1
        return (stop if stop is not None else documents + 1) - first, counts
    lines = (corpora_dir / "iob" / IOB_FOLDERS[corpus] / f"{IOB_FILES[split]}.tsv").read_text(encoding="utf-8").splitlines()
    counts = Counter(line.split("\t")[1][2:] for line in lines if "\tB-" in line)
    sentences = sum(1 for before, line in zip([""] + lines, lines) if line.strip() and not before.strip())
    return sentences, counts


@pytest.mark.corpus("ncbi-disease", "bc5cdr", "biored", "gnormplus")
def test_raw_counts_match_the_corpora_readme(corpora_dir):
    """The published sizes the README states (593/100/100 NCBI documents, 500 BC5CDR train...)."""
    assert raw_counts(corpora_dir, "ncbi-disease", "train")[0] == 593
    assert raw_counts(corpora_dir, "bc5cdr", "validation")[0] == 500
    assert raw_counts(corpora_dir, "biored", "validation")[0] == 100
    assert raw_counts(corpora_dir, "gnormplus", "test")[0] == 262
    assert sum(raw_counts(corpora_dir, "bc5cdr", split)[1]["Chemical"] for split in ("train", "validation")) == 10548
