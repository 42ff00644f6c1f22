"""The workbook notebooks (notebooks/*.ipynb) under papermill.

Each notebook runs for two sample trusts with ``interactive=False`` (the batch
path) and once with ``interactive=True`` (the widget path), as issue 6 asks; the
executed outputs are then checked: no errors, no planted personal details, no
respondent identifiers, golden answers, alt text for every figure, headings in
order, figures surviving offline HTML export. Runs are cached per session so
every check reuses the same 15 executions (about 6-10 s each on 2 cores).

``pytest --nbval-lax`` (the project's default options) separately executes
every notebook with its defaults and compares the golden cells. The notebooks as
files (parameters, what git stores, the strip filter) are checked, fast, in
``test_notebook_hygiene.py``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, SAMPLE_DIR

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NB_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = {
    "00_workshop": ("ZA1", "ZA5"),
    "01_what_matters": ("ZA1", "ZA4"),
    "02_define": ("ZA2", "ZA4"),
    "03_test_and_measure": ("ZA1", "ZA3"),
    "04_spread_and_sustain": ("ZA3", "ZA4"),
}
RUNS = [(nb, t, False) for nb, trusts in NOTEBOOKS.items() for t in trusts] + [
    (nb, "ZA1", True) for nb in NOTEBOOKS
]
PLANTED_PII = (
    "07700 900461",
    "943 476 5919",
    "9434765919",
    "jo.patient@example.com",
    "Okonjo",
    "Castellano",
)
RESPONDENT_ID = re.compile(r"\b[PR]\d{6,7}\b")

TIMEOUT = 120  # seconds a cell may run; papermill does not always raise when one times out
_CACHE: dict[tuple, dict] = {}


def _ids(run) -> str:
    nb, trust, interactive = run
    return f"{nb}-{trust}-{'interactive' if interactive else 'batch'}"


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebook-runs")


def execute(run, run_dir: Path) -> dict:
    """Execute one (notebook, trust, interactive) run once per session; return what it made."""
    if run in _CACHE:
        return _CACHE[run]
    import papermill as pm

    nb, trust, interactive = run
    out_dir = run_dir / _ids(run)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_nb = out_dir / f"{nb}.ipynb"
    params = {
        "trust_code": trust,
        "data_dir": str(SAMPLE_DIR),
        "output_dir": str(out_dir / "output"),
        "interactive": interactive,
    }
    error = None
    start = time.perf_counter()
    for attempt in range(2):  # a kernel that dies or a ZMQ port clash is retried once
        try:
            pm.execute_notebook(
                str(NB_DIR / f"{nb}.ipynb"),
                str(out_nb),
                parameters=params,
                kernel_name="pxlib",
                cwd=str(NB_DIR),
                progress_bar=False,
                execution_timeout=TIMEOUT,
                start_timeout=120,
            )
            error = None
            break
        except pm.PapermillExecutionError as exc:  # a failing cell: do not retry
            error = f"{exc.ename}: {exc.evalue}"
            break
        except Exception as exc:  # kernel start problems
            error = f"{type(exc).__name__}: {exc}"
            if attempt:
                break
    seconds = time.perf_counter() - start
    result = {"path": out_nb, "output_dir": out_dir / "output", "error": error, "seconds": seconds}
    _CACHE[run] = result
    return result


def _outputs_text(nb) -> str:
    """Every output of an executed notebook as one string (JSON of the outputs)."""
    return json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])


# --- executions ------------------------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS, ids=_ids)
def test_notebook_executes(run, run_dir):
    res = execute(run, run_dir)
    assert res["error"] is None, res["error"]
    assert res["seconds"] < TIMEOUT - 10, f"{_ids(run)} took {res['seconds']:.0f} s: a cell hung"
    nb = nbformat.read(res["path"], as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    results = json.loads((res["output_dir"] / f"{run[0]}.results.json").read_text())
    assert results["results"], "no key results recorded for the batch index"
    if run[0] in ("03_test_and_measure", "04_spread_and_sustain"):
        for rec in results["results"]:
            assert {"unit", "latest_value", "verdict", "variation_type", "assurance_type"} <= set(
                rec
            )


@pytest.mark.parametrize("run", RUNS, ids=_ids)
def test_outputs_hold_no_personal_details(run, run_dir):
    res = execute(run, run_dir)
    texts = [res["path"].read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in res["output_dir"].glob("*") if p.is_file()]
    for text in texts:
        for s in PLANTED_PII:
            assert s not in text, f"{_ids(run)}: '{s}' found in the outputs"
        nb_text = text
        assert not RESPONDENT_ID.search(nb_text), (
            f"{_ids(run)}: a respondent or response id was shown"
        )


def test_golden_answers_for_other_trusts(run_dir):
    res = execute(("03_test_and_measure", "ZA3", False), run_dir)
    nb = nbformat.read(res["path"], as_version=4)
    golden = next(c for c in nb.cells if "keep_output" in c.metadata.get("tags", []))
    assert "Oak Ward: reliable" in golden.outputs[0]["text"]
    results = json.loads((res["output_dir"] / "03_test_and_measure.results.json").read_text())
    by_unit = {r["unit"]: r for r in results["results"]}
    assert by_unit["Oak Ward"]["verdict"] == "reliable"
    assert by_unit["Pine Ward"]["verdict"] == "not yet reliable"


def test_small_numbers_drawn_as_labelled_gaps(run_dir):
    res = execute(("03_test_and_measure", "ZA1", False), run_dir)
    small = execute(("04_spread_and_sustain", "ZA4", False), run_dir)
    text = small["path"].read_text(encoding="utf-8")
    assert "fewer than 10 answers: not shown" in text  # Birch Unit's small weeks
    assert res["error"] is None


@pytest.mark.parametrize("run", [r for r in RUNS if not r[2]], ids=_ids)
def test_every_figure_has_alt_text_and_headings_are_in_order(run, run_dir):
    res = execute(run, run_dir)
    nb = nbformat.read(res["path"], as_version=4)
    figures = alts = 0
    levels = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            levels += [len(m.group(1)) for m in re.finditer(r"^(#{1,6}) ", cell.source, flags=re.M)]
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            figures += "application/vnd.plotly.v1+json" in data
            alts += "pxlib-alt" in str(data.get("text/html", ""))
            levels += [
                len(m.group(1))
                for m in re.finditer(r"^(#{1,6}) ", str(data.get("text/markdown", "")), flags=re.M)
            ]
    assert figures > 0
    assert alts >= figures, f"{figures} figures but {alts} descriptions"
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels


@pytest.mark.parametrize("name", ["01_what_matters", "03_test_and_measure"])
def test_figures_survive_offline_html_export(name, run_dir):
    from pxlib.report.export import ReportExporter, external_loads

    res = execute((name, NOTEBOOKS[name][0], False), run_dir)
    nb = nbformat.read(res["path"], as_version=4)
    n_figs = sum(
        "application/vnd.plotly.v1+json" in o.get("data", {})
        for c in nb.cells
        for o in c.get("outputs", [])
    )
    html = ReportExporter(plotlyjs="directory").export(nb, title=name)
    assert html.count("Plotly.newPlot(") == n_figs > 0
    assert external_loads(html) == []
    assert "About this chart:" in html
    for s in PLANTED_PII:
        assert s not in html


def test_refresh_golden_reproduces_the_committed_golden_cell(tmp_path):
    """Re-running a notebook's defaults gives the golden output that is committed."""
    from pxlib.workbook.nbtools import refresh_golden

    # a copy elsewhere: its empty data_dir still means the project's data/sample
    nb = nbformat.read(NB_DIR / "03_test_and_measure.ipynb", as_version=4)
    committed = next(c for c in nb.cells if "keep_output" in c.metadata.get("tags", []))
    committed_text = committed.outputs[0]["text"]
    for cell in nb.cells:
        if "keep_output" in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None
    target = tmp_path / "03_test_and_measure.ipynb"
    nbformat.write(nb, target)
    refresh_golden(target)
    fresh = nbformat.read(target, as_version=4)
    golden = next(c for c in fresh.cells if "keep_output" in c.metadata.get("tags", []))
    assert golden.outputs[0]["text"] == committed_text
    assert golden.execution_count == 1
    others = [c for c in fresh.cells if c is not golden and c.cell_type == "code"]
    assert all(not c.get("outputs") for c in others)


