"""Where each corpus's raw files come from upstream, and where they are found on this machine.

A corpus's download record names its upstream repository (or archive) at a fixed commit and the
SHA-256 of every raw file, as it lies in the corpora folder (``pubtator/...``, ``iob/...``,
``brat/...``). Files are looked up, per corpus, in this order: an explicit folder (``--corpora-dir``),
``$GLINER_BIOMED_CORPORA``, ``../shared/corpora`` beside the checkout, then the download cache
(``gliner-biomed datasets download NAME`` fills it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

CORPORA_ENV = "GLINER_BIOMED_CORPORA"
SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

_AIONER = "https://github.com/ncbi/AIONER"
_AIONER_COMMIT = "b8fa941dc8f49e1c99756832da0c61e9c58dcef8"
_MTL = "https://github.com/cambridgeltl/MTL-Bioinformatics-2016"
_MTL_COMMIT = "df0df02fae6dbb87d88ffcf323b9096528f06f84"
_CHIA = "https://github.com/Vidhate/CHIA-NER-RE"
_CHIA_COMMIT = "ed84384ba70275eac69d273eb5325b321cda1c72"
_NCBI_DISEASE = "https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE"


@dataclass(frozen=True)
class RawFile:
    """One raw file: its place in the corpora folder, its URL and SHA-256 (of the file itself, or of
    ``member`` when the URL is a zip archive)."""

    path: str
    url: str
    sha256: str
    member: str = ""


@dataclass(frozen=True)
class RawTree:
    """A folder of many files shipped as one zip archive (Chia: 4,001 brat files). ``tree_sha256``
    is the SHA-256 of the folder's ``sha256sum``-style listing (``<sha256>  <name>\\n`` per file,
    names sorted), so a single checksum still covers every byte of every file."""

    folder: str
    url: str
    member_folder: str
    tree_sha256: str
    files: int


@dataclass(frozen=True)
class CorpusDownload:
    upstream: str  # repository or release page
    version: str  # commit or release
    files: Tuple[RawFile, ...] = ()
    trees: Tuple[RawTree, ...] = ()
    note: str = ""

    def paths(self) -> List[str]:
        return [raw.path for raw in self.files] + [tree.folder for tree in self.trees]


def _aioner(*files: Tuple[str, str]) -> CorpusDownload:
    raw = tuple(
        RawFile(f"pubtator/{name}", f"https://raw.githubusercontent.com/ncbi/AIONER/{_AIONER_COMMIT}/data/pubtator/{name}", sha)
        for name, sha in files
    )
    return CorpusDownload(_AIONER, _AIONER_COMMIT, raw)


def _mtl(folder: str, train: str, devel: str, test: str) -> CorpusDownload:
    raw = tuple(
        RawFile(f"iob/{folder}/{split}.tsv", f"https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/{_MTL_COMMIT}/data/{folder}/{split}.tsv", sha)
        for split, sha in (("train", train), ("devel", devel), ("test", test))
    )
    return CorpusDownload(_MTL, _MTL_COMMIT, raw)


DOWNLOADS: Dict[str, CorpusDownload] = {
    "ncbi-disease": CorpusDownload(
        _NCBI_DISEASE + "/", "NCBI release (2014)",
        (
            RawFile("pubtator/NCBIdisease_Train.PubTator", f"{_NCBI_DISEASE}/NCBItrainset_corpus.zip",
                    "f311381b28a6d0f641f57f4a963bb83619c2bdec5cd9caabb1381f894d5db817", "NCBItrainset_corpus.txt"),
            RawFile("pubtator/NCBIdisease_Dev.PubTator", f"{_NCBI_DISEASE}/NCBIdevelopset_corpus.zip",
                    "02db559974624ae9cbe6cd95d64d953e6926bb63afb6b25b63e53bd8b41a4b55", "NCBIdevelopset_corpus.txt"),
            RawFile("pubtator/NCBIdisease_Test.PubTator", f"{_NCBI_DISEASE}/NCBItestset_corpus.zip",
                    "61c8050bf6979ef7b943ec1158dfc03b651ea3367d4c37356f9de4841e85c9a3", "NCBItestset_corpus.txt"),
        ),
        note="Checksums are those of the files in ../shared/corpora, recorded as byte-identical to the NCBI "
             "release's text files; AIONER's copies differ (a trailing blank line) and are not used.",
    ),
    "bc5cdr": _aioner(("BC5CDR_TrainDev.PubTator", "6e548098709c1e42a98645e20b42c00771772151791a3a3098e8255d0db0beaa"),
                      ("BC5CDR_Test.PubTator", "d4dca7c46d60fcd66a7c61bf45b398ffcecfcdf3332c0626ab1cf41fa9a25b31")),
    "biored": _aioner(("BioRED_TrainDev.PubTator", "c509b83786ff7a82119d3bce6e28b7508b76decb99c6cad45d6d3dde656138b0"),
                      ("BioRED_Test.PubTator", "a32f5a56ab7fdf66a435da69660440251ca2dacc288276abcc3d25f9f1c10ea0")),
    "nlm-gene": _aioner(("NLMgene_Train.PubTator", "ae941181723d011dd35c085c9c0539b571b5f7b183f0c88edfec9af66862de81"),
                        ("NLMgene_Test.PubTator", "3f633d0090bbdc231f4299637632beda0fa93cc1efdeedb2d07c54411334093a")),
    "gnormplus": _aioner(("GNormPlus_Train.PubTator", "06cf0e2176249b4c17cfda57178c549bb7e16254c4ebf055bfbf6fbb2a7bbb7f"),
                         ("GNormPlus_Test.PubTator", "3d9c230c50d8aa7ae968eaa5eb8108a4c0b885cf48fdea55cc445560c6755da9")),
    "tmvar3": _aioner(("tmVar3_Train.PubTator", "1a5877747fea7025370cbd28dc236ad333abb948b2323abeea5eaf6d5507fc33"),
                      ("tmVar3_Test.PubTator", "da986bbfee3b7213284702bcfab738c7a62721e4aad8f09880510dccb02e3ab5")),
    "bc2gm": _mtl("BC2GM-IOB", "46e17f4e1509483b82c03f27d6f0214020f738fb71704356fb3445eb824ab38d",
                  "33a94577aa22f1e70ec9e02781a05baa4e1390e866d28bf2b344888e4e3d4103",
                  "30d7a4f571ca8ed22a044528063ba5d0388d666d8b8b329733d6927e5fb30764"),
    "anatem": _mtl("AnatEM-IOB", "bd4235e9673f7c67667c1eb321903a51544a94cf481ba265b527b3104d6ba806",
                   "0758bb2f26ec12fc717c1054b64ea00a40c7aae26b21a7541b86fbfba66119ec",
                   "a3d6555f6f5b7809fc014bee975be0db93c012d770ab60c190cf37d589e97fc9"),
    "craft": _mtl("CRAFT-IOB", "3c49de4dba0a490459d2f7c8c0d1ae7659e2efeff8b1afec610226902f525979",
                  "95960d9a2fe97e437ca864c3e4c3f2c77c29a3bf8d3483c5e52a7e1a0f46b4ce",
                  "f4d105baa2ad0db0aab6348ec9f90af00ce8175bc47282ddb5079d01d884b90c"),
    "bionlp13cg": _mtl("BioNLP13CG-IOB", "016ee311428431433c46ceeebeba5fce9c3da9bfd05fafcc484e57a736ea91e7",
                       "6c834f3a16ed080940e7e12d831ca8f79458d08db5d6f0c1fdbfe85c3c7a072c",
                       "9ee374ba1b93af177ba3d39dfda4c7e1602bd703d8011bae46a34f3d719cd338"),
    "bionlp13pc": _mtl("BioNLP13PC-IOB", "3bba35afa15be3048240154c9b529e0e4f011f53ed7200b15762f00236e2ab02",
                       "e04545457858133fd5c80bef67f7904fc51fa099d119346400477f6bf1d30957",
                       "61bc26bf06a3481adc8ac7032a59e3c71c1ff16ceb81a039b43b4d3e8ae3c06a"),
    "bionlp11id": _mtl("BioNLP11ID-IOB", "0ec273b9fbf05d15d347a06d67fe084afc18a1738c574b0b4f544d756ad280f7",
                       "cc48d04e83a22adcb2a7071c0beb956fff444dd5f40efe4b09f8b04dafeccc43",
                       "94cc21cf0b86a5af059c7d93f7f3a7c717c413004a291b7edc70efc3b5dc4591"),
    "bionlp09": _mtl("BioNLP09-IOB", "abf9a6242bbd932e725f85d6ceb0ece41aae3c96775e45d18364868a1ad7bfe1",
                     "9cfebba60ecb0db64ce9153c3500f2e7e995c6c5e827f0d7f3e7a9dc5422aada",
                     "b4e2acba0863bbd9ed27264adafc3e1d0b1cd764334366a622d662eeb5c310f4"),
    "chia": CorpusDownload(
        _CHIA, _CHIA_COMMIT, (),
        (RawTree("brat/chia", f"https://raw.githubusercontent.com/Vidhate/CHIA-NER-RE/{_CHIA_COMMIT}/chia_without_scope.zip",
                 "chia_without_scope", "b0bda8485c615ee3a34c519d06466a2281f7328bd042c0c9af7d42b0177f9afe", 4001),),
        note="One archive with one checksum over its 4,001 files (1,000 trials x inclusion/exclusion x .txt/.ann, "
             "plus annotation.conf) rather than 4,001 per-file records.",
    ),
}


def corpus_download(name: str) -> CorpusDownload:
    if name not in DOWNLOADS:
        raise KeyError(f"no download record for corpus {name!r}; known: {', '.join(DOWNLOADS)}")
    return DOWNLOADS[name]


def download_cache_dir() -> Path:
    """Where `datasets download` puts the corpora: ``$GLINER_BIOMED_CORPORA``, else a folder of the
    Hugging Face cache (``$HF_HOME``, by default ``~/.cache/huggingface``) like the one ``datasets`` uses."""
    if os.environ.get(CORPORA_ENV):
        return Path(os.environ[CORPORA_ENV])
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "gliner-biomed" / "corpora"


def candidate_dirs() -> List[Path]:
    """Folders searched for raw files when none is given explicitly, in order."""
    candidates = []
    if os.environ.get(CORPORA_ENV):
        candidates.append(Path(os.environ[CORPORA_ENV]))
    candidates.append(SHARED_CORPORA)
    candidates.append(download_cache_dir())
    return list(dict.fromkeys(candidates))


def has_corpus(folder: Path, name: str) -> bool:
    return all((folder / path).exists() for path in corpus_download(name).paths())


class CorpusNotFound(FileNotFoundError):
    """A corpus in none of the folders searched; the message says how to fetch it, in one line."""


def fetch_hint(name: str) -> str:
    return f"fetch it with `gliner-biomed datasets download {name}` (or pass --corpora-dir DIR / set ${CORPORA_ENV})"


def resolve_corpus_dir(name: str, explicit: Optional[Path] = None) -> Path:
    """An explicit folder as given (its missing files are reported when read), else the first folder
    of `candidate_dirs` that holds every raw file of corpus ``name``."""
    if explicit is not None:
        return Path(explicit)
    searched = candidate_dirs()
    for folder in searched:
        if has_corpus(folder, name):
            return folder
    raise CorpusNotFound(f"corpus {name} not found in {', '.join(str(folder) for folder in searched)}; {fetch_hint(name)}")
