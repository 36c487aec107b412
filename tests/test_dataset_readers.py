"""Readers on the real corpora (PubTator, CoNLL) and on hand-written files mirroring the published
specs (brat standoff, BioC XML, GLiNER JSON, span JSONL), including every kind of bad input."""

from collections import Counter
import json

import pytest

from gliner_biomed.dataset_builders.readers import (
    ReadOptions,
    read_bioc_xml,
    read_brat,
    read_conll,
    read_gliner_json,
    read_pubtator,
    read_span_jsonl,
    write_gliner_json,
)
from gliner_biomed.dataset_builders.records import CorpusFormatError
from gliner_biomed.dataset_builders.report import IssueLog

from pathlib import Path

DATA = Path(__file__).parent / "data" / "datasets"
REPAIR = ReadOptions(repair_offsets=True)


def raw_pubtator_type_counts(path):
    """Independent count: annotation lines (5+ tab fields, numeric offsets) per type column."""
    counts = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 5 and fields[1].isdigit():
            counts[fields[4]] += 1
    return counts


def raw_iob_type_counts(path):
    """Independent count: B- tags per type (plus I- tags that open a chunk, none in these files)."""
    counts, previous = Counter(), "O"
    for line in path.read_text(encoding="utf-8").splitlines():
        tag = line.split("\t")[-1] if line.strip() else "O"
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            counts[tag[2:]] += 1
        previous = tag
    return counts


def assert_offsets(documents):
    for document in documents:
        for entity in document.entities:
            assert document.text[entity.start:entity.end] == entity.mention, (document.document_id, entity)


@pytest.mark.corpus("ncbi-disease", "bc5cdr", "biored", "nlm-gene", "gnormplus", "tmvar3")
@pytest.mark.parametrize("file_name", [
    "NCBIdisease_Train", "NCBIdisease_Dev", "NCBIdisease_Test", "BC5CDR_TrainDev", "BC5CDR_Test",
    "BioRED_TrainDev", "BioRED_Test", "NLMgene_Train", "NLMgene_Test", "GNormPlus_Train", "GNormPlus_Test",
    "tmVar3_Train", "tmVar3_Test",
])
def test_pubtator_real_files_counts_and_offsets(corpora_dir, file_name):
    path = corpora_dir / "pubtator" / f"{file_name}.PubTator"
    log = IssueLog()
    documents = list(read_pubtator(path, REPAIR, log))
    titles = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if "|t|" in line[:30])
    assert len(documents) == titles
    assert Counter(e.type for d in documents for e in d.entities) == raw_pubtator_type_counts(path)
    assert_offsets(documents)
    assert not log.of_kind("record_skipped")
    for document in documents:  # offsets are over title + " " + abstract
        (title_start, title_end), (abstract_start, abstract_end) = document.passages
        assert document.text[title_end] == " " and abstract_start == title_end + 1 and abstract_end == len(document.text)


def test_pubtator_strict_mode_names_file_and_line_of_a_real_mismatch(fixture_corpora_dir):
    path = fixture_corpora_dir / "pubtator" / "NCBIdisease_Train.PubTator"
    with pytest.raises(CorpusFormatError) as error:
        list(read_pubtator(path))  # no repair: the padded mention on line 3249 must fail
    assert "NCBIdisease_Train.PubTator" in str(error.value) and "line 3249" in str(error.value)


@pytest.mark.corpus("tmvar3")
def test_pubtator_repairs_are_logged_with_old_and_new_offsets(corpora_dir):
    log = IssueLog()
    documents = list(read_pubtator(corpora_dir / "pubtator" / "tmVar3_Train.PubTator", REPAIR, log))
    repairs = log.of_kind("mention_repaired")
    assert len(repairs) == 21 and all("21904390" in issue.where for issue in repairs)
    document = next(d for d in documents if d.document_id == "21904390")
    assert any(e.mention == "PAX6" and document.text[e.start:e.end] == "PAX6" for e in document.entities)


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


GOOD_DOC = "1|t|Aspirin and fever.\n1|a|Fever went down.\n1\t0\t7\tAspirin\tChemical\n1\t12\t17\tfever\tDisease\n\n"


