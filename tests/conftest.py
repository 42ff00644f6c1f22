"""Shared test fixtures.

Tests that compare with the reference implementations read
``../shared/reference/`` beside the repository. A user's fresh clone does not
have it, so those tests skip with a reason that says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# Notebooks the tests execute themselves (with parameters); nbval runs only notebooks/.
collect_ignore_glob = ["notebooks_fixtures/*", "**/*.ipynb"]


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
