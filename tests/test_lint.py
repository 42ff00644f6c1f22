"""ruff over the whole project, so `pytest` alone (conda, Windows) checks the code style too."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO_ROOT)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
