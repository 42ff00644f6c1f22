"""One kernel serves many reports (pxlib.report.kernel_state): nothing of one report,
above all no record of one organisation, reaches the next.

A probe notebook runs for three organisations on one worker, so one kernel makes all
three reports (the same process id is the positive control). Each report leaves behind
what a careless notebook could: a global holding its records, an environment variable, a
pandas option, a warning filter, another working directory. The next report must find a
kernel as new: none of them, and its own organisation's records only. With
``fresh_kernels`` every report has its own process."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from batch_helpers import make_data

from pxlib.report import run_batch

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

PARAMETERS = """trust_code: str = "ZZ1"  # organisation code
data_dir: str = "."  # this organisation's staged inputs
output_dir: str = "."  # where results go
interactive: bool = True  # the batch sets False"""

LOOK = """import json
import os
import warnings
from pathlib import Path

import pandas as pd

print("PROBE " + json.dumps({
    "pid": os.getpid(),
    "left_over": sorted(k for k in globals() if k.startswith("records_of_")),
    "env": os.environ.get("PXLIB_PROBE"),
    "max_rows": pd.get_option("display.max_rows"),
    "filters": len(warnings.filters),
    "cwd": os.getcwd(),
}))"""

LEAVE = """responses = pd.read_csv(Path(data_dir) / "responses.csv", dtype=str, keep_default_na=False)
globals()["records_of_" + trust_code] = responses
os.environ["PXLIB_PROBE"] = trust_code
pd.set_option("display.max_rows", 3)
warnings.simplefilter("ignore")
os.chdir(data_dir)
print("ORGS " + json.dumps(sorted(set(responses["org_code"]))))"""


def _probe_notebooks(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(LOOK), nbformat.v4.new_code_cell(LEAVE)]
    nb.metadata["kernelspec"] = {"name": "pxlib", "display_name": "pxlib", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "01_probe.ipynb")
    return folder


def _printed(path: Path, tag: str):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in str(out.get("text", "")).splitlines():
                if line.startswith(tag + " "):
                    return json.loads(line[len(tag) + 1 :])
    raise AssertionError(f"{path}: nothing printed as {tag}")


def _run(tmp_path: Path, fresh: bool) -> dict:
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    frame = run_batch(
        data,
        out,
        trusts=["ZZ1", "010", "ZZ3"],
        workers=1,
        notebooks_dir=_probe_notebooks(tmp_path / "nb"),
        progress=False,
        fresh_kernels=fresh,
    )
    assert set(frame["status"]) == {"ok"}, frame[["trust_code", "status", "error"]]
    return {
        code: (
            _printed(out / code / "01_probe.ipynb", "PROBE"),
            _printed(out / code / "01_probe.ipynb", "ORGS"),
        )
        for code in frame["trust_code"]
    }


def test_a_reused_kernel_is_as_new_for_every_organisation(tmp_path):
    runs = _run(tmp_path, fresh=False)
    probes = [p for p, _ in runs.values()]
    assert len({p["pid"] for p in probes}) == 1, "one worker: one kernel for all three reports"
    first = probes[0]
    for probe in probes:
        assert probe["left_over"] == [], probe  # no other organisation's records
        assert probe["env"] is None and probe["max_rows"] == 60, probe
        assert probe["filters"] == first["filters"] and probe["cwd"] == first["cwd"], probe
    for code, (_, orgs) in runs.items():
        assert orgs == [code], (code, orgs)


def test_fresh_kernels_give_every_report_its_own_process(tmp_path):
    runs = _run(tmp_path, fresh=True)
    assert len({p["pid"] for p, _ in runs.values()}) == 3


def _outputs(path: Path) -> list[str]:
    """A report's outputs, less what differs between any two runs (figure and table ids,
    object addresses, execution counts)."""
    import re

    random_ids = re.compile(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|T_[0-9a-f]{5}|0x[0-9a-f]{6,16}"
    )
    nb = nbformat.read(path, as_version=4)
    shown = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            out = {k: v for k, v in out.items() if k != "execution_count"}
            shown.append(random_ids.sub("-", json.dumps(out, sort_keys=True)))
    return shown


def test_workbook_reports_from_a_reused_kernel_equal_those_from_new_ones(tmp_path):
    from conftest import SAMPLE_DIR

    made = {}
    for fresh in (False, True):
        out = tmp_path / ("fresh" if fresh else "reused")
        frame = run_batch(
            SAMPLE_DIR,
            out,
            trusts=["ZA1", "ZA3"],
            notebooks=["01", "03"],
            workers=1,
            progress=False,
            fresh_kernels=fresh,
        )
        assert set(frame["status"]) == {"ok"}
        made[fresh] = out
    reports = sorted(p.relative_to(made[True]) for p in made[True].glob("*/*.ipynb"))
    assert len(reports) == 4
    for rel in reports:
        assert _outputs(made[False] / rel) == _outputs(made[True] / rel), rel
