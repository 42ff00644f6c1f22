"""Notebook 03 as a facilitator uses it: JupyterLab in headless Chromium, Run All, pick a unit.

Starts a JupyterLab server on a free local port with a copy of the notebook
(its empty ``data_dir`` reads the project's synthetic sample), runs every cell
from the Run menu with ``interactive = True``, checks the explorer's widgets
and charts appear with no error output, then picks another unit and waits for
the chart under the controls to change to that unit.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_test_and_measure.ipynb"
TOKEN = "pxlib-test"
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
    pytest.mark.slow,
]


_ROOTS: dict[int, Path] = {}


def lab_root(url: str) -> Path:
    return _ROOTS[int(url.split(":")[2].split("/")[0])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--allow-root",
         "--LabApp.news_url="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    _ROOTS[port] = root
    yield f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={TOKEN}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_run_all_then_pick_a_unit_redraws_its_chart(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            select = page.locator(".jp-Dialog").get_by_role("button", name="Select")
            try:  # JupyterLab may ask which kernel to start; the notebook's own is preselected
                select.wait_for(timeout=8_000)
                select.click()
            except Exception:
                pass
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000
            )
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
            try:
                page.wait_for_selector(
                    ".jp-OutputArea-output .widget-dropdown select", timeout=300_000
                )
            except Exception:
                page.screenshot(path=str(Path(lab_root(lab)) / "failed.png"))
                raise
            explorer = (
                page.locator(".jp-OutputArea-output > .widget-vbox")
                .filter(has=page.locator(".widget-dropdown"))
                .first
            )
            unit = explorer.locator(".widget-dropdown select").first
            chart = explorer.locator(".widget-output .js-plotly-plot").first
            chart.wait_for(timeout=60_000)
            units = [u.replace("\xa0", " ") for u in unit.locator("option").all_inner_texts()]
            assert len(units) >= 2
            first_title = chart.locator(".gtitle").first.text_content() or ""
            assert units[0] in first_title
            started = time.perf_counter()
            unit.select_option(index=1)
            page.wait_for_function(
                "([unit]) => { const t = document.querySelector("
                "'.jp-OutputArea-output .widget-vbox .widget-output .js-plotly-plot .gtitle');"
                " return t && t.textContent.includes(unit); }",
                arg=[units[1]],
                timeout=30_000,
            )
            seconds = time.perf_counter() - started
            errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count()
            assert errors == 0
            print(f"picking {units[1]!r} redrew its chart in {seconds:.2f} s (browser round trip)")
        finally:
            browser.close()
