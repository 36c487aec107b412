"""Corpora for the tests.

`corpora_dir` is the folder of whole corpora (the first of $GLINER_BIOMED_CORPORA, ../shared/corpora,
the download cache that exists). A test that reads whole corpora says which with
``@pytest.mark.corpus("ncbi-disease", ...)`` (or ``"all"``): without them it is skipped with one line
naming the missing corpora, except in CI (``CI=true``, where ../shared is beside the checkout), where
that is a failure, so CI never silently runs less. Tests that can run on a few real documents read
the committed fixtures (`fixture_corpora_dir`: NCBI-disease whole; tests/data/corpus-samples) and run everywhere.

The default run is spread over two pytest-xdist workers (pyproject.toml addopts); each worker and the
processes it starts use one thread, so two workers fill two cores without oversubscribing them. A test
file runs whole on one worker (``--dist loadfile``: its module fixtures are built once), and the
longest files are handed out first (LONGEST_FILES), so that no worker is left alone with one at the end.
"""

import os
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Set before torch is imported, and inherited by the subprocesses the tests start.
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)

import pytest

from model_factory import FIXTURE_CORPORA

from gliner_biomed.dataset_builders import sources
from gliner_biomed.dataset_builders.sources import DOWNLOADS, CorpusNotFound, resolve_corpus_dir

# The committed NCBI-disease (byte-identical to the upstream files, checksums in sources.py) is the
# last place the tests look for it, so tests of NCBI-disease run in any clone. Only whole corpora
# live in tests/data/corpora; samples are in tests/data/corpus-samples.
_searched_without_fixtures = sources.candidate_dirs
sources.candidate_dirs = lambda: _searched_without_fixtures() + [FIXTURE_CORPORA]


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


# The longest test files, longest first: seconds on one worker, from `python -m pytest -n 1
# --durations=0` (sum per file) on 2 cores. pytest-xdist hands out files in collection order
# (--no-loadscope-reorder in addopts; its own order is by test count, which put the long files with
# few tests last and left one worker running them alone). Other files follow in their usual order.
LONGEST_FILES = {
    "test_modeling_behaviour.py": 100,
    "test_modeling_parity.py": 75,
    "test_huggingface.py": 60,
    "test_onnx_runtime.py": 55,
    "test_publish.py": 52,
    "test_attention_per_text.py": 41,
    "test_modeling_fast_paths.py": 39,
    "test_train_loop.py": 33,
    "test_dataset_export.py": 26,
    "test_dataset_corpora.py": 24,
    "test_train_default_model.py": 23,
    "test_predict_scale_out.py": 18,
}


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: -LONGEST_FILES.get(item.path.name, 0))  # stable: a file keeps its order
    unmarked = [item.nodeid for item in items if "corpora_dir" in getattr(item, "fixturenames", ()) and item.get_closest_marker("corpus") is None]
    if unmarked:
        raise pytest.UsageError("tests that use corpora_dir must say which corpora with @pytest.mark.corpus(...): " + ", ".join(unmarked))


def pytest_runtest_setup(item):
    names = [name for marker in item.iter_markers("corpus") for name in marker.args]
    missing = _missing_corpora(names) if names else []
    if missing:
        _absent(f"corpus {', '.join(missing)} absent (fetch: gliner-biomed datasets download {missing[0] if len(missing) == 1 else 'all'})")


@pytest.fixture(scope="session", autouse=True)
def assembled_models_cache(tmp_path_factory) -> Path:
    """Models assembled from adapter packages are cached in a temporary folder, not the user's
    Hugging Face cache (set in the environment, so the CLI subprocesses use it too)."""
    from gliner_biomed.assembled_cache import CACHE_DIR_ENV

    folder = tmp_path_factory.mktemp("gliner-biomed-cache")
    previous = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = previous


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    for folder in _searched_without_fixtures():
        if folder.is_dir():
            return folder
    _absent(f"no corpora folder (looked in {', '.join(map(str, _searched_without_fixtures()))})")


@pytest.fixture(scope="session")
def fixture_corpora_dir() -> Path:
    return FIXTURE_CORPORA


@pytest.fixture
def without_fixture_corpora(monkeypatch):
    """The search of a real installation, without the committed NCBI-disease."""
    monkeypatch.setattr(sources, "candidate_dirs", _searched_without_fixtures)
