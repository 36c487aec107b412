"""Every corpus of ../shared/corpora built in memory: offsets, GLiNER view, counts against the raw
files, split decisions, duplicates, sentence-level examples, label maps and load_corpus."""

import pytest

from gliner_biomed.dataset_builders import BuildOptions, build_corpus, list_corpora, load_corpus, load_label_map
from gliner_biomed.dataset_builders.examples import document_examples
from gliner_biomed.dataset_builders.records import CorpusFormatError, SourceDocument, SourceEntity
from gliner_biomed.dataset_builders.report import IssueLog
from gliner_biomed.dataset_builders.sentences import sentence_spans
from gliner_biomed.modeling import split_words

from test_dataset_rawcounts import raw_counts

pytestmark = pytest.mark.corpus("all")

ALL = ["ncbi-disease", "bc5cdr", "biored", "nlm-gene", "gnormplus", "tmvar3", "bc2gm", "anatem", "craft",
       "bionlp13cg", "bionlp13pc", "bionlp11id", "bionlp09"]
EVALUATION_ONLY = ["chia"]  # tested in test_dataset_chia.py
PUBTATOR = ALL[:6]


@pytest.fixture(scope="session")
def document_builds(corpora_dir):
    return {name: build_corpus(name, BuildOptions(corpora_dir=str(corpora_dir))) for name in ALL}


@pytest.fixture(scope="session")
def sentence_builds(corpora_dir):
    return {name: build_corpus(name, BuildOptions(level="sentence", corpora_dir=str(corpora_dir))) for name in PUBTATOR + ["bionlp13cg"]}