@pytest.mark.parametrize("bad_line, message", [
    ("1\t0\tAspirin\tChemical", "malformed annotation line"),
    ("1\t0\t99\tAspirin\tChemical", "outside the text"),
    ("1\t0\t7\tAspiriN\tChemical", "does not match"),
    ("1\t8\t8\tx\tChemical", "outside the text"),
])
def test_pubtator_bad_lines_fail_with_file_and_line_or_are_skipped_and_counted(tmp_path, bad_line, message):
    path = write(tmp_path, "bad.PubTator", GOOD_DOC.replace("\n\n", f"\n{bad_line}\n\n"))
    with pytest.raises(CorpusFormatError, match=message) as error:
        list(read_pubtator(path))
    assert f"{path}, line 5" in str(error.value)
    log = IssueLog()
    documents = list(read_pubtator(path, ReadOptions(lenient=True), log))
    assert [e.mention for e in documents[0].entities] == ["Aspirin", "fever"]
    assert [issue.kind for issue in log.issues] == ["record_skipped"] and "line 5" in log.issues[0].where


def test_pubtator_truncated_file_is_an_error(tmp_path):
    path = write(tmp_path, "cut.PubTator", GOOD_DOC + "2|t|A title without its abstract")
    with pytest.raises(CorpusFormatError, match="truncated"):
        list(read_pubtator(path))
    path = write(tmp_path, "cut2.PubTator", GOOD_DOC + "2|t|Title\n2|a|Abstract\n2\t0\t")
    with pytest.raises(CorpusFormatError, match="line 8"):
        list(read_pubtator(path))


@pytest.mark.corpus("bc2gm", "anatem", "craft", "bionlp13cg", "bionlp13pc", "bionlp11id", "bionlp09")
@pytest.mark.parametrize("folder", ["BC2GM-IOB", "AnatEM-IOB", "CRAFT-IOB", "BioNLP13CG-IOB", "BioNLP13PC-IOB", "BioNLP11ID-IOB", "BioNLP09-IOB"])
def test_conll_real_files_counts_and_offsets(corpora_dir, folder):
    for split in ("train", "devel", "test"):
        path = corpora_dir / "iob" / folder / f"{split}.tsv"
        log = IssueLog()
        documents = list(read_conll(path, log=log))
        assert Counter(e.type for d in documents for e in d.entities) == raw_iob_type_counts(path)
        assert_offsets(documents)
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(documents) == sum(1 for a, b in zip([""] + lines, lines) if not a.strip() and b.strip())
        assert not log.issues  # these files have no broken tag sequences


@pytest.mark.corpus("bc2gm")
def test_conll_text_is_tokens_joined_by_single_spaces(corpora_dir):
    path = corpora_dir / "iob" / "BC2GM-IOB" / "train.tsv"
    first = next(read_conll(path, document_prefix="train-"))
    tokens = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            break
        tokens.append(line.split("\t")[0])
    assert first.text == " ".join(tokens) and first.document_id == "train-00000"
    assert [e.mention for e in first.entities] == ["S - 100", "HMB - 45", "cytokeratin"]


def test_conll_broken_sequences_follow_conlleval_and_are_counted():
    from seqeval.metrics.sequence_labeling import get_entities  # conlleval's chunk rules, independently coded

    path = DATA / "conll" / "broken_iob.tsv"
    log = IssueLog()
    documents = list(read_conll(path, log=log))
    for document, sentence in zip(documents, path.read_text().split("\n\n")):
        rows = [line.split("\t") for line in sentence.strip().splitlines()]
        tokens, tags = [r[0] for r in rows], [r[1] for r in rows]
        expected = [(kind, " ".join(tokens[s:e + 1])) for kind, s, e in get_entities(tags)]
        assert sorted((e.type, e.mention) for e in document.entities) == sorted(expected)
    assert len(log.of_kind("broken_tag_sequence")) == 3
    assert {issue.where.rsplit("line ", 1)[1] for issue in log.issues} == {"3", "7", "11"}


def test_conll_iobes_and_bilou():
    log = IssueLog()
    documents = list(read_conll(DATA / "conll" / "iobes.tsv", log=log))
    assert [(e.type, e.mention) for e in documents[0].entities] == [
        ("Disease", "tumor necrosis factor"), ("Gene", "p53"), ("Gene", "BRCA1 protein")]
    assert [(e.type, e.mention) for e in documents[1].entities] == [
        ("Gene", "BRCA2"), ("Disease", "breast cancer"), ("Disease", "risk")]
    assert len(log.of_kind("broken_tag_sequence")) == 1  # E- right after a closed chunk