@pytest.mark.parametrize("name", ["00_workshop", "03_test_and_measure"])
def test_run_all_and_save_in_jupyterlab_leaves_what_git_stores_unchanged(name):
    """Run All with the defaults and save: the git filter gives back the committed file."""
    from nbclient import NotebookClient

    from pxlib.workbook.nbtools import strip_text

    committed = (NB_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(committed, as_version=4)
    # as JupyterLab runs it: in notebooks/, with the defaults (as nbval does)
    client = NotebookClient(
        nb, kernel_name="pxlib", timeout=TIMEOUT, resources={"metadata": {"path": str(NB_DIR)}}
    )
    client.execute()
    saved = nbformat.writes(nb) + "\n"  # as JupyterLab writes it
    assert saved != committed
    assert strip_text(saved) == committed


def test_insight_notebook_runs_for_an_organisation_without_local_survey(run_dir):
    """A GP practice has GP Patient Survey results but no local survey answers yet."""
    res = execute(("01_what_matters", "Z80001", False), run_dir)
    assert res["error"] is None, res["error"]
    nb = nbformat.read(res["path"], as_version=4)
    assert "No answers to the local survey yet." in _outputs_text(nb)


def test_insight_notebook_shows_the_national_files_with_their_caveats(run_dir):
    """Notebook 01 reads the sample's national/ folder: FFT trend and funnels (with NHS
    England's caveat against comparing providers), GPPS across the 2024 break, staff scores,
    and says what to download for the surveys the folder lacks (NCPES, CQC)."""
    res = execute(("01_what_matters", "ZA4", False), run_dir)
    assert res["error"] is None, res["error"]
    text = _outputs_text(nbformat.read(res["path"], as_version=4))
    for heading in (
        "### Friends and Family Test: ward by ward, month by month",
        "### Friends and Family Test: the trusts of the ICB (funnel)",
        "### GP Patient Survey: the trust's catchment practices",
        "### NHS Staff Survey: People Promise",
    ):
        assert heading in text, heading
    assert "cannot be used to compare providers directly" in text
    assert "2024 onwards are a new series" in text
    assert "No National Cancer Patient Experience Survey trust results" in text
    assert "https://www.cqc.org.uk/" in text
    assert "adjusted for who its patients are" in text  # the case-mix funnel of its wards
