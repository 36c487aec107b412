"""`synth propagate`: mined names typed wherever else they occur, when the vocabulary says their
mined types agree. The texts are written for these tests in the shape `synth corpus-texts` and
`synth ground` leave; the real-corpus run is in test_synth_patterns.py (end to end)."""

from __future__ import annotations

import json

import pytest

from gliner_biomed.io_records import InputError
from gliner_biomed.synth import cli as synth_cli
from gliner_biomed.synth.propagate import PropagateConfig, propagate_file

TEXTS = {
    "t1": "K562, a human leukemic cell line, and interleukin-6, an inflammatory cytokine, were studied.",
    "t2": "Src, a tyrosine kinase, binds STAT3; the transcription factor STAT3 is active in activity assays.",
    "t3": "Src, a cell line, and activity, a protein, were mined by mistake.",
    "t4": "K562 cells secreted interleukin-6; IL-6R and interleukin-6-induced genes, K562sub and Src were measured.",
    "t5": "No name of the lexicon here.",
    "t6": "K562 again, and K562 once more.",
}


def _mined_entity(text, mention, label, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(mention, start + 1)
    return {"start": start, "end": start + len(mention), "label": label, "mention": mention}


MINED = {
    "t1": [("K562", "human leukemic cell line"), ("interleukin-6", "inflammatory cytokine")],
    "t2": [("Src", "tyrosine kinase"), ("STAT3", "transcription factor")],
    "t3": [("Src", "cell line"), ("activity", "protein")],
}


def write_inputs(tmp_path, texts=TEXTS, mined=MINED):
    texts_path, mined_path = tmp_path / "texts.jsonl", tmp_path / "mined.jsonl"
    texts_path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()))
    mined_path.write_text("".join(json.dumps({"id": i, "text": texts[i], "entities": [_mined_entity(texts[i], m, l) for m, l in entities]}) + "\n"
                                  for i, entities in mined.items()))
    return mined_path, texts_path


def read(path):
    return {record["id"]: record for record in map(json.loads, path.read_text().splitlines())}


def mentions(record):
    return [(e["mention"], e["label"]) for e in record["entities"]]


def test_agreeing_names_are_typed_elsewhere_and_conflicting_or_lowercase_ones_are_not(tmp_path):
    mined, texts = write_inputs(tmp_path)
    out = tmp_path / "out.jsonl"
    report = propagate_file(PropagateConfig(mined, texts, out, progress=False))
    records = read(out)
    for record in records.values():
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["mention"]
    # t4: K562 by its mined label (head "cell line"), interleukin-6 as a cytokine; not IL-6R, not
    # interleukin-6-induced (a hyphenated compound), not K562sub; Src is a kinase in t2 and a cell line
    # in t3: conflicting, so never propagated
    assert mentions(records["t4"]) == [("K562", "human leukemic cell line"), ("interleukin-6", "inflammatory cytokine")]
    assert records["t4"]["annotator"]["propagated"] == 2
    # mined mentions are kept as they were; a lowercase name ("activity") is not propagated by default
    assert mentions(records["t3"]) == [("Src", "cell line"), ("activity", "protein")]
    assert mentions(records["t2"]) == [("Src", "tyrosine kinase"), ("STAT3", "transcription factor"), ("STAT3", "transcription factor")]
    assert "t5" not in records and mentions(records["t6"]) == [("K562", "human leukemic cell line")] * 2
    counts = report["counts"]
    assert counts["names_conflicting"] == 1 and counts["names_lowercase"] == 1 and counts["names_propagated"] == 3
    assert counts["mentions_mined"] == 6 and counts["mentions_propagated"] == 5 and counts["texts_with_propagated_only"] == 2
    assert report["propagated_by_group"] == {"cell line": 3, "transcription factor": 1, "cytokine": 1}
    assert json.loads((tmp_path / "out.jsonl.report.json").read_text()) == report

    capped = propagate_file(PropagateConfig(mined, texts, tmp_path / "capped.jsonl", max_per_name=1, lowercase_names=True, progress=False))
    records = read(tmp_path / "capped.jsonl")
    assert capped["counts"]["matches_over_max_per_name"] == 2 and "t6" not in records  # K562 only once, in t4
    assert ("activity", "protein") in mentions(records["t2"])  # lowercase names on request


