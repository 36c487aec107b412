"""The corpora: where each split's documents come from and what they are (raw files: see sources.py)."""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Tuple

from .readers import ReadOptions, read_brat, read_conll, read_pubtator
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
class SeededSplit:
    """A split made here for a corpus published without one: documents are grouped (``group``: a
    regular expression whose first group is the key, e.g. the trial of ``NCT00050349_inc``), the
    sorted groups shuffled with ``random.Random(seed)`` and cut at ``int(n * fraction)`` in the
    order of ``fractions`` (the last split takes the rest), so a group never spans two splits."""

    fractions: Tuple[Tuple[str, float], ...]
    seed: int
    group: str = r"^(.*)$"

    def group_key(self, document_id: str) -> str:
        match = re.match(self.group, document_id)
        if not match:
            raise ValueError(f"document id {document_id!r} does not match the split's group pattern {self.group!r}")
        return match.group(1)

    def select(self, documents: List[SourceDocument], split: str) -> List[SourceDocument]:
        """The documents of ``split``, in their read order."""
        names = [name for name, _ in self.fractions]
        if split not in names:
            raise KeyError(f"seeded split has no {split!r} part (parts: {names})")
        groups = sorted({self.group_key(document.document_id) for document in documents})
        random.Random(self.seed).shuffle(groups)
        cuts, position = {}, 0
        for index, (name, fraction) in enumerate(self.fractions):
            stop = len(groups) if index == len(self.fractions) - 1 else position + int(len(groups) * fraction)
            cuts[name] = set(groups[position:stop])
            position = stop
        return [document for document in documents if self.group_key(document.document_id) in cuts[split]]


@dataclass(frozen=True)
class CorpusSpec:
    name: str
    pretty_name: str
    format: str  # "pubtator" | "conll" | "brat" (then SplitSource.file is the folder)
    splits: Dict[str, SplitSource]
    license: str
    source: str
    citation: str
    description: str
    split_note: str
    homepage: str = ""
    # Licence in the Hub's card terms: ``license`` is an SPDX-style Hub id, or "other" with a
    # ``license_name`` (slug) and ``license_link`` saying where the terms are.
    license_name: str = ""
    license_link: str = ""
    bibtex: str = ""  # BibTeX of the corpus paper, then of the redistribution this project reads
    seeded_split: Optional[SeededSplit] = None  # set: every split is cut from the same file/folder
    # Set for corpora that measure generalisation (types no training corpus has): the trainer
    # refuses them as training data unless told otherwise. The text says why.
    evaluation_only: str = ""
    # (file name, line) of records broken in the published files, skipped and counted (never fatal).
    known_bad_records: FrozenSet[Tuple[str, int]] = frozenset()


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


# Licences of the PubTator corpora (no SPDX id): NCBI-disease is a US government work; the AIONER
# redistributions are the BioCreative / NLM corpora, for research use.
_PUBLIC_DOMAIN = dict(license_name="us-government-public-domain", license_link="https://www.ncbi.nlm.nih.gov/home/about/policies/")
_RESEARCH_USE = dict(license_name="research-use-only", license_link="https://github.com/ncbi/AIONER")

