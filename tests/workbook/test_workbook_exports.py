"""Every name the notebooks call as ``steps.<name>``, ``wd.<name>`` (the display module)
or ``drivers.<name>`` is importable there, whichever module computes it."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

from pxlib.workbook import display, drivers, steps

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
MODULES = {"steps": steps, "wd": display, "drivers": drivers}
CALL = re.compile(r"\b(steps|wd|drivers)\.([A-Za-z_]\w*)")


def called(path: Path) -> set[tuple[str, str]]:
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return set(CALL.findall(code))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_name_a_notebook_calls_exists(path):
    names = called(path)
    missing = [f"{m}.{n}" for m, n in sorted(names) if not hasattr(MODULES[m], n)]
    assert not missing, f"{path.name} calls names its modules lack: {missing}"


def test_the_notebooks_call_the_workbook_modules():
    names = set().union(*(called(p) for p in NOTEBOOKS))
    assert {("steps", "reliability"), ("wd", "spc_view"), ("drivers", "driver_figure")} <= names


def test_public_names_of_the_steps_package_are_listed():
    assert sorted(steps.__all__) == sorted(
        n
        for n in vars(steps)
        if not n.startswith("_") and not isinstance(vars(steps)[n], type(steps))
    )
