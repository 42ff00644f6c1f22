"""A figure drawn in a papermill-executed notebook survives export to HTML with no network."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

TRACE_NAME = "Upper process limit"

CODE = """\
import numpy as np, pandas as pd
from pxlib.spc import chart
from pxlib.spc.theme import use_offline_renderer
use_offline_renderer()
rng = np.random.default_rng(3)
data = pd.DataFrame({"week": pd.date_range("2024-01-01", periods=30, freq="W-MON"),
                     "value": np.r_[0.7 + rng.normal(0, 0.02, 20), 0.85 + rng.normal(0, 0.02, 10)]})
fig = chart(data, "week", "value", kind="xmr", improvement="increase", target=0.9,
            y_label="Said it always happened").figure()
fig
"""

# nbconvert's lab template loads require.js and MathJax from a CDN: switch both off
OFFLINE_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""

EXTERNAL = re.compile(r"<script[^>]*\ssrc=[\"']?(https?:)?//", re.I)


def _kernel_name() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        specs = json.loads(out.stdout)["kernelspecs"]
    except (ValueError, KeyError):
        return "python3"
    return "pxlib" if "pxlib" in specs else "python3"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    papermill = pytest.importorskip("papermill")
    folder = tmp_path_factory.mktemp("nb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("trust_code = 'ZA1'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(CODE),
    ]
    src, out = folder / "figure.ipynb", folder / "figure.out.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(
        str(src),
        str(out),
        kernel_name=_kernel_name(),
        cwd=str(folder),
        progress_bar=False,
        execution_timeout=120,
        start_timeout=60,
    )
    return nbformat.read(out, as_version=4), folder


def test_executed_notebook_keeps_figure_as_json_and_html(executed):
    nb, _ = executed
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    figs = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figs) == 1
    data = figs[0]["data"]
    assert "text/html" in data  # use_offline_renderer: nbconvert has HTML to keep
    names = {t.get("name") for t in data["application/vnd.plotly.v1+json"]["data"]}
    assert TRACE_NAME in names


def test_nbconvert_html_has_figure_and_no_external_script(executed):
    from nbconvert import HTMLExporter

    nb, folder = executed
    tdir = folder / "templates" / "offline"
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / "index.html.j2").write_text(OFFLINE_TEMPLATE)
    (tdir / "conf.json").write_text('{"base_template": "lab", "mimetypes": {"text/html": true}}')
    exporter = HTMLExporter(
        template_name="offline", extra_template_basedirs=[str(folder / "templates")]
    )
    body, _ = exporter.from_notebook_node(nb)
    assert "Plotly.newPlot" in body and TRACE_NAME in body
    assert re.search(r"plotly\.js v\d", body)  # the library is inside the page
    assert not EXTERNAL.findall(body), EXTERNAL.findall(body)[:3]


def test_report_exporter_html_has_figure_and_no_external_script(executed):
    export = pytest.importorskip("pxlib.report.export")
    nb, _ = executed
    body = export.ReportExporter(plotlyjs="embed").export(nb, title="Figure")
    assert "Plotly.newPlot" in body and TRACE_NAME in body
    assert not EXTERNAL.findall(body)
