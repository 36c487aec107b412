"""The unseen-type suite (gliner_biomed/suites/unseen-types.yaml) keeps its promise: its corpora are
held out of training and its label phrasings are absent from the training type vocabulary."""

import pytest

from gliner_biomed.dataset_builders.corpora import CORPORA
from gliner_biomed.evaluation.suites import load_suite

PARAPHRASED = ["chia-paraphrased", "ncbi-disease-paraphrased", "biored-paraphrased"]


@pytest.fixture(scope="module")
def suite():
    return load_suite("unseen-types")


def test_suite_is_leave_corpus_out_and_tunes_on_validation_only(suite):
    assert [d.name for d in suite.datasets] == ["chia"] + PARAPHRASED
    assert all(d.split == "test" and d.validation_split == "validation" for d in suite.datasets)
    assert CORPORA["chia"].evaluation_only  # the trainer refuses it (test_dataset_chia.py)
    in_domain = {d.corpus for d in load_suite("in-domain").datasets}
    assert not {d.corpus for d in suite.datasets} & in_domain


def test_paraphrased_datasets_prompt_every_label_with_another_phrase(suite):
    for dataset in suite.datasets:
        if dataset.name in PARAPHRASED:
            prompts = dataset.model_labels()
            assert set(prompts) == set(dataset.labels()), dataset.name
            assert all(prompt.casefold() != label.casefold() for label, prompt in prompts.items()), dataset.name


def test_suite_phrasings_are_absent_from_the_training_vocabulary(suite):
    type_vocabulary = pytest.importorskip(
        "gliner_biomed.dataset_builders.type_vocabulary",
        reason="needs the type vocabulary of issue 13 part A (dataset_builders/type_vocabulary.py, branch i13vocab)",
    )
    vocabulary = type_vocabulary.load_type_vocabulary()
    seen = {(dataset.name, prompt) for dataset in suite.datasets if dataset.label_prompts
            for prompt in dataset.label_prompts.values() if vocabulary.contains_phrase(prompt)}
    assert not seen, f"phrasings of the unseen-type suite that training reads: {sorted(seen)}"
