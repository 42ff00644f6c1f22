"""The workbook notebooks as files: parameters, what git stores, the strip filter, default paths.

Fast (no kernel): part of ``make test``. A notebook opened, run and saved in
JupyterLab keeps its outputs on disk; git stores it through the ``pxlib-strip``
clean filter (``.gitattributes``, installed by ``make setup``), so these tests
check the notebook as git stores it: stripped. The executions are in
``test_notebooks.py`` (slow).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, SAMPLE_DIR

from pxlib.workbook import nbtools

NB_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(p.stem for p in NB_DIR.glob("*.ipynb"))
REQUIRED_PARAMS = {
    "trust_code": "str",
    "data_dir": "str",
    "output_dir": "str",
    "interactive": "bool",
}
#: what a golden cell prints on the sample with the notebook's defaults
GOLDEN = {
    "00_workshop": ("ZA1 Ash Ward: improving", "ZA3 Oak Ward: reliable"),
    "03_test_and_measure": ("Ash Ward: improving",),
}
#: words about tests, nbval or the batch machinery that no report shows
NOT_FOR_READERS = (
    "checked automatically",
    "golden",
    "nbval",
    "batch",
    "written for",
    "must read",
)


def _stored(name: str) -> dict:
    """The notebook as git stores it (through the strip filter)."""
    text = (NB_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    return json.loads(nbtools.strip_text(text))


def _golden_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if nbtools.KEEP_TAG in c["metadata"].get("tags", [])]


def test_the_workbook_has_its_five_notebooks():
    assert NOTEBOOKS == [
        "00_workshop",
        "01_what_matters",
        "02_define",
        "03_test_and_measure",
        "04_spread_and_sustain",
    ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_are_documented(name):
    import papermill as pm

    params = pm.inspect_notebook(str(NB_DIR / f"{name}.ipynb"))
    for pname, ptype in REQUIRED_PARAMS.items():
        assert pname in params, f"{name}: no parameter {pname}"
        assert params[pname]["inferred_type_name"] == ptype
    # empty: the project's data/sample and build/notebook-output, wherever the notebook runs
    assert params["data_dir"]["default"] == '""'
    assert params["output_dir"]["default"] == '""'
    assert params["interactive"]["default"] == "True"
    for pname, spec in params.items():
        assert spec["help"], f"{name}: parameter {pname} has no help text"
        assert spec["inferred_type_name"] != "None", f"{name}: parameter {pname} has no type"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_resolve_their_folders_before_using_them(name):
    nb = _stored(name)
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    first_use = next(i for i, s in enumerate(code) if "load_data_dir(data_dir" in s)
    assert "data_dir, output_dir = resolve_dirs(data_dir, output_dir)" in code[first_use]
    assert not any("../" in s for s in code), f"{name}: a path relative to notebooks/"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_what_git_stores_has_no_outputs_except_golden_cells(name):
    nb = _stored(name)
    assert nbtools.problems(nb) == []
    assert nb["metadata"]["kernelspec"]["name"] == "pxlib"
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    golden = _golden_cells(nb)
    for cell in golden:
        assert nbtools.CHECK_TAG in cell["metadata"]["tags"]
    if name in GOLDEN:
        assert golden, f"{name}: its golden cell lost its tag"
        text = "".join(golden[0]["outputs"][0]["text"])
        for line in GOLDEN[name]:
            assert line in text, f"{name}: golden output lost: {line!r} not in {text!r}"
        assert golden[0]["execution_count"] == 1  # nbval skips a cell without one


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_test_or_batch_wording_reaches_a_reader(name):
    """Markdown cells and the text code cells display are for ward teams, not developers."""
    nb = _stored(name)
    shown = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            shown.append(source)
        elif "parameters" not in cell["metadata"].get("tags", []):
            # strings a code cell displays (wd.md, print, titles); comments are hidden in reports
            shown += [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(shown).lower()
    for words in NOT_FOR_READERS:
        assert words not in text, f"{name}: '{words}' shown to readers"


def _as_saved_after_a_run(nb: dict) -> dict:
    """What JupyterLab saves after Run All: outputs, counts, widget state, view metadata."""
    nb = copy.deepcopy(nb)
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            cell["metadata"]["jp-MarkdownHeadingCollapsed"] = True
            continue
        count += 1
        cell["execution_count"] = count + 10
        cell["metadata"]["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
        cell["metadata"]["scrolled"] = True
        if nbtools.KEEP_TAG in cell["metadata"].get("tags", []):
            text = "".join(cell["outputs"][0]["text"])
            lines = text.splitlines(True)
            cell["outputs"] = [
                {"name": "stdout", "output_type": "stream", "text": [line]} for line in lines
            ]
        else:
            cell["outputs"] = [
                {
                    "data": {"text/plain": ["Ash Ward 07700 900461"]},
                    "execution_count": count + 10,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            ]
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb["metadata"]["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "name": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11.2",
    }
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_saved_after_a_run_is_stored_as_committed(name):
    stored = nbtools.dumps(_stored(name))
    saved = nbtools.dumps(_as_saved_after_a_run(json.loads(stored)))
    assert saved != stored
    assert nbtools.strip_text(saved) == stored
    assert "07700" not in nbtools.strip_text(saved)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stripping_writes_what_nbformat_writes(name):
    import nbformat

    text = (NB_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    stripped = nbtools.strip_text(text)
    assert nbtools.strip_text(stripped) == stripped  # idempotent
    assert nbformat.writes(nbformat.reads(stripped, as_version=4)) + "\n" == stripped


def test_the_git_filter_strips_from_stdin_to_stdout():
    name = "03_test_and_measure"
    stored = nbtools.dumps(_stored(name))
    saved = nbtools.dumps(_as_saved_after_a_run(json.loads(stored)))
    done = subprocess.run(
        [sys.executable, "-m", "pxlib.workbook.nbtools", "strip"],
        input=saved.encode("utf-8"),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == stored
    broken = subprocess.run(
        [sys.executable, "-m", "pxlib.workbook.nbtools", "strip"],
        input=b"{not json",
        capture_output=True,
        timeout=60,
    )
    assert broken.returncode == 1 and b"pxlib-strip" in broken.stderr


def test_gitattributes_and_make_setup_use_the_filter():
    attributes = (REPO_ROOT / ".gitattributes").read_text()
    assert f"notebooks/*.ipynb filter={nbtools.GIT_FILTER}" in attributes
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "-m pxlib.workbook.nbtools install-filter" in makefile


def test_install_filter_writes_the_git_config_only_in_a_checkout(tmp_path, monkeypatch):
    calls = []

    class Done:
        stdout = ""

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return Done()

    monkeypatch.setattr(nbtools.subprocess, "run", fake_run)
    monkeypatch.setattr(nbtools.shutil, "which", lambda name: "/usr/bin/git")
    assert "not a git checkout" in nbtools.install_git_filter(tmp_path)
    assert calls == []
    (tmp_path / ".git").mkdir()
    assert "installed" in nbtools.install_git_filter(tmp_path, python="/venv/bin/python")
    assert calls[-1] == [
        "/usr/bin/git",
        "config",
        "--local",
        "filter.pxlib-strip.clean",
        '"/venv/bin/python" -m pxlib.workbook.nbtools strip',
    ]


def test_empty_paths_are_the_projects_wherever_the_notebook_runs(tmp_path, monkeypatch):
    for cwd in (tmp_path, REPO_ROOT, NB_DIR):
        monkeypatch.chdir(cwd)
        data_dir, output_dir = nbtools.resolve_dirs("", "")
        assert data_dir == SAMPLE_DIR
        assert output_dir == REPO_ROOT / "build" / "notebook-output"


def test_relative_paths_are_read_from_the_working_directory_first(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    monkeypatch.chdir(tmp_path)
    assert nbtools.resolve_data_dir("mine") == tmp_path / "mine"
    assert nbtools.resolve_data_dir("data/sample") == SAMPLE_DIR  # the project's
    assert nbtools.resolve_data_dir("../data/sample") == SAMPLE_DIR  # the old default
    assert nbtools.resolve_data_dir("nowhere") == tmp_path / "nowhere"  # the loader says so
    assert nbtools.resolve_data_dir(str(tmp_path)) == tmp_path
    assert nbtools.resolve_output_dir("out") == tmp_path / "out"
