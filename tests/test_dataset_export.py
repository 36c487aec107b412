"""End to end: every corpus exported as a Hub-ready folder, loaded back with datasets.load_dataset
(no remote code) and checked against the raw files; the synthetic corpus; CLI; push errors (the upload itself: test_publish.py)."""

import json
import os
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the network

import datasets
import pytest
import yaml

from gliner_biomed.cli import main
from gliner_biomed.dataset_builders import BuildOptions, load_label_map
from gliner_biomed.dataset_builders.builder import ner_triples
from gliner_biomed.dataset_builders.hub import ExportConfig, export_dataset_repo

from test_dataset_rawcounts import raw_counts

ALL = ["ncbi-disease", "bc5cdr", "biored", "nlm-gene", "gnormplus", "tmvar3", "bc2gm", "anatem", "craft",
       "bionlp13cg", "bionlp13pc", "bionlp11id", "bionlp09"]
SYNTHETIC = Path(__file__).parent / "data" / "datasets" / "synthetic"


@pytest.fixture(scope="session")
def exported(tmp_path_factory, corpora_dir):
    root = tmp_path_factory.mktemp("dataset_repos")
    datasets.disable_progress_bars()
    options = BuildOptions(corpora_dir=str(corpora_dir))
    return {name: export_dataset_repo(name, root / name, options) for name in ALL}


def load(folder, *args, tmp_path):
    return datasets.load_dataset(str(folder), *args, cache_dir=str(tmp_path / "hf_cache"))


def card_metadata(folder):
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---")[1]), text


@pytest.mark.corpus("all")
@pytest.mark.parametrize("name", ALL)
def test_exported_corpus_loads_back_with_raw_counts(exported, corpora_dir, tmp_path, name):
    folder = exported[name]
    dataset = load(folder, tmp_path=tmp_path)
    label_map = load_label_map(name)
    report = json.loads((folder / "validation_report.json").read_text())["document"]
    for split, split_dataset in dataset.items():
        documents, type_counts = raw_counts(corpora_dir, name, split)
        assert split_dataset.num_rows == documents
        expected = Counter()
        for source_type, count in type_counts.items():
            expected[label_map[source_type]] += count
        assert Counter(e["label"] for row in split_dataset["entities"] for e in row) == expected
        assert report["splits"][split]["mentions_by_type"] == dict(type_counts)
    row = dataset["train"][0]
    assert all(row["text"][e["start"]:e["end"]] == e["mention"] for e in row["entities"])
    assert all(isinstance(s, int) and isinstance(e, int) and isinstance(label, str) for s, e, label in ner_triples(row["ner"]))
    metadata, text = card_metadata(folder)
    assert metadata["configs"][0]["config_name"] == "document" and metadata["configs"][0]["default"] is True
    assert {f["split"] for f in metadata["configs"][0]["data_files"]} == set(dataset)
    assert "license" in metadata and "## Label map" in text and "## Validation report" in text
    for source_type, label in label_map.items():
        assert f"| `{source_type}` | {label} |" in text
    assert yaml.safe_load((folder / "label_map.yaml").read_text()) == label_map


@pytest.mark.corpus("all")
def test_card_documents_missing_validation_split(exported):
    _, text = card_metadata(exported["tmvar3"])
    assert "train and test only" in text and "no validation split" in text


@pytest.mark.corpus("all")
def test_document_and_sentence_configs_in_one_repo(tmp_path, corpora_dir):
    folder = export_dataset_repo("ncbi-disease", tmp_path / "ncbi", BuildOptions(corpora_dir=str(corpora_dir)),
                                 ExportConfig(levels=("document", "sentence")))
    documents = load(folder, tmp_path=tmp_path)
    sentences = load(folder, "sentence", tmp_path=tmp_path)
    assert documents["test"].num_rows == 100 and sentences["test"].num_rows > 500
    count = lambda d: sum(len(r) for r in d["test"]["entities"])
    assert count(documents) == count(sentences) == 960