def assert_example_invariants(example):
    text = example["text"]
    for entity in example["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["mention"], (example["id"], entity)
    words = split_words(text)
    assert example["tokenized_text"] == [w for w, _, _ in words]
    spans = {(e["start"], e["end"], e["label"]) for e in example["entities"]}
    for start_word, end_word, label in example["ner"]:
        assert 0 <= start_word <= end_word < len(words)
        assert (words[start_word][1], words[end_word][2], label) in spans, (example["id"], start_word, end_word, label)


def test_list_corpora_names():
    assert list_corpora() == ALL + EVALUATION_ONLY


@pytest.mark.parametrize("name", ALL)
def test_corpus_matches_raw_files(document_builds, corpora_dir, name):
    build = document_builds[name]
    assert set(build.splits) == ({"train", "test"} if name in ("nlm-gene", "gnormplus", "tmvar3") else {"train", "validation", "test"})
    label_map = load_label_map(name)
    for split, data in build.splits.items():
        documents, type_counts = raw_counts(corpora_dir, name, split)
        assert data.stats.documents == documents
        assert data.stats.mentions_by_type == type_counts, split
        expected_labels = {}
        for source_type, count in type_counts.items():
            expected_labels[label_map[source_type]] = expected_labels.get(label_map[source_type], 0) + count
        assert dict(data.stats.mentions_by_label) == expected_labels
        assert not data.log.of_kind("record_skipped")
        ids = [example["id"] for example in data.examples]
        assert len(ids) == len(set(ids))
        for example in data.examples:
            assert_example_invariants(example)
        # each entity is either in the GLiNER view or reported as not word-aligned
        aligned = sum(len({tuple(s) for s in e["ner"]}) for e in data.examples)
        reported = len(data.log.of_kind("not_word_aligned"))
        distinct = sum(len({(x["start"], x["end"], x["label"]) for x in e["entities"]}) for e in data.examples)
        assert aligned + reported >= distinct and aligned <= distinct


def test_ncbi_duplicate_document_is_kept_and_flagged(document_builds):
    train = document_builds["ncbi-disease"].splits["train"]
    duplicates = train.log.of_kind("duplicate_document")
    assert len(duplicates) == 1 and "8528200" in duplicates[0].detail
    copies = [e for e in train.examples if e["document_id"] == "8528200"]
    assert [e["id"] for e in copies] == ["8528200", "8528200#2"] and copies[0]["entities"] == copies[1]["entities"]


def test_known_source_problems_are_reported(document_builds):
    counts = {name: {split: d.log.counts() for split, d in b.splits.items()} for name, b in document_builds.items()}
    assert counts["gnormplus"]["train"]["mention_repaired"] == 35 and counts["gnormplus"]["test"]["mention_repaired"] == 4
    assert counts["nlm-gene"]["train"]["mention_repaired"] == 11 and counts["nlm-gene"]["train"]["nested_mention"] > 0
    assert counts["tmvar3"]["train"]["mention_repaired"] == 21
    assert counts["ncbi-disease"]["train"]["mention_repaired"] == 1
    assert not any(c.get("document_in_several_splits") for splits in counts.values() for c in splits.values())


@pytest.mark.parametrize("name", PUBTATOR + ["bionlp13cg"])
def test_sentence_level_keeps_every_mention(document_builds, sentence_builds, name):
    for split, data in sentence_builds[name].splits.items():
        document_data = document_builds[name].splits[split]
        assert data.stats.mentions_by_label == document_data.stats.mentions_by_label
        texts = {e["id"]: e["text"] for e in document_data.examples}
        for example in data.examples:
            assert_example_invariants(example)
            assert example["text"] in texts[example["id"].rsplit("-s", 1)[0]]
        if name in PUBTATOR:
            assert data.stats.examples > 3 * data.stats.documents  # abstracts really are split


def test_sentence_splitter_never_cuts_a_mention_and_skips_abbreviations():
    text = "Mice (e.g. strain B6) were used. Fig. 2 shows data. The St. John's wort group. Done."
    spans, merged = sentence_spans(text, [])
    assert [text[s:e] for s, e in spans] == ["Mice (e.g. strain B6) were used.", "Fig. 2 shows data.", "The St. John's wort group.", "Done."]
    mention = (text.index("data."), text.index("The St.") + 3)  # a mention across a boundary
    spans, merged = sentence_spans(text, [mention])
    assert merged == 1 and any(s <= mention[0] and mention[1] <= e for s, e in spans)


def test_nlm_gene_has_no_validation_unless_asked(corpora_dir):
    with pytest.raises(KeyError, match="train/test only"):
        load_corpus("nlm-gene", "validation", corpora_dir=str(corpora_dir))
    options = dict(heldout_validation=0.1, seed=7, corpora_dir=str(corpora_dir))
    validation = load_corpus("nlm-gene", "validation", **options)
    train = load_corpus("nlm-gene", "train", **options)
    full = load_corpus("nlm-gene", "train", corpora_dir=str(corpora_dir))
    assert len(validation) == 45 and len(train) == 405
    assert {e["id"] for e in validation} | {e["id"] for e in train} == {e["id"] for e in full}
    assert not {e["id"] for e in validation} & {e["id"] for e in train}
    assert [e["id"] for e in load_corpus("nlm-gene", "validation", **options)] == [e["id"] for e in validation]


def test_load_corpus_returns_copies_and_label_map_overrides(corpora_dir):
    first = load_corpus("ncbi-disease", "test", corpora_dir=str(corpora_dir))
    first[0]["entities"].clear()
    assert load_corpus("ncbi-disease", "test", corpora_dir=str(corpora_dir))[0]["entities"]
    without_modifiers = load_corpus("ncbi-disease", "test", label_map={"Modifier": None}, corpora_dir=str(corpora_dir))
    assert sum(len(e["entities"]) for e in first[1:]) + len(load_corpus("ncbi-disease", "test", corpora_dir=str(corpora_dir))[0]["entities"]) == 960
    assert sum(len(e["entities"]) for e in without_modifiers) == 960 - 264
    renamed = load_corpus("bc5cdr", "test", label_map={"Chemical": "drug"}, corpora_dir=str(corpora_dir))
    assert {x["label"] for e in renamed for x in e["entities"]} == {"drug", "disease"}


def test_unknown_type_in_label_map_is_a_clear_error():
    document = SourceDocument("d1", "Aspirin works.", (SourceEntity(0, 7, "Drug", "Aspirin"),))
    with pytest.raises(CorpusFormatError, match="'Drug' has no entry in the label map"):
        document_examples(document, "d1", {"Chemical": "chemical"}, "document", IssueLog())


def test_label_maps_cover_every_corpus_type(document_builds):
    for name, build in document_builds.items():
        types = {t for d in build.splits.values() for t in d.stats.mentions_by_type}
        assert types <= set(load_label_map(name)), name
        assert all(label and label == label.lower() for label in load_label_map(name).values())