def test_conll_bad_tag_and_missing_column(tmp_path):
    path = write(tmp_path, "bad.tsv", "a\tO\nb\tX-GENE\n")
    with pytest.raises(CorpusFormatError, match=r"line 2.*not O or"):
        list(read_conll(path))
    path = write(tmp_path, "bad2.tsv", "a\tO\nlonely\n")
    with pytest.raises(CorpusFormatError, match="line 2"):
        list(read_conll(path))
    log = IssueLog()
    documents = list(read_conll(path, ReadOptions(lenient=True), log))
    assert documents[0].text == "a" and log.counts()["record_skipped"] == 1


def test_brat_standoff_with_discontinuous_mention():
    log = IssueLog()
    documents = list(read_brat(DATA / "brat", log=log))
    assert [d.document_id for d in documents] == ["doc1", "doc2"]
    doc1 = documents[0]
    assert_offsets(documents)
    by_type = Counter(e.type for e in doc1.entities)
    assert by_type == {"Gene": 3, "Disease": 2, "Mutation": 1}  # R/E/A/N/# lines are not mentions
    discontinuous = [e for e in doc1.entities if e.fragments]
    assert len(discontinuous) == 1
    entity = discontinuous[0]
    assert " ".join(doc1.text[s:e] for s, e in entity.fragments) == "breast cancer"
    assert entity.mention == "breast and ovarian cancer"  # kept as its covering extent
    assert len(log.of_kind("discontinuous_mention")) == 1


def test_brat_bad_offsets_and_mismatch(tmp_path):
    write(tmp_path, "d.txt", "Aspirin reduces fever.")
    write(tmp_path, "d.ann", "T1\tChemical 0 7\tAspirin\nT2\tDisease 16 99\tfever\n")
    with pytest.raises(CorpusFormatError, match=r"d.ann, line 2.*outside the text"):
        list(read_brat(tmp_path))
    write(tmp_path, "d.ann", "T1\tChemical 0 7\tAspirin\nT2\tDisease 0 3;16 21\tAsp fevers\n")
    with pytest.raises(CorpusFormatError, match=r"line 2.*does not match fragment text"):
        list(read_brat(tmp_path))
    (tmp_path / "d.txt").unlink()
    with pytest.raises(CorpusFormatError, match="text file missing"):
        list(read_brat(tmp_path))


def test_brat_fragments_listed_out_of_text_order(tmp_path):
    """Chia lists a discontinuous mention's fragments in the mention's reading order."""
    write(tmp_path, "d.txt", "medical or psychiatric illness")
    write(tmp_path, "d.ann", "T1\tCondition 23 30;0 7\tillness medical\n")
    log = IssueLog()
    (document,) = read_brat(tmp_path, log=log)
    (entity,) = document.entities
    assert (entity.start, entity.end, entity.mention) == (0, 30, "medical or psychiatric illness")
    assert entity.fragments == ((0, 7), (23, 30))
    assert "listed out of text order" in log.of_kind("discontinuous_mention")[0].detail
    write(tmp_path, "d.ann", "T1\tCondition 11 30;0 14\tpsychiatric illness medical or ps\n")
    with pytest.raises(CorpusFormatError, match=r"line 1.*overlapping"):
        list(read_brat(tmp_path))


def test_known_bad_records_are_skipped_and_counted_others_still_fail(tmp_path):
    write(tmp_path, "d.txt", "Aspirin reduces fever.")
    write(tmp_path, "d.ann", "T1\tChemical 0 7\tAspirin\nT2\tDisease 16 21\tchills\n")
    log = IssueLog()
    (document,) = read_brat(tmp_path, ReadOptions(known_bad_records=frozenset({("d.ann", 2)})), log)
    assert [e.mention for e in document.entities] == ["Aspirin"]
    (skipped,) = log.of_kind("record_skipped")
    assert "d.ann, line 2" in skipped.where and "chills" in skipped.detail
    with pytest.raises(CorpusFormatError, match=r"d.ann, line 2"):
        list(read_brat(tmp_path, ReadOptions(known_bad_records=frozenset({("d.ann", 1)}))))