_BIBTEX_AIONER = """@article{luo2023aioner,
  title   = {{AIONER}: all-in-one scheme-based biomedical named entity recognition using deep learning},
  author  = {Luo, Ling and Wei, Chih-Hsuan and Lai, Po-Ting and Leaman, Robert and Chen, Qingyu and Lu, Zhiyong},
  journal = {Bioinformatics},
  volume  = {39},
  number  = {5},
  pages   = {btad310},
  year    = {2023},
  doi     = {10.1093/bioinformatics/btad310}
}"""
_BIBTEX_MTL = """@article{crichton2017mtl,
  title   = {A neural network multi-task learning approach to biomedical named entity recognition},
  author  = {Crichton, Gamal and Pyysalo, Sampo and Chiu, Billy and Korhonen, Anna},
  journal = {BMC Bioinformatics},
  volume  = {18},
  pages   = {368},
  year    = {2017},
  doi     = {10.1186/s12859-017-1776-8}
}"""
_BIBTEX_BIONLP13 = """@article{pyysalo2015bionlp13,
  title   = {Overview of the Cancer Genetics and Pathway Curation tasks of {BioNLP} Shared Task 2013},
  author  = {Pyysalo, Sampo and Ohta, Tomoko and Rak, Rafal and Rowley, Andrew and Chun, Hong-Woo and Jung, Sung-Jae and Choi, Sung-Pil and Tsujii, Jun'ichi and Ananiadou, Sophia},
  journal = {BMC Bioinformatics},
  volume  = {16},
  number  = {Suppl 10},
  pages   = {S2},
  year    = {2015},
  doi     = {10.1186/1471-2105-16-S10-S2}
}"""
_BIBTEX = {
    "chia": """@article{kury2020chia,
  title   = {Chia, a large annotated corpus of clinical trial eligibility criteria},
  author  = {Kury, Fabr{\\'\\i}cio and Butler, Alex and Yuan, Chi and Fu, Li-heng and Sun, Yingcheng and Liu, Hao and Sim, Ida and Carini, Simona and Weng, Chunhua},
  journal = {Scientific Data},
  volume  = {7},
  pages   = {281},
  year    = {2020},
  doi     = {10.1038/s41597-020-00620-0}
}""",
    "ncbi-disease": """@article{dogan2014ncbi,
  title   = {{NCBI} disease corpus: a resource for disease name recognition and concept normalization},
  author  = {Do{\\u{g}}an, Rezarta Islamaj and Leaman, Robert and Lu, Zhiyong},
  journal = {Journal of Biomedical Informatics},
  volume  = {47},
  pages   = {1--10},
  year    = {2014},
  doi     = {10.1016/j.jbi.2013.12.006}
}""",
    "bc5cdr": """@article{li2016bc5cdr,
  title   = {{BioCreative V CDR} task corpus: a resource for chemical disease relation extraction},
  author  = {Li, Jiao and Sun, Yueping and Johnson, Robin J. and Sciaky, Daniela and Wei, Chih-Hsuan and Leaman, Robert and Davis, Allan Peter and Mattingly, Carolyn J. and Wiegers, Thomas C. and Lu, Zhiyong},
  journal = {Database},
  volume  = {2016},
  pages   = {baw068},
  year    = {2016},
  doi     = {10.1093/database/baw068}
}

""" + _BIBTEX_AIONER,
    "biored": """@article{luo2022biored,
  title   = {{BioRED}: a rich biomedical relation extraction dataset},
  author  = {Luo, Ling and Lai, Po-Ting and Wei, Chih-Hsuan and Arighi, Cecilia N. and Lu, Zhiyong},
  journal = {Briefings in Bioinformatics},
  volume  = {23},
  number  = {5},
  pages   = {bbac282},
  year    = {2022},
  doi     = {10.1093/bib/bbac282}
}

""" + _BIBTEX_AIONER,
    "nlm-gene": """@article{islamaj2021nlmgene,
  title   = {{NLM-Gene}, a richly annotated gold standard dataset for gene entities that addresses ambiguity and multi-species gene recognition},
  author  = {Islamaj, Rezarta and Wei, Chih-Hsuan and Cissel, David and Miliaras, Nicholas and Printseva, Olga and Rodionov, Oleg and Sekiya, Keiko and Ward, Janice and Lu, Zhiyong},
  journal = {Journal of Biomedical Informatics},
  volume  = {118},
  pages   = {103779},
  year    = {2021},
  doi     = {10.1016/j.jbi.2021.103779}
}

""" + _BIBTEX_AIONER,
    "gnormplus": """@article{wei2015gnormplus,
  title   = {{GNormPlus}: an integrative approach for tagging genes, gene families, and protein domains},
  author  = {Wei, Chih-Hsuan and Kao, Hung-Yu and Lu, Zhiyong},
  journal = {BioMed Research International},
  volume  = {2015},
  pages   = {918710},
  year    = {2015},
  doi     = {10.1155/2015/918710}
}

""" + _BIBTEX_AIONER,
    "tmvar3": """@article{wei2022tmvar3,
  title   = {{tmVar} 3.0: an improved variant concept recognition and normalization tool},
  author  = {Wei, Chih-Hsuan and Allot, Alexis and Riehle, Kevin and Milosavljevic, Aleksandar and Lu, Zhiyong},
  journal = {Bioinformatics},
  volume  = {38},
  number  = {18},
  pages   = {4449--4451},
  year    = {2022},
  doi     = {10.1093/bioinformatics/btac537}
}

""" + _BIBTEX_AIONER,
    "bc2gm": """@article{smith2008bc2gm,
  title   = {Overview of {BioCreative II} gene mention recognition},
  author  = {Smith, Larry and Tanabe, Lorraine K. and Ando, Rie Johnson nee and Kuo, Cheng-Ju and Chung, I-Fang and Hsu, Chun-Nan and Lin, Yu-Shi and Klinger, Roman and Friedrich, Christoph M. and Ganchev, Kuzman and others},
  journal = {Genome Biology},
  volume  = {9},
  number  = {Suppl 2},
  pages   = {S2},
  year    = {2008},
  doi     = {10.1186/gb-2008-9-s2-s2}
}""",
    "anatem": """@article{pyysalo2014anatem,
  title   = {Anatomical entity mention recognition at literature scale},
  author  = {Pyysalo, Sampo and Ananiadou, Sophia},
  journal = {Bioinformatics},
  volume  = {30},
  number  = {6},
  pages   = {868--875},
  year    = {2014},
  doi     = {10.1093/bioinformatics/btt580}
}""",
    "craft": """@article{bada2012craft,
  title   = {Concept annotation in the {CRAFT} corpus},
  author  = {Bada, Michael and Eckert, Miriam and Evans, Donald and Garcia, Kristin and Shipley, Krista and Sitnikov, Dmitry and Baumgartner, William A. and Cohen, K. Bretonnel and Verspoor, Karin and Blake, Judith A. and Hunter, Lawrence E.},
  journal = {BMC Bioinformatics},
  volume  = {13},
  pages   = {161},
  year    = {2012},
  doi     = {10.1186/1471-2105-13-161}
}""",
    "bionlp13cg": _BIBTEX_BIONLP13,
    "bionlp13pc": _BIBTEX_BIONLP13,
    "bionlp11id": """@inproceedings{pyysalo2011bionlp11id,
  title     = {Overview of the Infectious Diseases ({ID}) task of {BioNLP} Shared Task 2011},
  author    = {Pyysalo, Sampo and Ohta, Tomoko and Rak, Rafal and Sullivan, Dan and Mao, Chunhong and Wang, Chunxia and Sobral, Bruno and Tsujii, Jun'ichi and Ananiadou, Sophia},
  booktitle = {Proceedings of the {BioNLP} Shared Task 2011 Workshop},
  pages     = {26--35},
  year      = {2011},
  publisher = {Association for Computational Linguistics}
}""",
    "bionlp09": """@inproceedings{kim2009bionlp09,
  title     = {Overview of {BioNLP}'09 shared task on event extraction},
  author    = {Kim, Jin-Dong and Ohta, Tomoko and Pyysalo, Sampo and Kano, Yoshinobu and Tsujii, Jun'ichi},
  booktitle = {Proceedings of the {BioNLP} 2009 Workshop Companion Volume for Shared Task},
  pages     = {1--9},
  year      = {2009},
  publisher = {Association for Computational Linguistics}
}""",
}


