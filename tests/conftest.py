"""Corpora for the tests.

`corpora_dir` is the folder of whole corpora (the first of $GLINER_BIOMED_CORPORA, ../shared/corpora,
the download cache that exists). A test that reads whole corpora says which with
``@pytest.mark.corpus("ncbi-disease", ...)`` (or ``"all"``): without them it is skipped with one line
naming the missing corpora, except in CI (``CI=true``, where ../shared is beside the checkout), where
that is a failure, so CI never silently runs less. Tests that can run on a few real documents read
the committed fixtures of tests/data/corpora (`fixture_corpora_dir`) and run everywhere.
"""

import os
from pathlib import Path

import pytest

from model_factory import FIXTURE_CORPORA

from gliner_biomed.dataset_builders.sources import DOWNLOADS, CorpusNotFound, candidate_dirs, resolve_corpus_dir


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _absent(reason: str):
    if in_ci():
        pytest.fail(f"{reason} (CI=true: CI must run every corpus test)", pytrace=False)
    pytest.skip(reason)


def _missing_corpora(names):
    wanted = list(DOWNLOADS) if "all" in names else list(names)
    missing = []
    for name in wanted:
        if name not in DOWNLOADS:
            raise pytest.UsageError(f"@pytest.mark.corpus: unknown corpus {name!r}; known: {', '.join(DOWNLOADS)}, all")
        try:
            resolve_corpus_dir(name)
        except CorpusNotFound:
            missing.append(name)
    return missing


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items if "corpora_dir" in getattr(item, "fixturenames", ()) and item.get_closest_marker("corpus") is None]
    if unmarked:
        raise pytest.UsageError("tests that use corpora_dir must say which corpora with @pytest.mark.corpus(...): " + ", ".join(unmarked))


def pytest_runtest_setup(item):
    names = [name for marker in item.iter_markers("corpus") for name in marker.args]
    missing = _missing_corpora(names) if names else []
    if missing:
        _absent(f"corpus {', '.join(missing)} absent (fetch: gliner-biomed datasets download {missing[0] if len(missing) == 1 else 'all'})")


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    for folder in candidate_dirs():
        if folder.is_dir():
            return folder
    _absent(f"no corpora folder (looked in {', '.join(map(str, candidate_dirs()))})")


@pytest.fixture(scope="session")
def fixture_corpora_dir() -> Path:
    return FIXTURE_CORPORA