def test_bioc_xml_collection():
    log = IssueLog()
    documents = list(read_bioc_xml(DATA / "bioc" / "collection.xml", log=log))
    assert [d.document_id for d in documents] == ["1001", "1002"]
    first = documents[0]
    assert first.text == "BRCA1 mutations in breast cancer. Breast and ovarian cancer patients carried BRCA1 variants."
    assert_offsets(documents)
    assert [(e.type, e.mention) for e in first.entities if not e.fragments] == [
        ("Gene", "BRCA1"), ("Disease", "breast cancer"), ("Disease", "ovarian cancer"), ("Gene", "BRCA1")]
    (discontinuous,) = [e for e in first.entities if e.fragments]
    assert discontinuous.fragments == ((34, 40), (53, 59)) and len(log.of_kind("discontinuous_mention")) == 1
    assert [(e.type, e.mention) for e in documents[1].entities] == [("Chemical", "Aspirin")]  # sentence-level annotation


def test_bioc_truncated_and_bad_offsets(tmp_path):
    content = (DATA / "bioc" / "collection.xml").read_text()
    path = write(tmp_path, "cut.xml", content[: len(content) // 2])
    with pytest.raises(CorpusFormatError, match=r"cut.xml, line \d+.*truncated"):
        list(read_bioc_xml(path))
    path = write(tmp_path, "bad.xml", content.replace('offset="77" length="5"', 'offset="78" length="5"'))
    with pytest.raises(CorpusFormatError, match=r"document 1001 annotation T5.*does not match"):
        list(read_bioc_xml(path))


def test_gliner_json_reads_pile_ner_style_and_round_trips(tmp_path):
    source = DATA / "gliner" / "pile_ner_sample.json"
    documents = list(read_gliner_json(source))
    assert documents[1].text.startswith("Imatinib inhibits BCR-ABL tyrosine kinase")
    assert [(e.type, e.mention) for e in documents[1].entities] == [
        ("drug", "Imatinib"), ("protein", "BCR-ABL tyrosine kinase"), ("disease", "chronic myeloid leukemia"), ("gene", "BCR-ABL")]
    from gliner_biomed.dataset_builders.examples import document_examples

    examples = [document_examples(d, d.document_id, {t: t for t in ("person", "organization", "location", "drug", "protein", "disease", "gene")}, "document", IssueLog())[0] for d in documents]
    out = tmp_path / "round.json"
    assert write_gliner_json(examples, out) == 3
    original = json.loads(source.read_text())
    written = json.loads(out.read_text())
    assert [r["tokenized_text"] for r in written] == [r["tokenized_text"] for r in original]
    assert [sorted(map(tuple, r["ner"])) for r in written] == [sorted(map(tuple, r["ner"])) for r in original]


def test_gliner_json_bad_span_names_the_record(tmp_path):
    path = write(tmp_path, "bad.json", json.dumps([{"tokenized_text": ["a", "b"], "ner": [[0, 5, "x"]]}]))
    with pytest.raises(CorpusFormatError, match=r"bad.json, document record 0.*bad ner span"):
        list(read_gliner_json(path))
    path = write(tmp_path, "cut.json", '[{"tokenized_text": ["a"], "ner"')
    with pytest.raises(CorpusFormatError, match="truncated"):
        list(read_gliner_json(path))


def test_span_jsonl_entities_are_authoritative():
    log = IssueLog()
    documents = list(read_span_jsonl(DATA / "synthetic" / "train.jsonl", log=log))
    assert [d.document_id for d in documents] == ["syn-0", "syn-1", "syn-2"]
    assert_offsets(documents)
    disagreements = log.of_kind("ner_disagrees_with_entities")
    assert len(disagreements) == 1 and "syn-2" in disagreements[0].where


def test_span_jsonl_bad_mention_names_line(tmp_path):
    record = {"id": "x", "text": "Aspirin works.", "entities": [{"start": 0, "end": 7, "label": "chemical", "mention": "aspirin!"}]}
    path = write(tmp_path, "s.jsonl", json.dumps({**record, "entities": []}) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(CorpusFormatError, match=r"s.jsonl, line 2, document x: mention 'aspirin!'"):
        list(read_span_jsonl(path))
