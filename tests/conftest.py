"""Shared test fixtures, and which tests are slow.

Tests that compare with the reference implementations read
``../shared/reference/`` beside the repository. A user's fresh clone does not
have it, so those tests skip with a reason that says so.

Tests that start Jupyter kernels, batches of reports or a browser are marked
``slow`` here, by file (:data:`SLOW_FILES`), by test (:data:`SLOW_TESTS`) and for
nbval's notebook cells: ``make test`` (``pytest -m "not slow"``) leaves them out,
``make test-all`` (``pytest``) runs everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO_ROOT / "tests"
#: test inputs kept with the tests (labelled comments, R survey cases)
FIXTURES_DIR = TESTS_DIR / "fixtures"
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# Notebooks the tests execute themselves (with parameters); nbval runs only notebooks/.
collect_ignore_glob = ["notebooks_fixtures/*", "**/*.ipynb"]

#: test files that run notebooks in kernels, whole batches or a browser
#: (tests/test_environment.py fails for a file doing so that is neither listed nor marked)
SLOW_FILES = frozenset(
    {
        "test_notebooks.py",
        "test_batch.py",
        "test_batch_dask.py",
        "test_figures_notebook.py",
        "test_hostile_reports.py",
        "test_browser_index.py",
    }
)
#: single slow tests in otherwise fast files ("file::test")
SLOW_TESTS = frozenset(
    {
        "test_planted_truths.py::test_the_batch_results_json_reads_the_planted_truths",
    }
)


def is_slow(path: Path, name: str) -> bool:
    """Whether the test ``name`` in ``path`` is slow (a notebook cell under nbval is)."""
    return (
        path.suffix == ".ipynb" or path.name in SLOW_FILES or f"{path.name}::{name}" in SLOW_TESTS
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_slow(Path(item.path), getattr(item, "originalname", item.name)):
            item.add_marker(pytest.mark.slow)


def require_reference(*parts: str) -> Path:
    """Path to a reference file or folder, skipping the test where it is absent."""
    path = REFERENCE_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"reference outputs not found at {path}: they ship beside the repository "
            "in ../shared/reference (CI has them; a fresh clone does not)"
        )
    return path


@pytest.fixture
def reference_dir() -> Path:
    return require_reference()


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE_DIR
