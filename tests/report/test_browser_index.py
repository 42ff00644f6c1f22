"""The batch index in a real headless Chromium: readable at 1,280 px and on a phone,
offline with no console error, filtered and sorted as a reader clicks.

The index is rendered from records written with ``record_results`` for three
organisations (no notebook runs), so this takes seconds.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from pxlib.report import record_results
from pxlib.report.index import write_index

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
)
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",
]
NB = "03_test_and_measure"
UNITS = {
    "ZA1": [("Ash Ward", "improving", 96.3, 19), ("A very long unit name: Cardiothoracic "
            "Surgery and Critical Care Step-Down Unit", "not yet reliable", 71.0, 12)],
    "ZA2": [("Elm Ward", "deteriorating", 70.2, 25), ("Fir Ward", "not yet reliable", 88.4, 16)],
    "ZA3": [("Oak Ward", "reliable", 100.0, 13)],
}  # fmt: skip


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    out = tmp_path_factory.mktemp("index")
    rows = []
    for code, units in UNITS.items():
        (out / code).mkdir()
        (out / code / f"{NB}.html").write_text("<html><body>report</body></html>")
        record_results(
            out / code,
            NB,
            [
                {
                    "unit": unit,
                    "verdict": verdict,
                    "since": "2026-01-05T00:00:00" if verdict != "not yet reliable" else None,
                    "variation_type": "special_cause_improvement"
                    if verdict == "improving"
                    else "common_cause",
                    "assurance_type": "inconsistent",
                    "latest_week": "2026-08-24T00:00:00",
                    "n_respondents": n,
                    "latest_value": value,
                    "reason": "Why: " + verdict,
                    "next_step": "What next.",
                    "value_format": "percent",
                    "improvement": "increase",
                    "recent_from": "2026-03-02T00:00:00",
                    "recent_values": [value - (i % 5) for i in range(25)] + [value],
                    "target": 0.95,
                }
                for unit, verdict, value, n in units
            ],
        )
        rows.append(
            {"trust_code": code, "notebook": NB, "status": "ok", "seconds": 1.0, "error": ""}
        )
    rows.append(
        {"trust_code": "ZA4", "notebook": NB, "status": "failed", "seconds": 0.1,
         "error": "cell 4: DataValidationError: responses.csv: no rows"}
    )  # fmt: skip
    orgs = pd.DataFrame(
        {
            "org_code": ["ZA1", "ZA2", "ZA3", "ZA4"],
            "org_name": ["Zephyr Valley Hospitals NHS Trust (synthetic)"] * 4,
            "org_type": ["trust"] * 4,
        }
    )
    write_index(out, pd.DataFrame(rows), orgs, [NB], {"run_date": "2026-12-02T03:13:00+00:00"})
    return out / "index.html"


def _open(index, width: int):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(index.as_uri(), wait_until="load")
    return pw, browser, page, errors


@pytest.mark.parametrize("width", [1280, 390])
def test_no_sideways_scroll_and_no_console_error(index, width):
    pw, browser, page, errors = _open(index, width)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of sideways scroll at {width} px"
        assert errors == []
        assert page.locator("#units tbody tr").count() == 5
    finally:
        browser.close()
        pw.stop()


def test_filters_and_sorting_work_as_a_reader_clicks(index):
    pw, browser, page, errors = _open(index, 1280)
    try:
        visible = "#units tbody tr:not([hidden])"
        assert page.locator(visible).count() == 5
        page.select_option("#f-org", "ZA2")
        assert page.locator(visible).count() == 2
        assert page.inner_text("#shown") == "2 units shown"
        page.select_option("#f-org", "")
        page.select_option("#f-status", "not yet reliable")
        assert page.locator(visible).count() == 2
        page.select_option("#f-status", "")
        page.fill("#f-text", "oak")
        assert page.locator(visible).count() == 1
        assert page.inner_text("#shown") == "1 unit shown"
        page.fill("#f-text", "")
        # sort by latest value: ascending, then descending on a second click
        latest = page.locator("#units thead th", has_text="Latest").locator("button")
        latest.click()
        first = page.locator("#units tbody tr").first.locator(".unit-name").inner_text()
        assert first == "Elm Ward"  # 70.2 %, the lowest
        latest.click()
        first = page.locator("#units tbody tr").first.locator(".unit-name").inner_text()
        assert first == "Oak Ward"  # 100 %
        assert errors == []
    finally:
        browser.close()
        pw.stop()


def test_failures_are_listed_apart_in_words(index):
    text = index.read_text(encoding="utf-8")
    assert "Reports that could not be made (1)" in text
    assert "responses.csv: no rows" in text
    assert "0.95" not in text and "96.3%" in text  # numbers for people


def _body_text(path) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            drawn = page.locator(".main-svg").count()
            return page.inner_text("body") + f"\n[{drawn} drawn]"
        finally:
            browser.close()


def test_a_report_copied_on_its_own_says_how_to_view_it_and_a_self_contained_one_draws(tmp_path):
    from test_batch_units import _nb_with_outputs

    from pxlib.report.export import ReportExporter

    alone = tmp_path / "copied.html"
    alone.write_text(
        ReportExporter("directory").export(_nb_with_outputs(), plotlyjs_src="../plotly.min.js"),
        encoding="utf-8",
    )
    text = _body_text(alone)
    assert "Open the report from inside that folder" in text and "[0 drawn]" in text
    standalone = tmp_path / "standalone.html"
    standalone.write_text(ReportExporter("embed").export(_nb_with_outputs()), encoding="utf-8")
    text = _body_text(standalone)
    assert "Chart not shown" not in text and "[0 drawn]" not in text


def test_self_contained_is_a_batch_option():
    import argparse

    from pxlib.report import add_batch_arguments

    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    assert parser.parse_args(["--self-contained"]).self_contained is True
