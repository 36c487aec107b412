"""The `patterns` annotator backend: each pattern on sentences written for it (and on the
sentences that would fool a careless one), grounding of its answers on real abstracts with
exact offsets, the per-pattern report (a pattern that matches nothing says so), held-out type
phrasings withheld, and the CLI run end to end with no LLM and no network."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import pytest

from gliner_biomed.dataset_builders.readers import read_pubtator
from gliner_biomed.synth import cli as synth_cli
from gliner_biomed.synth.grounding import ground_mentions
from gliner_biomed.synth.labels import LabelNormaliser
from gliner_biomed.synth.parsing import parse_llm_output
from gliner_biomed.synth.patterns import PATTERNS, PatternBackend, WithheldTypes, matches_as_answer, mine, pattern_report


def found(text, pattern):
    return [(match.type, [text[start:end] for start, end in match.mentions]) for match in mine(text, [pattern])]


@pytest.mark.parametrize("pattern, text, expected", [
    ("such_as", "We studied anticancer drugs such as methotrexate (MTX), cisplatin and 5-fluorouracil in mice.",
     [("anticancer drug", ["methotrexate", "MTX", "cisplatin", "5-fluorouracil"])]),
    ("such_as", "Elevated atherosclerotic parameters, such as serum calcium, total cholesterol and low-density lipoprotein were seen.",
     [("atherosclerotic parameter", ["serum calcium", "total cholesterol", "low-density lipoprotein"])]),
    ("such_as", "release of cytokine antagonists such as interleukin - 1 receptor antagonist ( IL - 1ra ) .",  # IOB text
     [("cytokine antagonist", ["interleukin - 1 receptor antagonist", "IL - 1ra"])]),
    ("including", "Several cytokines, including IL-6 and TNF-alpha, were induced.", [("cytokine", ["IL-6", "TNF-alpha"])]),
    ("especially", "It is toxic to neurons, especially Purkinje cells.", [("neuron", ["Purkinje cells"])]),
    ("eg", "Mice were given analgesics (e.g., aspirin, ibuprofen) daily.", [("analgesic", ["aspirin", "ibuprofen"])]),
    ("like", "Heavy metals like cadmium and lead were measured.", [("metal", ["cadmium", "lead"])]),
    ("and_other", "Cocaine, heroin and other opioids were detected.", [("opioid", ["Cocaine", "heroin"])]),
    ("apposition", "PAS1, a yeast gene required for peroxisome biogenesis, was cloned.", [("yeast gene", ["PAS1"])]),
    ("apposition", "clone encoding oryzacystatin ( Oc ) , a cysteine proteinase inhibitor ( cystatin )",
     [("cysteine proteinase inhibitor", ["oryzacystatin", "Oc"])]),
    ("apposition", "STAT3, a member of the signal transducer family, binds DNA.", [("signal transducer family", ["STAT3"])]),
    ("parenthetical", "Lithium (a mood stabilizer) causes tremor.", [("mood stabilizer", ["Lithium"])]),
    ("copula", "Tamoxifen is an antiestrogen that blocks the receptor.", [("antiestrogen", ["Tamoxifen"])]),
    ("copula", "Metformin (MET) is a biguanide.", [("biguanide", ["Metformin", "MET"])]),
    ("copula", "SOX9 is thought to be a master regulator.", [("master regulator", ["SOX9"])]),
    ("known_as", "We cloned a novel gene, termed FOO1, from yeast.", [("gene", ["FOO1"])]),
    # sentence boundaries: an initial before a capital ends a sentence, "E. coli" does not; "?" ends one
    ("copula", "It binds replication factor C. Replication factor C is a multisubunit complex.",
     [("multisubunit complex", ["Replication factor C"])]),
    ("copula", "E. coli is a bacterium that lives in the gut.", [("bacterium", ["E. coli"])]),
    ("copula", "Is it epidermolysis bullosa? Recessive epidermolysis bullosa (RDEB) is a skin disorder.",
     [("skin disorder", ["Recessive epidermolysis bullosa", "RDEB"])]),
    ("type_before_name", "The transcription factor STAT3 binds the c-fos promoter.", [("transcription factor", ["STAT3"])]),
    ("type_before_name", "In the T cell line Jurkat , the cytokine IL - 6 was induced.", [("cytokine", ["IL - 6"])]),
    ("type_before_name", "Mice were infected with the bacterium Escherichia coli.", [("bacterium", ["Escherichia coli"])]),
    ("cell_line", "We used the human erythroleukemia cell line K562 and the HeLa cell line.",
     [("cell line", ["K562"]), ("cell line", ["HeLa"])]),
    ("cell_line", "MCF - 7 cell lines were treated.", [("cell line", ["MCF - 7"])]),
])
def test_each_pattern_extracts_its_mentions_and_type(pattern, text, expected):
    assert found(text, pattern) == expected


@pytest.mark.parametrize("text", [
    "In this study, a total of 50 patients were enrolled.",  # "a total of": no type
    "This is a novel finding.",  # no mention before the copula
    "It is a yeast Ras protein.",  # the type phrase runs into a name: not "yeast"
    "The cells looked like fibroblasts.",  # a verb, not a plural type, before "like"
    "effects of lithium, such as polyuria and tremor",  # "lithium" is no plural hypernym
    "Similarly, a decrease was seen.",  # an adverb is no mention, "decrease" no type
    "drugs such as alpha beta gamma delta epsilon zeta eta theta were given",  # a name cut at 6 chunks is no mention
    "the protein kinase C pathway was activated",  # a name followed by ordinary words names nothing
    "the human IL-6 and the mutant p53 and the two HLA alleles",  # modifiers and numerals are no types
    "the intracellular ICAM-1 level",  # an adjective is no type
    "CD4+ T cell lines and Tumor cell lines and HCC cell lines and the cell line RNA",  # kinds of cells, a sentence's first word, a molecule
])
def test_obvious_false_positives_are_not_mined(text):
    assert mine(text) == []


def test_unknown_pattern_names_fail_before_any_text():
    with pytest.raises(ValueError, match="unknown patterns \\['such_like'\\]"):
        PatternBackend(["such_as", "such_like"])


@pytest.mark.corpus("bc5cdr")
def test_answers_ground_with_exact_offsets_on_real_abstracts(corpora_dir):
    normaliser = LabelNormaliser({})
    grounded = proposed = 0
    for document in islice(read_pubtator(corpora_dir / "pubtator" / "BC5CDR_TrainDev.PubTator"), 120):
        text = document.text
        parsed = parse_llm_output(matches_as_answer(text, mine(text)))
        assert parsed.status == "json"
        result = ground_mentions(text, parsed.mentions, normaliser)
        proposed += result.counts["proposed"]
        grounded += result.counts["grounded"]
        for entity in result.entities:
            assert text[entity["start"]:entity["end"]] == entity["mention"]
    assert proposed >= 20  # 120 real abstracts give the patterns something to do
    assert grounded == proposed  # offsets are given and word-aligned: nothing is lost in grounding


def test_withheld_types_are_counted_not_grounded():
    text = "Several cytokines, including IL-6 and TNF-alpha, and anticancer drugs such as cisplatin were given."
    answer = json.loads(matches_as_answer(text, mine(text), WithheldTypes(["cytokine", "drug"])))
    assert answer["entities"] == []
    assert {(e["text"], e["label"]) for e in answer["withheld"]} == {("IL-6", "cytokine"), ("TNF-alpha", "cytokine"),
                                                                    ("cisplatin", "anticancer drug")}
    assert parse_llm_output(json.dumps(answer)).mentions == []
    report = pattern_report([json.dumps(answer)])
    assert report["including"] == {"texts": 0, "entities": 0, "withheld": 2}
    assert report["such_as"]["withheld"] == 1


def test_cli_runs_without_llm_reports_every_pattern_and_resumes(tmp_path, capsys, monkeypatch):
    import httpx

    def no_network(*args, **kwargs):
        raise AssertionError("the patterns backend must not open a connection")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": f"t{i}", "text": text}) + "\n" for i, text in enumerate([
        "Several chemokines, including CCL2 and CXCL10, were induced.",
        "Tamoxifen is an antiestrogen.",
        "No pattern here at all.",
    ])), encoding="utf-8")
    out = tmp_path / "ann.jsonl"
    argv = ["annotate", "--backend", "patterns", "--withhold-types", "none", "--input", str(texts), "--out", str(out), "--no-progress"]
    assert synth_cli.main(["synth", *argv]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["completed"] == 3 and set(summary["patterns"]) == set(PATTERNS)
    assert summary["patterns"]["including"] == {"texts": 1, "entities": 2, "withheld": 0}
    assert summary["patterns"]["copula"] == {"texts": 1, "entities": 1, "withheld": 0}
    silent = sorted(name for name, counts in summary["patterns"].items() if counts["entities"] == 0)
    for name in silent:
        assert f"pattern {name!r} matched nothing in the 3 texts of {out}" in captured.err
    assert "such_as" in silent and "including" not in silent
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [record["labels"] for record in records] == [[], [], []]  # open labels: ground keeps them

    before = out.read_bytes()
    assert synth_cli.main(["synth", *argv]) == 0  # a re-run adds nothing and changes nothing
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["already_done"] == 3
    assert out.read_bytes() == before

    grounded = tmp_path / "grounded.jsonl"
    assert synth_cli.main(["synth", "ground", "--annotations", str(out), "--out", str(grounded), "--drop-empty", "--no-progress"]) == 0
    examples = [json.loads(line) for line in grounded.read_text().splitlines()]
    assert [example["id"] for example in examples] == ["t0", "t1"]  # t2 had no entity: left out, and counted
    assert json.loads((tmp_path / "grounded.jsonl.report.json").read_text())["texts"]["dropped_empty"] == 1
    assert {(e["mention"], e["label"]) for ex in examples for e in ex["entities"]} == {
        ("CCL2", "chemokine"), ("CXCL10", "chemokine"), ("Tamoxifen", "antiestrogen")}


def test_llm_backends_still_need_a_model(tmp_path, capsys):
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
    assert synth_cli.main(["synth", "annotate", "--input", str(texts), "--out", str(tmp_path / "o.jsonl"), "--base-url", "http://x"]) == 2
    assert "--backend openai needs --model" in capsys.readouterr().err


def test_corpus_texts_refuses_test_splits(tmp_path, capsys):
    out = tmp_path / "texts.jsonl"
    assert synth_cli.main(["synth", "corpus-texts", "--corpora", "bc5cdr:train", "bc5cdr:test", "--out", str(out)]) == 2
    assert "'bc5cdr:test': test splits are for evaluation only" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.corpus("bionlp09")
def test_real_sentences_end_to_end_with_quality_figures(tmp_path, capsys):
    """corpus-texts -> annotate --backend patterns -> ground -> the quality script, on the
    BioNLP09 validation sentences (never training text for this check)."""
    import importlib.util

    from gliner_biomed.dataset_builders import load_corpus
    from gliner_biomed.synth.corpus_texts import split_text_id

    texts, ann, grounded = tmp_path / "texts.jsonl", tmp_path / "ann.jsonl", tmp_path / "grounded.jsonl"
    assert synth_cli.main(["synth", "corpus-texts", "--corpora", "bionlp09:validation", "--out", str(texts), "--no-progress"]) == 0
    gold = {example["document_id"]: example["text"] for example in load_corpus("bionlp09", "validation", level="document")}
    records = [json.loads(line) for line in texts.read_text().splitlines()]
    assert len(records) == len(gold)
    assert all(gold[split_text_id(r["id"])[2]] == r["text"] for r in records)
    assert synth_cli.main(["synth", "annotate", "--backend", "patterns", "--input", str(texts), "--out", str(ann), "--no-progress"]) == 0
    assert synth_cli.main(["synth", "ground", "--annotations", str(ann), "--out", str(grounded), "--drop-empty", "--no-progress"]) == 0
    capsys.readouterr()
    examples = [json.loads(line) for line in grounded.read_text().splitlines()]
    assert len(examples) >= 20
    for example in examples:
        assert example["entities"]
        for entity in example["entities"]:
            assert example["text"][entity["start"]:entity["end"]] == entity["mention"]

    # propagation over the same texts keeps every mined entity and every offset
    propagated = tmp_path / "propagated.jsonl"
    assert synth_cli.main(["synth", "propagate", "--mined", str(grounded), "--texts", str(texts), "--out", str(propagated), "--no-progress"]) == 0
    counts = json.loads(capsys.readouterr().out.splitlines()[0])["counts"]
    spread = {r["id"]: r for r in map(json.loads, propagated.read_text().splitlines())}
    for example in examples:
        assert all(entity in spread[example["id"]]["entities"] for entity in example["entities"])
    for record in spread.values():
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["mention"]
    assert counts["mentions_mined"] == sum(len(example["entities"]) for example in examples)
    assert counts["mentions_propagated"] == sum(r["annotator"]["propagated"] for r in spread.values()) > 0

    spec = importlib.util.spec_from_file_location("synth_patterns_quality", Path(__file__).resolve().parents[1] / "benchmarks" / "synth_patterns_quality.py")
    quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quality)
    report = quality.measure(grounded, ann)
    assert report["entities"] == sum(len(example["entities"]) for example in examples)
    assert report["distinct_types"] == len({e["label"] for example in examples for e in example["entities"]})
    judged = report["compatible_as_written_else_head"]
    assert judged["judged"] + judged["unknown_to_vocabulary"] == report["overlapping_gold"]["entities"]
    assert judged["judged"] >= 10 and judged["rate"] >= 0.6  # BioNLP09 proteins typed by their own sentences


def test_unseen_suite_withholding_keeps_the_suite_phrases_out_and_lets_other_types_in():
    """--withhold-types unseen-suite: what the unseen-types suite reads stays out of the mined corpus
    (Chia's "drug" and every type headed by it), other held-out names of the vocabulary may be mined."""
    from gliner_biomed.evaluation.suites import load_suite, phrases_read

    text = "Several cytokines, including IL-6 and TNF-alpha, and anticancer drugs such as cisplatin were given."
    withheld = WithheldTypes(phrases_read(load_suite("unseen-types")))
    answer = json.loads(matches_as_answer(text, mine(text), withheld))
    assert {(e["text"], e["label"]) for e in answer["entities"]} == {("IL-6", "cytokine"), ("TNF-alpha", "cytokine")}
    assert {(e["text"], e["label"]) for e in answer["withheld"]} == {("cisplatin", "anticancer drug")}
