"""Offline HTML export of executed notebooks.

Reports open on hospital networks with no internet access, so a page loads
nothing from a network:

* a project template (``templates/pxlib_report``) owns the page head: none of
  nbconvert's require.js, MathJax or widget loaders from a CDN;
* code cells are hidden (``exclude_input``), prompts too;
* plotly figures are drawn from their ``application/vnd.plotly.v1+json``
  output by a two-line ``Plotly.newPlot`` call, whatever renderer the notebook
  used (plotly >= 6 in a kernel renders only that mimetype, which nbconvert
  would drop). Outputs of plotly's ``notebook`` renderer (the whole plotly.js
  bundle and a MathJax loader from a CDN) are removed;
* plotly.js is embedded in the page or, by default, written once beside the
  reports (``plotly.min.js``) and referenced by a relative path;
* any remaining ``<script>``, ``<img>``, ``<iframe>``, ``<link>`` ... that
  would load from ``http(s)://`` or ``//`` is removed (links a reader clicks,
  ``<a href>``, stay).

One :class:`ReportExporter` is reused for every report of a worker: building
the nbconvert exporter costs far more than using it.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ReportExporter",
    "write_plotlyjs",
    "PLOTLYJS_FILENAME",
    "external_loads",
    "PLOTLY_MIME",
    "strip_plotlyjs",
    "prepare_for_export",
]

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLYJS_FILENAME = "plotly.min.js"
TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "pxlib_report"
_PLACEHOLDER = "<!--PXLIB_PLOTLYJS-->"
# mimetypes that run code or need a live kernel / CDN: never exported
_DROPPED_MIMES = (
    WIDGET_MIME,
    "application/javascript",
    "application/vnd.jupyter.widget-state+json",
)
_REMOVE_TAGS = {"remove-cell", "remove_cell", "hide-cell-in-report"}

REPORT_CSS = """
body{font-family:-apple-system,"Segoe UI",Arial,sans-serif;color:#212b32;margin:0;background:#fff}
main.pxlib-report{max-width:1100px;margin:0 auto;padding:1.5rem 2rem 3rem}
h1,h2,h3{color:#005eb8;line-height:1.25}
a{color:#005eb8}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d8dde0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f5}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;white-space:pre-wrap}
.output_stderr pre{background:#fff6e5}
.output_error pre{background:#fde8e8}
.pxlib-figure{margin:.75rem 0}
.prompt,.input_prompt,.output_prompt{display:none}
img{max-width:100%}
.pxlib-provenance{font-size:.85rem;color:#4c6272;border-top:1px solid #d8dde0;margin-top:2rem}
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# a tag whose attribute loads a resource from the network; <a href> is navigation, kept
_EXTERNAL_LOAD = re.compile(
    r"<(?P<tag>script|img|iframe|link|source|video|audio|embed|object|input|track|image|use)\b"
    r"[^>]*?\b(?:src|href|data|srcset|poster|xlink:href)\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>"
    r"(?:(?<=<script)[\s\S]*?</script>)?",
    re.IGNORECASE,
)
_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE
)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//[^;]*;?", re.IGNORECASE)


def external_loads(html: str) -> list[str]:
    """Every tag or CSS rule in ``html`` that would load something from a network.

    Used to sanitise exported pages and by the tests. ``<a href>`` (a link
    the reader may follow) does not count.
    """
    found = [m.group(0)[:200] for m in _EXTERNAL_LOAD.finditer(html)]
    found += [m.group(0)[:200] for m in _CSS_IMPORT.finditer(html)]
    found += [
        m.group(0)[:200]
        for m in re.finditer(r"url\(\s*[\"']?\s*(?:https?:)?//", html, flags=re.IGNORECASE)
    ]
    return found


def _strip_external(html: str) -> str:
    html = _EXTERNAL_SCRIPT.sub("", html)
    html = _EXTERNAL_LOAD.sub(
        "<!-- external resource removed: reports load nothing from a network -->", html
    )
    html = _CSS_IMPORT.sub("", html)
    return re.sub(r"url\(\s*([\"']?)\s*(?:https?:)?//[^)]*\)", "none", html, flags=re.IGNORECASE)


def _is_plotlyjs_bundle(html: str) -> bool:
    """An output of plotly's notebook renderer that only loads plotly.js (and MathJax)."""
    return "window.PlotlyConfig" in html and ("plotly.js v" in html or len(html) > 100_000)


def _json_for_script(obj: Any) -> str:
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def figure_html(figure: dict[str, Any], div_id: str) -> str:
    """A ``<div>`` and a ``Plotly.newPlot`` call drawing a plotly mimetype bundle."""
    layout = figure.get("layout") or {}
    height = layout.get("height") if isinstance(layout.get("height"), int | float) else 450
    config = {"responsive": True, "displaylogo": False, **(figure.get("config") or {})}
    payload = {"data": figure.get("data") or [], "layout": layout, "config": config}
    return (
        f'<div class="pxlib-figure"><div id="{div_id}" class="plotly-graph-div" '
        f'style="height:{int(height)}px;width:100%"></div>'
        '<script type="text/javascript">(function(){'
        f"var f={_json_for_script(payload)};"
        "if(window.Plotly){Plotly.newPlot(" + json.dumps(div_id) + ",f.data,f.layout,f.config);}"
        "else{document.getElementById(" + json.dumps(div_id) + ").textContent="
        '"Chart not shown: this report draws its charts with plotly.min.js from the '
        "reports folder, one level above it. Open the report from inside that folder, "
        'or ask for stand-alone reports (pxlib batch --self-contained).";}'
        "})();</script></div>"
    )


def strip_plotlyjs(nb: Any) -> Any:
    """``nb`` without the outputs that only carry plotly.js (about 4.8 MB each).

    plotly's ``notebook`` renderer embeds the whole library once per notebook;
    the figures themselves stay (as plotly JSON and HTML). Changes ``nb`` in place.
    """
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("outputs"):
            cell["outputs"] = [
                out
                for out in cell["outputs"]
                if not _is_plotlyjs_bundle(str(out.get("data", {}).get("text/html", "")))
            ]
    return nb


def prepare_for_export(nb: Any) -> Any:
    """A copy of ``nb`` ready for HTML: figures as HTML, CDN loaders and widgets removed."""
    nb = copy.deepcopy(nb)
    cells = []
    for ci, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _REMOVE_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            for oi, out in enumerate(cell.get("outputs", [])):
                if out.get("output_type") == "error":
                    out["traceback"] = [_ANSI.sub("", line) for line in out.get("traceback", [])]
                data = out.get("data")
                if data is not None:
                    for mime in _DROPPED_MIMES:
                        data.pop(mime, None)
                    if PLOTLY_MIME in data:
                        fig = data.pop(PLOTLY_MIME)
                        data.clear()
                        data["text/html"] = figure_html(fig, f"pxlib-fig-{ci}-{oi}")
                    elif _is_plotlyjs_bundle(str(data.get("text/html", ""))):
                        continue
                    if not data:
                        continue
                outputs.append(out)
            cell["outputs"] = outputs
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def _title(nb: Any, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in str(cell.source).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def write_plotlyjs(directory: str | Path) -> Path:
    """Write plotly.js once into ``directory`` (atomically; skipped when up to date)."""
    import plotly
    from plotly.offline import get_plotlyjs

    from pxlib.report.io import atomic_write_text

    path = Path(directory) / PLOTLYJS_FILENAME
    stamp = f"/* plotly.py {plotly.__version__} */\n"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            if fh.readline() == stamp:
                return path
    atomic_write_text(path, stamp + get_plotlyjs())
    return path


class ReportExporter:
    """Executed notebook -> one self-contained HTML page (code hidden, offline).

    ``plotlyjs="directory"`` references ``plotly.min.js`` by a relative path
    (``plotlyjs_src``; write it with :func:`write_plotlyjs`); ``"embed"`` puts
    plotly.js (about 4.8 MB) inside every page.
    """

    def __init__(self, plotlyjs: Literal["directory", "embed"] = "directory") -> None:
        from nbconvert import HTMLExporter

        if plotlyjs not in ("directory", "embed"):
            raise ValueError("plotlyjs must be 'directory' or 'embed'")
        self.plotlyjs = plotlyjs
        self._exporter = HTMLExporter(
            template_name=TEMPLATE_NAME,
            extra_template_basedirs=[str(TEMPLATE_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            anchor_link_text="",
            # the notebook is validated once after the preprocessors, not after each one
            optimistic_validation=True,
        )
        self._embedded: str | None = None

    def _plotly_tag(self, plotlyjs_src: str) -> str:
        if self.plotlyjs == "directory":
            return f'<script type="text/javascript" src="{plotlyjs_src}" charset="utf-8"></script>'
        if self._embedded is None:
            from plotly.offline import get_plotlyjs

            self._embedded = get_plotlyjs().replace("</script", "<\\/script")
        return f'<script type="text/javascript">{self._embedded}</script>'

    def export(
        self, nb: Any, *, title: str = "Report", plotlyjs_src: str = PLOTLYJS_FILENAME
    ) -> str:
        """The HTML page of executed notebook ``nb``."""
        from pxlib import __version__

        ready = prepare_for_export(nb)
        resources = {
            "pxlib_title": _title(ready, title),
            "pxlib_css": REPORT_CSS,
            "pxlib_version": __version__,
        }
        body, _ = self._exporter.from_notebook_node(ready, resources=resources)
        body = _strip_external(body)
        return body.replace(_PLACEHOLDER, self._plotly_tag(plotlyjs_src), 1)
