"""pxlib batch end to end on tiny fixture notebooks: failures isolated, outputs
complete and offline, no organisation's data in another's reports, provenance,
resume, interruption, kernel retry.

One batch (3 organisations + an unknown code × 2 notebooks, 2 workers) is run
once for the module; the other tests read its outputs or copies of them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from batch_helpers import CANARY, FIXTURES, make_data
from bs4 import BeautifulSoup

import pxlib
from pxlib.errors import EXIT_OK, EXIT_REPORTS_FAILED
from pxlib.report import add_batch_arguments, run_batch, run_batch_from_args

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

OK = [
    ("ZZ1", "01_fixture_summary"),
    ("ZZ1", "02_fixture_check"),
    ("010", "01_fixture_summary"),
    ("010", "02_fixture_check"),
    ("ZZ3", "01_fixture_summary"),
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    data = make_data(root / "data")
    out = root / "out"
    frame = run_batch(
        data,
        out,
        trusts=["ZZ1", "010", "ZZ3", "NOPE"],
        notebooks=["01", "02"],
        workers=2,
        params={"n_weeks": "3", "title": "007"},
        text_params=["n_weeks", "title"],
        notebooks_dir=FIXTURES,
        progress=False,
    )
    return data, out, frame


def _status(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.trust_code, r.notebook): r.status for r in frame.itertuples()}


def test_one_failing_organisation_never_stops_the_others(batch):
    _, out, frame = batch
    on_disk = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    assert list(on_disk.columns) == ["trust_code", "notebook", "status", "seconds", "error"]
    assert on_disk["trust_code"].tolist() == [
        "ZZ1",
        "ZZ1",
        "010",
        "010",
        "ZZ3",
        "ZZ3",
        "NOPE",
        "NOPE",
    ]
    status = _status(on_disk)
    assert all(status[pair] == "ok" for pair in OK)
    assert status[("ZZ3", "02_fixture_check")] == "failed"
    assert status[("NOPE", "01_fixture_summary")] == "failed"
    errors = dict(
        zip(zip(on_disk.trust_code, on_disk.notebook, strict=True), on_disk.error, strict=True)
    )
    # the failing cell's exception class and message, no traceback
    assert errors[("ZZ3", "02_fixture_check")] == (
        "cell 4: DataValidationError: responses.csv column score: 1 rows break score <= 5"
    )
    assert errors[("NOPE", "02_fixture_check")] == "organisation 'NOPE' is not in organisations.csv"
    assert all(errors[p] == "" for p in OK)
    assert (on_disk.loc[on_disk.status == "ok", "seconds"].astype(float) > 0).all()
    assert frame["trust_code"].tolist() == on_disk["trust_code"].tolist()

    for code, nb in OK:
        html = (out / code / f"{nb}.html").read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>")
        nbformat.validate(nbformat.read(out / code / f"{nb}.ipynb", as_version=4))
        assert (out / code / f"{nb}.results.json").is_file()
    assert not (out / "ZZ3" / "02_fixture_check.html").exists()
    failed_nb = nbformat.read(out / "ZZ3" / "02_fixture_check.failed.ipynb", as_version=4)
    assert any(
        o.get("ename") == "DataValidationError"
        for c in failed_nb.cells
        for o in c.get("outputs", [])
    )
    # no work folder or temporary file is left behind
    assert not list(out.rglob(".work-*")) and not list(out.rglob("*.tmp"))
    # inputs are staged outside --out, and removed for the failed organisation too
    assert not (out / ".staging").exists()
    assert not [p for p in out.rglob("*") if p.name == "responses.csv"]
    log = (out / "batch.log").read_text(encoding="utf-8")
    assert "ZZ3/02_fixture_check failed" in log and "batch finished" in log
    assert "not given to the notebooks" not in log  # every data file is listed or has org_code


def test_parameters_arrive_typed_and_codes_stay_strings(batch):
    _, out, _ = batch
    nb = nbformat.read(out / "010" / "01_fixture_summary.ipynb", as_version=4)
    params = nb.metadata["papermill"]["parameters"]
    assert params["trust_code"] == "010"
    assert params["n_weeks"] == 3 and params["title"] == "007"
    assert params["interactive"] is False
    staged = Path(params["data_dir"])  # a private copy outside --out, gone after the run
    assert staged.name == "010" and staged.parent.name.startswith("pxlib-staging-")
    assert not staged.is_relative_to(out) and not staged.exists()
    # what the notebook itself saw and recorded
    recorded = json.loads((out / "010" / "01_fixture_summary.results.json").read_text())
    assert {r["trust_code"] for r in recorded["results"]} == {"010"}
    # n_weeks=3 reached the chart: weeks 2-4 of the 4 in the data
    fig = next(
        o["data"]["application/vnd.plotly.v1+json"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    )
    x = fig["data"][0]["x"]
    if isinstance(x, dict):  # plotly >= 6 writes numeric arrays as base64 typed arrays
        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).tolist()
    assert sorted(x) == [2, 3, 4]
    assert fig["layout"]["title"]["text"] == "007"


def test_no_organisation_sees_another_organisations_records(batch):
    _, out, _ = batch
    own = (out / "ZZ1" / "01_fixture_summary.html").read_text(encoding="utf-8")
    assert CANARY in own  # positive control: the fixture shows its own comments
    checked = 0
    for path in out.rglob("*"):
        if not path.is_file() or path.name == "plotly.min.js":
            continue
        if path.relative_to(out).parts[0] in ("ZZ1",):
            continue
        assert CANARY not in path.read_text(encoding="utf-8", errors="replace"), path
        checked += 1
    assert checked >= 10
    # and each organisation's staged responses held its rows only
    nb = nbformat.read(out / "010" / "01_fixture_summary.ipynb", as_version=4)
    shown = "".join(str(o) for c in nb.cells for o in c.get("outputs", []))
    assert "Trust One" not in shown and "'A'" not in shown


def _loads(page: str) -> list[str]:
    soup = BeautifulSoup(page, "html.parser")
    bad = []
    for tag in soup.find_all(True):
        for attr in ("src", "href", "data", "poster", "srcset"):
            value = str(tag.get(attr) or "").strip().lower()
            if tag.name == "a" and attr == "href":
                continue  # a link the reader may follow loads nothing by itself
            if value.startswith(("http:", "https:", "//")):
                bad.append(f"<{tag.name} {attr}={value}>")
    lowered = page.lower()
    for needle in (
        "require.js",
        "require.min.js",
        "mathjax",
        "cdn.jsdelivr",
        "cdnjs",
        "unpkg.com",
        "cdn.plot.ly",
    ):
        if needle in lowered:
            bad.append(needle)
    return bad


def test_exported_pages_load_nothing_from_a_network_and_keep_their_figures(batch):
    _, out, _ = batch
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == len(OK) + 1  # + index.html
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert _loads(text) == [], page
    for code, nb in OK:
        text = (out / code / f"{nb}.html").read_text(encoding="utf-8")
        assert text.count("Plotly.newPlot(") == 1
        soup = BeautifulSoup(text, "html.parser")
        scripts = [s["src"] for s in soup.find_all("script", src=True)]
        assert scripts == ["../plotly.min.js"]
        assert (out / code / scripts[0]).resolve().is_file()
        assert "import pandas" not in text and "record_results(" not in text  # code hidden
    assert (out / "plotly.min.js").stat().st_size > 1_000_000


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs a chromium binary to render pages"
)
def test_figures_render_in_a_browser_with_no_network(batch):
    _, out, _ = batch
    page = out / "ZZ1" / "02_fixture_check.html"
    run = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",  # any network request fails
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert 'class="main-svg"' in run.stdout  # plotly drew its SVG
    assert '">Chart not shown' not in run.stdout  # the fallback text was not written


def test_every_report_states_how_it_was_made(batch):
    data, out, _ = batch
    orgs_sha = hashlib.sha256((data / "organisations.csv").read_bytes()).hexdigest()
    nb_sha = hashlib.sha256((FIXTURES / "02_fixture_check.ipynb").read_bytes()).hexdigest()
    for code, nb in OK:
        soup = BeautifulSoup((out / code / f"{nb}.html").read_text(encoding="utf-8"), "html.parser")
        prov = soup.find("div", class_="pxlib-provenance")
        assert prov is not None
        text = prov.get_text(" ")
        assert "How this report was made" in text
        assert f"pxlib {pxlib.__version__}" in text
        assert orgs_sha in text  # input file hashes
        assert "responses.csv" in text
        assert f"Parameter: trust_code {code}" in text and "interactive" in text  # parameters
        assert f"'{code}'" not in text  # values as typed, not Python's repr
        assert re.search(r"Run \d\d [A-Z][a-z]{2} 20\d\d, \d\d:\d\d UTC", text)  # run date
        meta = nbformat.read(out / code / f"{nb}.ipynb", as_version=4).metadata["pxlib"]
        assert meta["inputs"]["organisations.csv"] == orgs_sha
    meta = nbformat.read(out / "ZZ1" / "02_fixture_check.ipynb", as_version=4).metadata["pxlib"]
    assert meta["notebook_sha256"] == nb_sha


def test_index_lists_every_organisation_with_results_links_and_errors(batch):
    _, out, _ = batch
    page = (out / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    rows = soup.find("table", class_="reports").find("tbody").find_all("tr", recursive=False)
    assert [r.find("td").find("strong").get_text() for r in rows] == ["ZZ1", "010", "ZZ3", "NOPE"]
    links = {a["href"].split("#")[0] for a in soup.find_all("a")}
    assert links == {f"{c}/{n}.html" for c, n in OK}
    assert "Trust Zero &amp; &lt;Co&gt;" in page
    # the failure's message, escaped
    assert "responses.csv column score: 1 rows break score &lt;= 5" in page
    assert "not in organisations.csv" in page
    # recorded key results, one row per unit: ZZ1 unit A (12 answers) shown; unit B (3) suppressed
    units = {
        (tr["data-org"], tr.find(class_="unit-name").get_text()): tr
        for tr in soup.find("table", id="units").find("tbody").find_all("tr")
    }
    unit_a = units[("ZZ1", "A")].get_text(" ")
    assert "Common cause" in unit_a and "fixture" in unit_a
    assert "not shown" in units[("ZZ1", "B")].get_text()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    return parser.parse_args(list(argv))


def test_resume_skips_what_is_unchanged_and_reruns_what_changed(batch, tmp_path):
    data, out, _ = batch
    copy = tmp_path / "out"
    shutil.copytree(out, copy)  # a moved output folder still resumes
    common = ["--notebooks-dir", str(FIXTURES), "--notebooks", "01", "02", "--no-progress"]
    common += ["--param", "n_weeks=3", "title=007"]
    args = ["--data", str(data), "--out", str(copy), "--resume", *common]
    status = run_batch_from_args(_args(*args, "--trusts", "ZZ1", "010", "NOPE"))
    assert status == EXIT_REPORTS_FAILED  # NOPE still fails
    got = _status(pd.read_csv(copy / "results.csv", dtype=str, keep_default_na=False))
    assert got == {
        **{p: "skipped" for p in OK if p[0] != "ZZ3"},
        ("NOPE", "01_fixture_summary"): "failed",
        ("NOPE", "02_fixture_check"): "failed",
    }
    assert (copy / "index.html").read_text().count(">open</a>") == 4  # skipped reports stay linked

    # one organisation's data changes: only its reports run again
    data2 = shutil.copytree(data, tmp_path / "data2")
    with open(data2 / "responses.csv", "a", encoding="utf-8") as fh:
        fh.write("ZZ1,A,4,5,\n")
    before = (copy / "010" / "01_fixture_summary.html").stat().st_mtime_ns
    status = run_batch_from_args(
        _args(
            "--data", str(data2), "--out", str(copy), "--trusts", "ZZ1", "010", "--resume", *common
        )
    )
    assert status == EXIT_OK
    got = _status(pd.read_csv(copy / "results.csv", dtype=str, keep_default_na=False))
    assert got == {
        ("ZZ1", "01_fixture_summary"): "ok",
        ("ZZ1", "02_fixture_check"): "ok",
        ("010", "01_fixture_summary"): "skipped",
        ("010", "02_fixture_check"): "skipped",
    }
    assert (copy / "010" / "01_fixture_summary.html").stat().st_mtime_ns == before
    recorded = json.loads((copy / "ZZ1" / "01_fixture_summary.results.json").read_text())
    assert {r["unit"]: r["n"] for r in recorded["results"]} == {"A": 13, "B": 3}


@pytest.mark.skipif(os.name != "posix", reason="kills a process group")
def test_an_interrupted_run_resumes_without_losing_anything(tmp_path):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    code = (
        "from pxlib.report import run_batch\n"
        f"run_batch({str(data)!r}, {str(out)!r}, trusts=['010'], notebooks=['01', '02'],"
        f" workers=1, notebooks_dir={str(FIXTURES)!r}, progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    manifest = out / ".pxlib-batch-manifest.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if manifest.exists() and json.loads(manifest.read_text())["jobs"]:
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, workers and kernels, at once
        proc.wait()
    done_before = set(json.loads(manifest.read_text())["jobs"])
    assert len(done_before) == 1
    # whatever is on disk is either a complete report or absent
    for page in out.rglob("*.html"):
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>")

    frame = run_batch(
        data,
        out,
        trusts=["010"],
        notebooks=["01", "02"],
        workers=1,
        resume=True,
        notebooks_dir=FIXTURES,
        progress=False,
    )
    status = {f"{r.trust_code}/{r.notebook}": r.status for r in frame.itertuples()}
    assert {k for k, v in status.items() if v == "skipped"} == done_before
    assert set(status.values()) <= {"ok", "skipped"} and len(status) == 2
    for label in status:
        assert (out / f"{label}.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not list(out.rglob(".work-*")) and not list(out.rglob("*.tmp"))


def test_a_kernel_that_fails_to_start_is_retried_once(tmp_path, monkeypatch):
    from pxlib.report import runner

    data = make_data(tmp_path / "data")
    stage = tmp_path / "stage"
    from pxlib.report.isolation import stage_organisations

    stage_organisations(data, stage, ["010"])
    calls = []
    real = runner._take_kernel

    def flaky(job):
        calls.append(job.label)
        if len(calls) == 1:
            raise RuntimeError("Address already in use")
        return real(job)

    monkeypatch.setattr(runner, "_take_kernel", flaky)
    job = runner.Job(
        trust_code="010",
        notebook="02_fixture_check",
        notebook_path=str(FIXTURES / "02_fixture_check.ipynb"),
        out_dir=str(tmp_path / "out"),
        parameters={"trust_code": "010", "data_dir": str(stage / "010"), "interactive": False},
        warm_imports=(),
    )
    row = runner.execute_job(job)
    assert row["status"] == "ok", row["error"]
    assert calls == ["010/02_fixture_check", "010/02_fixture_check"]
    assert (tmp_path / "out" / "010" / "02_fixture_check.html").is_file()


def test_a_hanging_cell_times_out_and_a_dying_worker_stops_no_one(tmp_path):
    data = make_data(tmp_path / "data")
    frame = run_batch(
        data,
        tmp_path / "out",
        trusts=["ZZ1", "010", "ZZ3"],
        notebooks=["91"],
        workers=1,
        timeout=2,
        notebooks_dir=FIXTURES,
        progress=False,
    )
    got = {r.trust_code: (r.status, r.error) for r in frame.itertuples()}
    assert got["ZZ1"] == ("ok", "")
    assert got["010"][0] == "failed" and got["010"][1].startswith("CellTimeoutError")
    assert got["ZZ3"] == ("failed", "WorkerDied: the process running this report died")
    assert "survived" in (tmp_path / "out" / "ZZ1" / "91_fixture_hostile.html").read_text()
