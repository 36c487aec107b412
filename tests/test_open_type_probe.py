"""The open-type probe of issue 13 (gliner_biomed/evaluation/open_type_probe.yaml) on the shipped
default model: the test records what today's model finds, which is exactly the issue's table.

When a default model that understands types ships, replace the body of
``test_todays_default_model_meets_no_expectation`` by ``assert all(all(r.met) for r in results)``
(every expectation met: STAT3 and interleukin-6 as protein, HeLa as cell line, ...)."""

import pytest

from gliner_biomed.evaluation.probe import load_probe, probe_table, run_probe
from gliner_biomed.models import load_model


@pytest.fixture(scope="module")
def results():
    return run_probe(load_model(None))


def found(result):
    return [(entity["text"], entity["label"]) for entity in result.predictions]


def test_todays_default_model_meets_no_expectation(results):
    by_name = {result.case.name: result for result in results}
    assert [result.hits for result in results] == [0, 0, 0, 0, 0]
    assert found(by_name["stat3-protein"]) == []
    assert found(by_name["stat3-molecular-and-cell-types"]) == [("mice", "species")]
    assert found(by_name["stat3-fine-types"]) == []
    clinical = by_name["clinical-adverse-event"]
    assert ("HbA1c", "drug") in found(clinical) and not any(label == "adverse event" for _, label in found(clinical))
    assert [round(e["score"], 2) for e in clinical.predictions if e["text"] == "HbA1c"] == [0.85]
    readme = by_name["readme-first-command"]
    assert ("tamoxifen", "gene or gene product") in found(readme)
    assert [round(e["score"], 2) for e in readme.predictions if e["text"] == "tamoxifen"] == [0.84]
    table = probe_table(results)
    assert "| stat3-protein | protein | nothing | no: STAT3 as protein, no: interleukin-6 as protein |" in table


def test_probe_scoring_counts_a_met_expectation(tmp_path):
    class Echo:
        """Finds exactly one entity: 'STAT3' as protein."""

        def predict_entities(self, text, labels, threshold=0.5):
            start = text.find("STAT3")
            return [{"start": start, "end": start + 5, "text": "STAT3", "label": "protein", "score": 0.9}] if start >= 0 else []

    by_name = {result.case.name: result for result in run_probe(Echo())}
    assert by_name["stat3-protein"].met == [True, False]
    assert by_name["stat3-fine-types"].met == [False, False]


@pytest.mark.parametrize("expect, message", [
    ("{mention: [STAT4], label: protein}", r"cases\[0\] \('one'\).*missing: \['STAT4'\]"),
    ("{mention: [STAT3], label: gene}", r"cases\[0\] \('one'\).*label 'gene' is not one of"),
])
def test_bad_probe_cases_are_refused(tmp_path, expect, message):
    path = tmp_path / "probe.yaml"
    path.write_text(f"cases:\n  - name: one\n    text: STAT3 binds DNA.\n    labels: [protein]\n    expect:\n      - {expect}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_probe(path)