def test_synthetic_corpus_export(tmp_path):
    folder = export_dataset_repo("synthetic", tmp_path / "synthetic", BuildOptions(synthetic_source=str(SYNTHETIC)))
    dataset = load(folder, tmp_path=tmp_path)
    assert {split: d.num_rows for split, d in dataset.items()} == {"train": 3, "validation": 1}
    rows = {row["id"]: row for row in dataset["train"]}
    # 'EGFR' inside the word 'EGFR-mutant' stays in entities, and cannot be in ner
    assert [e["mention"] for e in rows["syn-1"]["entities"]] == ["EGFR", "HCC827", "gefitinib"]
    assert ner_triples(rows["syn-1"]["ner"]) == [[4, 4, "cell line"], [7, 7, "chemical"]]
    # entities are authoritative: the wrong supplied span [4, 4] became [4, 5]
    assert ner_triples(rows["syn-2"]["ner"]) == [[0, 0, "chemical"], [4, 5, "disease"]]
    report = json.loads((folder / "validation_report.json").read_text())["document"]["splits"]["train"]["issues"]
    assert report["ner_disagrees_with_entities"]["count"] == 1 and report["not_word_aligned"]["count"] == 1


@pytest.mark.corpus("all")
def test_export_is_atomic_and_refuses_to_overwrite(tmp_path, corpora_dir, monkeypatch):
    options = BuildOptions(corpora_dir=str(corpora_dir))
    folder = export_dataset_repo("bionlp09", tmp_path / "repo", options)
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_dataset_repo("bionlp09", folder, options)
    from gliner_biomed.dataset_builders import hub

    def broken_card(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(hub, "render_card", broken_card)
    with pytest.raises(RuntimeError, match="disk full"):
        export_dataset_repo("bionlp09", folder, options, ExportConfig(overwrite=True))
    assert (folder / "README.md").is_file()  # the previous build is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # no staging folder left behind


@pytest.mark.corpus("all")
def test_cli_build_stats_and_errors(tmp_path, corpora_dir, capsys):
    out = tmp_path / "cli_repo"
    assert main(["datasets", "build", "bionlp11id", "--out", str(out), "--corpora-dir", str(corpora_dir)]) == 0
    assert datasets.load_dataset(str(out), cache_dir=str(tmp_path / "c"))["validation"].num_rows == 721
    assert main(["datasets", "build", "bionlp11id", "--out", str(out), "--corpora-dir", str(corpora_dir)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["datasets", "stats", "ncbi-disease", "--corpora-dir", str(corpora_dir), "--report", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr().out
    assert "train: 593 documents" in printed and "[issue] duplicate_document: 1" in printed
    assert json.loads((tmp_path / "r.json").read_text())["splits"]["test"]["mentions"] == 960
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "NCBIdisease_Test.PubTator").parent.mkdir(exist_ok=True)
    pubtator = bad / "pubtator"
    pubtator.mkdir()
    for split in ("Train", "Dev", "Test"):
        (pubtator / f"NCBIdisease_{split}.PubTator").write_text("1|t|T\n1|a|A\n1\t0\tx\n")
    assert main(["datasets", "stats", "ncbi-disease", "--corpora-dir", str(bad)]) == 2
    assert "NCBIdisease_Train.PubTator, line 3" in capsys.readouterr().err
    assert main(["datasets", "stats", "nlm-gene", "--corpora-dir", str(corpora_dir), "--heldout-validation", "0.2"]) == 0
    assert "validation: 90 documents" in capsys.readouterr().out


@pytest.mark.corpus("all")
def test_push_without_token_or_network_is_a_clear_error(exported, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no saved login
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    assert main(["datasets", "push", str(exported["anatem"]), "--repo", "org/anatem"]) == 2
    assert "no Hugging Face token" in capsys.readouterr().err
    # with a token but offline, the failing upload is reported with the folder and repo
    assert main(["datasets", "push", str(exported["anatem"]), "--repo", "org/anatem", "--token", "hf_fake"]) == 2
    err = capsys.readouterr().err
    assert "upload of" in err and "org/anatem" in err
    assert main(["datasets", "push", str(tmp_path), "--repo", "org/x", "--token", "t"]) == 2
    assert f"{tmp_path}: missing README.md, data" in capsys.readouterr().err


def bibtex_entries(text):
    """(type, key, fields) of each entry; braces must balance (what a BibTeX reader needs)."""
    import re

    entries = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        head = re.match(r"@(\w+)\{([\w-]+),\n", chunk)
        assert head and chunk.count("{") == chunk.count("}") and chunk.endswith("}"), chunk
        entries.append((head.group(1), head.group(2), set(re.findall(r"^\s+(\w+)\s*=", chunk, re.M))))
    return entries


def test_every_corpus_has_hub_license_terms_and_bibtex():
    from gliner_biomed.dataset_builders.corpora import CORPORA

    for spec in CORPORA.values():
        assert spec.license != "other" or (spec.license_name and spec.license_link.startswith("https://")), spec.name
        entries = bibtex_entries(spec.bibtex)
        assert entries and all({"title", "author", "year"} <= fields for _, _, fields in entries), spec.name


@pytest.mark.corpus("ncbi-disease")
def test_card_metadata_is_what_the_hub_reads(tmp_path, corpora_dir):
    """The YAML header as the Hub reads it (huggingface_hub's DatasetCard), dataset_info agreeing
    with what load_dataset finds, and the `ner` column stored as typed structs in the Parquet shards."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import DatasetCard

    folder = export_dataset_repo("ncbi-disease", tmp_path / "ncbi", BuildOptions(corpora_dir=str(corpora_dir)),
                                 ExportConfig(levels=("document", "sentence")))
    card = DatasetCard.load(folder / "README.md")
    data = card.data
    assert (data.license, data.license_name) == ("other", "us-government-public-domain") and data.license_link.startswith("https://")
    assert data.task_categories == ["token-classification"] and data.size_categories == ["n<1K"]  # 793 documents
    infos = {info["config_name"]: info for info in data.dataset_info}
    assert set(infos) == {"document", "sentence"}
    for level in infos:
        loaded = load(folder, level, tmp_path=tmp_path)
        assert {s["name"]: s["num_examples"] for s in infos[level]["splits"]} == {split: d.num_rows for split, d in loaded.items()}
        assert all(s["num_bytes"] > 0 for s in infos[level]["splits"])
        shards = sum(p.stat().st_size for p in (folder / "data" / level).glob("*.parquet"))
        assert infos[level]["download_size"] == shards and infos[level]["dataset_size"] > 0
    features = {feature["name"]: feature for feature in infos["document"]["features"]}
    assert features["ner"]["list"] == [{"name": "start", "dtype": "int32"}, {"name": "end", "dtype": "int32"}, {"name": "label", "dtype": "string"}]
    schema = pq.read_schema(next((folder / "data" / "document").glob("train-*.parquet")))
    assert schema.field("ner").type == pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32()), ("label", pa.string())]))
    assert schema.field("entities").type.value_type.get_field_index("mention") >= 0
    # The citation: the corpus paper in BibTeX, in the card and in the datasets builder's info.
    assert "```bibtex\n@article{dogan2014ncbi," in card.text
    row = load(folder, tmp_path=tmp_path)["test"][0]
    assert row["ner"] and all(0 <= span["start"] <= span["end"] < len(row["tokenized_text"]) for span in row["ner"])
    assert {span["label"] for span in row["ner"]} <= {entity["label"] for entity in row["entities"]}


def test_synthetic_card_says_its_license_is_unknown(tmp_path):
    from huggingface_hub import DatasetCard

    folder = export_dataset_repo("synthetic", tmp_path / "synthetic", BuildOptions(synthetic_source=str(SYNTHETIC)))
    data = DatasetCard.load(folder / "README.md").data
    assert data.license == "unknown" and data.size_categories == ["n<1K"]
    assert {s["name"]: s["num_examples"] for s in data.dataset_info["splits"]} == {"train": 3, "validation": 1}
    assert str(SYNTHETIC) not in (folder / "README.md").read_text() + (folder / "validation_report.json").read_text()