def test_bad_input_is_refused_with_the_file_and_record_named(tmp_path):
    mined, texts = write_inputs(tmp_path)
    changed = dict(TEXTS, t2=TEXTS["t2"].replace("binds", "bound"))
    texts.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in changed.items()))
    with pytest.raises(InputError, match="text 't2' differs"):
        propagate_file(PropagateConfig(mined, texts, tmp_path / "out.jsonl", progress=False))
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written

    partial = {i: t for i, t in TEXTS.items() if i != "t3"}
    texts.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in partial.items()))
    with pytest.raises(InputError, match="texts of .*mined.jsonl are not in it \\(first: 't3'\\)"):
        propagate_file(PropagateConfig(mined, texts, tmp_path / "out.jsonl", progress=False))
    assert not (tmp_path / "out.jsonl").exists()

    mined2, texts2 = write_inputs(tmp_path, mined={"t3": [("Src", "mechanism whereby")]})
    with pytest.raises(InputError, match="nothing to propagate"):
        propagate_file(PropagateConfig(mined2, texts2, tmp_path / "out.jsonl", progress=False))
    with pytest.raises(ValueError, match="min_agreement"):
        PropagateConfig(mined, texts, tmp_path / "out.jsonl", min_agreement=0.5)


def test_cli_prints_counts_and_names_bad_arguments(tmp_path, capsys):
    mined, texts = write_inputs(tmp_path)
    out = tmp_path / "out.jsonl"
    assert synth_cli.main(["synth", "propagate", "--mined", str(mined), "--texts", str(texts), "--out", str(out), "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out.splitlines()[0])
    assert printed["counts"]["mentions_propagated"] == 5
    assert synth_cli.main(["synth", "propagate", "--mined", str(mined), "--texts", str(texts), "--out", str(out), "--max-per-name", "0"]) == 2
    assert "max_per_name" in capsys.readouterr().err


def test_extend_types_a_cell_line_named_with_its_cells_too(tmp_path, capsys):
    """--extend 'cell line=cells,cell': "K562 cells" is a cell line beside "K562" (mined or
    propagated), never over another mention; without it the output is unchanged."""
    mined, texts = write_inputs(tmp_path)
    plain = propagate_file(PropagateConfig(mined, texts, tmp_path / "plain.jsonl", progress=False))
    report = propagate_file(PropagateConfig(mined, texts, tmp_path / "out.jsonl", extend=(("cell line", ("cells", "cell")),), progress=False))
    records = read(tmp_path / "out.jsonl")
    assert mentions(records["t4"]) == [("K562", "human leukemic cell line"), ("K562 cells", "human leukemic cell line"),
                                       ("interleukin-6", "inflammatory cytokine")]
    assert {i: r for i, r in read(tmp_path / "plain.jsonl").items() if i != "t4"} == {i: r for i, r in records.items() if i != "t4"}
    for record in records.values():
        assert all(record["text"][e["start"]:e["end"]] == e["mention"] for e in record["entities"])
    assert report["counts"]["mentions_extended"] == 1 and "mentions_extended" not in plain["counts"]
    assert report["counts"]["mentions_mined"] == plain["counts"]["mentions_mined"] and report["config"]["extend"] == {"cell line": ["cells", "cell"]}
    # mined too, and never over another mention: "HeLa cell" where "cell" is mined is left alone
    texts2 = {"u1": "HeLa, a cervical cancer cell line, and HeLa cells.", "u2": "HeLa cell biology, HeLa cells-derived, HeLa cellsX."}
    (tmp_path / "second").mkdir()
    mined2, texts_path2 = write_inputs(tmp_path / "second", texts=texts2, mined={"u1": [("HeLa", "cervical cancer cell line")]})
    propagate_file(PropagateConfig(mined2, texts_path2, tmp_path / "out2.jsonl", extend=(("cell line", ("cells", "cell")),), progress=False))
    records = read(tmp_path / "out2.jsonl")
    assert [m for m, _ in mentions(records["u1"])] == ["HeLa", "HeLa", "HeLa cells"]
    assert [m for m, _ in mentions(records["u2"])] == ["HeLa", "HeLa cell", "HeLa", "HeLa"]  # not "cells-derived", not "cellsX"
    assert synth_cli.main(["synth", "propagate", "--mined", str(mined), "--texts", str(texts), "--out", str(tmp_path / "cli.jsonl"),
                           "--no-progress", "--extend", "cell line=cells,cell"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["counts"]["mentions_extended"] == 1
    for bad, message in [("cell line", "expected GROUP=WORD"), ("no such group=cells", "not a group or phrasing"), ("cell line=two words", "single words")]:
        assert synth_cli.main(["synth", "propagate", "--mined", str(mined), "--texts", str(texts), "--out", str(tmp_path / "bad.jsonl"),
                               "--no-progress", "--extend", bad]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "bad.jsonl").exists()