def _pubtator(name, pretty, splits, license, source, citation, description, note, homepage=""):
    terms = _PUBLIC_DOMAIN if name == "ncbi-disease" else _RESEARCH_USE
    return CorpusSpec(name, pretty, "pubtator", splits, license, source, citation, description, note, homepage,
                      bibtex=_BIBTEX[name], **terms)


def _conll(name, pretty, folder, source_citation, description, homepage=""):
    splits = {split: SplitSource(f"iob/{folder}/{file}.tsv") for split, file in (("train", "train"), ("validation", "devel"), ("test", "test"))}
    return CorpusSpec(name, pretty, "conll", splits, "cc-by-4.0", _MTL, source_citation, description, _CONLL_NOTE, homepage,
                      bibtex=_BIBTEX[name] + "\n\n" + _BIBTEX_MTL)


_CHIA_SPLIT = SeededSplit((("train", 0.8), ("validation", 0.1), ("test", 0.1)), seed=42, group=r"^(NCT\d+)_(?:inc|exc)$")


def _chia() -> CorpusSpec:
    splits = {split: SplitSource("brat/chia", expected_documents=count) for split, count in (("train", 1600), ("validation", 200), ("test", 200))}
    return CorpusSpec(
        "chia", "Chia", "brat", splits, "cc-by-4.0",
        "brat standoff files of the 'without scope' release (chia_without_scope/) as redistributed in "
        "https://github.com/Vidhate/CHIA-NER-RE @ ed84384ba70275eac69d273eb5325b321cda1c72; "
        "data doi:10.6084/m9.figshare.11855817.v2, CC BY 4.0",
        "Kury F et al. Chia, a large annotated corpus of clinical trial eligibility criteria. Scientific Data 7, 281 (2020). doi:10.1038/s41597-020-00620-0",
        "Inclusion and exclusion criteria of 1,000 clinical trials (one _inc and one _exc file each), annotated "
        "with clinical concepts (condition, drug, procedure, measurement, observation, person, device, visit) "
        "and annotation classes (qualifier, value, temporal, negation, ...).",
        "No official split. As the GLiNER-biomed evaluation: 80/10/10 with seed 42, here by trial (the two "
        "files of a trial stay together): the 1,000 sorted trial ids shuffled with random.Random(42), "
        "train = the first 800 trials, validation = the next 100, test = the last 100 (1,600/200/200 files).",
        "https://doi.org/10.6084/m9.figshare.11855817.v2",
        bibtex=_BIBTEX["chia"],
        seeded_split=_CHIA_SPLIT,
        evaluation_only="Chia measures unseen clinical types (leave-corpus-out); no training corpus has them",
        # Two mentions whose .ann text disagrees with their offsets beyond repair (upstream errors).
        known_bad_records=frozenset({("NCT02137369_inc.ann", 17), ("NCT03460002_inc.ann", 6)}),
    )


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
    _chia(),
]}


