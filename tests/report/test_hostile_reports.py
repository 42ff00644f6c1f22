"""A batch on hostile data: no script runs in any page, no planted personal detail is published.

The sample data get script payloads in the organisation's name, a unit's name
and the PDSA log, and every form of personal detail in every free-text field
(:mod:`tests.hostile`). One batch runs the default notebooks for that trust;
then every report and the index are opened in a real headless Chromium
(Debian's ``chromium`` driven by Playwright), counting the dialogs the payloads
would open, and every output file is searched for the planted details.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.hostile import PLANTED, TRUST, write_hostile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",  # any network request fails
]


#: a number printed with a float's full precision ("52.000000", "0.912345678")
FLOAT_REPR = re.compile(r"(?<![\w.])\d+\.\d{5,}(?![\w.])")
#: words of tests, batches and temporary folders that have no place in a team's report
#: an HTML entity drawn as its letters ("Ash &quot;Ward&quot;"): a label escaped twice or
#: escaped in a form plotly does not decode
ENTITY_SHOWN = re.compile(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.I)
SCAFFOLDING = (
    "batch mode",
    "checked automatically",
    "golden",
    "nbval",
    "pxlib-staging",
    "pxlib-kernels",
)


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    from pxlib.report import run_batch

    root = tmp_path_factory.mktemp("hostile")
    data = write_hostile(root / "data")
    out = root / "out"
    frame = run_batch(data, out, trusts=[TRUST], workers=2, progress=False)
    return out, frame


def test_every_notebook_runs_on_hostile_names(hostile_batch):
    _, frame = hostile_batch
    assert len(frame) == 4
    assert (frame["status"] == "ok").all(), frame[["notebook", "error"]].to_string()


def _pages(out: Path) -> list[Path]:
    return [out / "index.html", *sorted((out / TRUST).glob("*.html"))]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_no_script_runs_in_any_report_or_the_index(hostile_batch):
    from playwright.sync_api import sync_playwright

    out, _ = hostile_batch
    pages = _pages(out)
    assert len(pages) >= 4
    dialogs: dict[str, list[str]] = {}
    faults: dict[str, list[str]] = {}
    shown_literally = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            for path in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                seen: list[str] = []
                errors: list[str] = []
                page.on("dialog", lambda d, seen=seen: (seen.append(d.message), d.dismiss()))
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_timeout(1500)  # plotly draws, hovers and onerror handlers fire
                dialogs[path.name] = seen
                undrawn = page.evaluate(
                    "Array.from(document.querySelectorAll('.plotly-graph-div'))"
                    ".filter(d => !d.querySelector('.main-svg')).length"
                )
                if undrawn:
                    errors.append(f"{undrawn} figure(s) not drawn")
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                if overflow > 0:
                    errors.append(f"{overflow} px of sideways scroll at 1,280 px")
                text = page.inner_text("body")
                errors += [f"float repr {m!r}" for m in FLOAT_REPR.findall(text)[:3]]
                errors += [f"scaffolding {w!r}" for w in SCAFFOLDING if w in text.lower()]
                drawn = page.evaluate(
                    "Array.from(document.querySelectorAll('.main-svg text'))"
                    ".map(t => t.textContent).join(' ')"
                )
                errors += [f"entity drawn {m!r}" for m in ENTITY_SHOWN.findall(drawn + text)[:3]]
                faults[path.name] = errors
                shown_literally.append("onerror=alert" in page.inner_text("body"))
                page.close()
        finally:
            browser.close()
    assert all(not messages for messages in dialogs.values()), dialogs
    assert all(not errors for errors in faults.values()), faults
    # the payloads reached the pages, as text: the check above is not vacuous
    assert any(shown_literally)


@pytest.mark.parametrize("form", sorted(PLANTED))
def test_no_planted_personal_detail_in_any_output_file(hostile_batch, form):
    out, _ = hostile_batch
    needle = PLANTED[form][1].lower()
    found = [
        str(path.relative_to(out))
        for path in out.rglob("*")
        if path.is_file() and needle in path.read_text(encoding="utf-8", errors="ignore").lower()
    ]
    assert not found, f"{form} ({needle!r}) published in {found}"


def test_redacted_free_text_still_reaches_the_reports(hostile_batch):
    out, _ = hostile_batch
    text = "".join(p.read_text(encoding="utf-8") for p in (out / TRUST).glob("*.html"))
    assert "[phone]" in text and "[postcode]" in text and "[name]" in text
