"""The unseen-type suite (gliner_biomed/suites/unseen-types.yaml) keeps its promise: its corpora are
held out of training and its label phrasings are absent from the training type vocabulary."""

import pytest

from gliner_biomed.dataset_builders.corpora import CORPORA
from gliner_biomed.dataset_builders.type_vocabulary import load_type_vocabulary
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
    """Every phrase the model reads in this suite (a prompt, or the label where no prompt is given:
    Chia's own names) is one that training never shows."""
    vocabulary = load_type_vocabulary()
    read = {(dataset.name, phrase) for dataset in suite.datasets
            for phrase in (dataset.label_prompts or {label: label for label in dataset.labels()}).values()}
    assert len(read) == 8 + 8 + 1 + 6
    seen = sorted((name, phrase) for name, phrase in read if vocabulary.contains_phrase(phrase))
    assert not seen, f"phrasings of the unseen-type suite that training reads: {seen}"
    # The check can fail: the corpora's own names for the paraphrased datasets are training phrasings.
    assert all(vocabulary.contains_phrase(label) for name in PARAPHRASED[1:] for label in suite_dataset(suite, name).labels())


def suite_dataset(suite, name):
    return next(dataset for dataset in suite.datasets if dataset.name == name)