def list_corpora() -> List[str]:
    """Names of the corpora, in a stable order."""
    return list(CORPORA)


def training_corpora() -> List[str]:
    """The corpora that may be training data: all but the evaluation-only ones (Chia)."""
    return [name for name, spec in CORPORA.items() if not spec.evaluation_only]


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
    options = dataclasses.replace(options, known_bad_records=options.known_bad_records | spec.known_bad_records)
    key = (str(path), options)
    if key not in _FILE_CACHE:
        if not (path.is_dir() if spec.format == "brat" else path.is_file()):
            raise FileNotFoundError(f"{spec.name}: corpus {'folder' if spec.format == 'brat' else 'file'} {path} not found; {fetch_hint(spec.name)}")
        log = IssueLog()
        if spec.format == "pubtator":
            documents = list(read_pubtator(path, options, log))
        elif spec.format == "brat":
            documents = list(read_brat(path, options, log))
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
    if spec.seeded_split is not None:
        selected = spec.seeded_split.select(selected, split)
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
    if source.first == 0 and source.stop is None and not heldout and spec.seeded_split is None:
        log.extend(file_log)
    else:
        # A slice keeps the issues of its own documents; an issue with no document id belongs to
        # the whole file and is reported with every slice of it.
        ids = {document.document_id for document in selected}
        log.issues.extend(issue for issue in file_log.issues if issue.document_id is None or issue.document_id in ids)
    return SplitDocuments(selected, log, note)
