"""The corpora: where each split's documents come from and what they are (raw files: see sources.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .readers import ReadOptions, read_conll, read_pubtator
from .records import SourceDocument
from .report import IssueLog
from .sources import fetch_hint, resolve_corpus_dir

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitSource:
    """A split: a file, optionally only documents ``[first, stop)`` of it (TrainDev files)."""

    file: str
    first: int = 0
    stop: Optional[int] = None
    expected_documents: Optional[int] = None


@dataclass(frozen=True)
class CorpusSpec:
    name: str
    pretty_name: str
    format: str  # "pubtator" | "conll"
    splits: Dict[str, SplitSource]
    license: str
    source: str
    citation: str
    description: str
    split_note: str
    homepage: str = ""


_AIONER = "PubTator file as redistributed in the AIONER repository of NCBI (https://github.com/ncbi/AIONER)"
_MTL = "IOB file of the MTL-Bioinformatics-2016 repository (https://github.com/cambridgeltl/MTL-Bioinformatics-2016), CC BY 4.0"
_NO_VALIDATION = (
    "The corpus is published with train and test only. Default: no validation split (train is the "
    "complete official train set, so results stay comparable with the literature). A seeded held-out "
    "slice of train can be requested with --heldout-validation FRACTION; the fraction and seed are then recorded here."
)
_CONLL_NOTE = (
    "Official train/devel/test files; devel is the validation split. The files carry no document "
    "boundaries or original offsets: each sentence is one document (tokens joined with single spaces), "
    "so document- and sentence-level examples coincide."
)


def _pubtator(name, pretty, splits, license, source, citation, description, note, homepage=""):
    return CorpusSpec(name, pretty, "pubtator", splits, license, source, citation, description, note, homepage)


def _conll(name, pretty, folder, source_citation, description, homepage=""):
    splits = {split: SplitSource(f"iob/{folder}/{file}.tsv") for split, file in (("train", "train"), ("validation", "devel"), ("test", "test"))}
    return CorpusSpec(name, pretty, "conll", splits, "cc-by-4.0", _MTL, source_citation, description, _CONLL_NOTE, homepage)


CORPORA: Dict[str, CorpusSpec] = {spec.name: spec for spec in [
    _pubtator(
        "ncbi-disease", "NCBI-disease",
        {"train": SplitSource("pubtator/NCBIdisease_Train.PubTator", expected_documents=593),
         "validation": SplitSource("pubtator/NCBIdisease_Dev.PubTator", expected_documents=100),
         "test": SplitSource("pubtator/NCBIdisease_Test.PubTator", expected_documents=100)},
        "other", "Public NCBI release of the NCBI disease corpus (public domain, US government work)",
        "Dogan RI, Leaman R, Lu Z. NCBI disease corpus: a resource for disease name recognition and concept normalization. J Biomed Inform 2014.",
        "PubMed abstracts annotated with disease mentions (four mention classes).",
        "Official train/dev/test splits (593/100/100 documents). PMID 8528200 appears twice in train "
        "with identical text and annotations; both copies are kept as published (the second has id 8528200#2) "
        "and flagged in the validation report.",
        "https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/",
    ),
    _pubtator(
        "bc5cdr", "BioCreative V CDR",
        {"train": SplitSource("pubtator/BC5CDR_TrainDev.PubTator", 0, 500, 500),
         "validation": SplitSource("pubtator/BC5CDR_TrainDev.PubTator", 500, 1000, 500),
         "test": SplitSource("pubtator/BC5CDR_Test.PubTator", expected_documents=500)},
        "other", _AIONER + "; BioCreative research use",
        "Li J et al. BioCreative V CDR task corpus: a resource for chemical disease relation extraction. Database 2016.",
        "PubMed abstracts annotated with chemical and disease mentions.",
        "TrainDev holds the official train set (first 500 documents) then the official development set "
        "(next 500): train = documents 1-500, validation = 501-1000; test = the official test set (500).",
    ),
    _pubtator(
        "biored", "BioRED",
        {"train": SplitSource("pubtator/BioRED_TrainDev.PubTator", 0, 400, 400),
         "validation": SplitSource("pubtator/BioRED_TrainDev.PubTator", 400, 500, 100),
         "test": SplitSource("pubtator/BioRED_Test.PubTator", expected_documents=100)},
        "other", _AIONER + "; research use",
        "Luo L et al. BioRED: a rich biomedical relation extraction dataset. Briefings in Bioinformatics 2022.",
        "PubMed abstracts annotated with genes, diseases, chemicals, species, variants and cell lines.",
        "TrainDev has 500 documents, presumably the official train (400) then dev (100); the order is not "
        "verified upstream, so validation = the last 100 documents of TrainDev and train = the first 400; "
        "test = the official test set (100).",
    ),
    _pubtator(
        "nlm-gene", "NLM-Gene",
        {"train": SplitSource("pubtator/NLMgene_Train.PubTator", expected_documents=450),
         "test": SplitSource("pubtator/NLMgene_Test.PubTator", expected_documents=100)},
        "other", _AIONER + "; research use",
        "Islamaj R et al. NLM-Gene, a richly annotated gold standard dataset for gene entities. J Biomed Inform 2021.",
        "PubMed abstracts annotated with gene mentions (plus gene families, cells, domains/motifs, chromosome locations).",
        _NO_VALIDATION,
    ),
    _pubtator(
        "gnormplus", "GNormPlus",
        {"train": SplitSource("pubtator/GNormPlus_Train.PubTator", expected_documents=432),
         "test": SplitSource("pubtator/GNormPlus_Test.PubTator", expected_documents=262)},
        "other", _AIONER + "; BioCreative research use",
        "Wei CH, Kao HY, Lu Z. GNormPlus: an integrative approach for tagging genes, gene families, and protein domains. BioMed Res Int 2015.",
        "PubMed abstracts (BioCreative II GN and citation corpus) annotated with genes, gene families and protein domains.",
        _NO_VALIDATION,
    ),
    _pubtator(
        "tmvar3", "tmVar 3.0",
        {"train": SplitSource("pubtator/tmVar3_Train.PubTator", expected_documents=342),
         "test": SplitSource("pubtator/tmVar3_Test.PubTator", expected_documents=158)},
        "other", _AIONER + "; research use",
        "Wei CH et al. tmVar 3.0: an improved variant concept recognition and normalization tool. Bioinformatics 2022.",
        "PubMed abstracts annotated with sequence variants (mutation classes), genes, diseases, species and cell lines.",
        _NO_VALIDATION,
    ),
    _conll("bc2gm", "BioCreative II Gene Mention", "BC2GM-IOB",
           "Smith L et al. Overview of BioCreative II gene mention recognition. Genome Biology 2008.",
           "Sentences from PubMed abstracts annotated with gene/protein mentions."),
    _conll("anatem", "AnatEM", "AnatEM-IOB",
           "Pyysalo S, Ananiadou S. Anatomical entity mention recognition at literature scale. Bioinformatics 2014.",
           "Sentences from abstracts and full texts annotated with anatomical entity mentions."),
    _conll("craft", "CRAFT (early release)", "CRAFT-IOB",
           "Bada M et al. Concept annotation in the CRAFT corpus. BMC Bioinformatics 2012.",
           "Sentences of full-text articles annotated with ChEBI, Cell Ontology, genes/gene products, GO, Sequence Ontology and NCBI Taxonomy concepts."),
    _conll("bionlp13cg", "BioNLP 2013 Cancer Genetics", "BioNLP13CG-IOB",
           "Pyysalo S et al. Overview of the Cancer Genetics and Pathway Curation tasks of BioNLP Shared Task 2013. BMC Bioinformatics 2015.",
           "Sentences of cancer-biology abstracts annotated with 16 entity types."),
    _conll("bionlp13pc", "BioNLP 2013 Pathway Curation", "BioNLP13PC-IOB",
           "Pyysalo S et al. Overview of the Cancer Genetics and Pathway Curation tasks of BioNLP Shared Task 2013. BMC Bioinformatics 2015.",
           "Sentences annotated with genes/gene products, chemicals, complexes and cellular components."),
    _conll("bionlp11id", "BioNLP 2011 Infectious Diseases", "BioNLP11ID-IOB",
           "Pyysalo S et al. Overview of the Infectious Diseases (ID) task of BioNLP Shared Task 2011. BioNLP Shared Task 2011 Workshop.",
           "Sentences of infectious-disease articles annotated with proteins, organisms, chemicals and regulons/operons."),
    _conll("bionlp09", "BioNLP 2009 Shared Task", "BioNLP09-IOB",
           "Kim JD et al. Overview of BioNLP'09 shared task on event extraction. BioNLP 2009 Workshop.",
           "Sentences of GENIA abstracts annotated with protein mentions."),
]}


def list_corpora() -> List[str]:
    """Names of the corpora, in a stable order."""
    return list(CORPORA)


def corpus_spec(name: str) -> CorpusSpec:
    if name not in CORPORA:
        raise KeyError(f"unknown corpus {name!r}; known corpora: {', '.join(CORPORA)}")
    return CORPORA[name]


@dataclass(frozen=True)
class SplitPlan:
    """How the splits of one build are made; part of every cache key and recorded in the card."""

    heldout_validation: float = 0.0  # fraction of train held out as validation where none is published
    seed: int = 13

    def __post_init__(self):
        if not 0.0 <= self.heldout_validation < 1.0:
            raise ValueError(f"heldout_validation must be in [0, 1), got {self.heldout_validation}")


@dataclass
class SplitDocuments:
    documents: List[SourceDocument]
    log: IssueLog = field(default_factory=IssueLog)
    note: str = ""


_FILE_CACHE: Dict[Tuple[str, ReadOptions], Tuple[List[SourceDocument], IssueLog]] = {}


def _read_file(spec: CorpusSpec, path: Path, options: ReadOptions) -> Tuple[List[SourceDocument], IssueLog]:
    key = (str(path), options)
    if key not in _FILE_CACHE:
        if not path.is_file():
            raise FileNotFoundError(f"{spec.name}: corpus file {path} not found; {fetch_hint(spec.name)}")
        log = IssueLog()
        if spec.format == "pubtator":
            documents = list(read_pubtator(path, options, log))
        else:
            split_name = path.stem
            documents = list(read_conll(path, options, log, document_prefix=f"{split_name}-"))
        _FILE_CACHE[key] = (documents, log)
    return _FILE_CACHE[key]


def available_splits(name: str, plan: SplitPlan = SplitPlan()) -> List[str]:
    spec = corpus_spec(name)
    if "validation" not in spec.splits and plan.heldout_validation > 0:
        return list(SPLITS)
    return [split for split in SPLITS if split in spec.splits]


def split_documents(
    name: str,
    split: str,
    options: ReadOptions = ReadOptions(repair_offsets=True),
    plan: SplitPlan = SplitPlan(),
    corpora_dir: Optional[Path] = None,
) -> SplitDocuments:
    """The source documents of one split, in published order, with the issues found reading them."""
    spec = corpus_spec(name)
    if split not in available_splits(name, plan):
        raise KeyError(
            f"{name} has no {split!r} split (available: {available_splits(name, plan)}); "
            + ("it publishes train/test only: pass heldout_validation>0 to hold out part of train" if split == "validation" else "")
        )
    corpora_dir = resolve_corpus_dir(name, corpora_dir)
    heldout = split in ("train", "validation") and "validation" not in spec.splits and plan.heldout_validation > 0
    source = spec.splits["train" if heldout else split]
    documents, file_log = _read_file(spec, corpora_dir / source.file, options)
    selected = documents[source.first:source.stop]
    if source.expected_documents is not None and len(selected) != source.expected_documents:
        raise ValueError(
            f"{name} {split}: expected {source.expected_documents} documents in {corpora_dir / source.file}"
            f"[{source.first}:{source.stop}], found {len(selected)}; has the file changed?"
        )
    note = ""
    if heldout:
        order = list(range(len(selected)))
        random.Random(plan.seed).shuffle(order)
        held = set(order[: round(plan.heldout_validation * len(selected))])
        keep = held if split == "validation" else set(range(len(selected))) - held
        selected = [document for index, document in enumerate(selected) if index in keep]
        note = f"{split} = seeded slice of the official train file (heldout_validation={plan.heldout_validation}, seed={plan.seed})"
    log = IssueLog()
    if source.first == 0 and source.stop is None and not heldout:
        log.extend(file_log)
    else:
        # A slice keeps the issues of its own documents; an issue with no document id belongs to
        # the whole file and is reported with every slice of it.
        ids = {document.document_id for document in selected}
        log.issues.extend(issue for issue in file_log.issues if issue.document_id is None or issue.document_id in ids)
    return SplitDocuments(selected, log, note)
