"""The pxlib plotly look, notebook renderers that survive export, static images.

- :data:`TEMPLATE`: a slim plotly template in NHS identity colours (about 0.5 KB
  of JSON a figure, against about 6.5 KB for plotly's default template).
- :func:`use_offline_renderer`: set in a notebook that will be executed by
  papermill and exported to HTML. plotly >= 6 renders with
  ``plotly_mimetype`` only, which ``nbconvert --to html`` drops; the
  ``notebook`` renderer also writes HTML and embeds plotly.js once in the
  notebook, so the exported report shows its figures with no network.
- :func:`write_static`: PNG / SVG / PDF through kaleido (optional: it needs a
  Chrome or Chromium binary), with an error a facilitator can act on when it is
  not available.
- :func:`text_width_px` and :func:`wrap_lines`: how wide a label is in the
  template's font, and a long title broken at word boundaries to fit a width, so
  that figures can lay out titles, tick labels and annotations before a browser
  draws them.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

from pxlib.errors import PxlibError

# NHS identity colours (NHS England identity guidelines)
NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NHS_TEXT = "#212B32"
NHS_WARM_YELLOW = "#FFB81C"
NHS_AQUA_GREEN = "#00A499"
NHS_PURPLE = "#330072"

FONT_FAMILY = "Arial, Helvetica, sans-serif"
FONT_SIZE = 13
#: plotly's spacing of the lines of a multi-line label, in font sizes
LINE_HEIGHT = 1.3

# Arial's advance widths in em (Liberation Sans, Debian's Arial, has the same
# metrics): most lower-case letters and all digits 0.556, capitals about 0.667.
_EM = {
    **dict.fromkeys("ijlI.,:;'|!·•", 0.278),
    **dict.fromkeys('ftr-()[]/\\ "', 0.333),
    **dict.fromkeys("mwMW@%", 0.889),
    **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ&", 0.667),
}
_LOWER_EM = 0.556
_BOLD = 1.08  # Arial Bold is a little wider
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<br\s*/?>", re.I)

_AXIS = {
    "linecolor": NHS_MID_GREY,
    "ticks": "outside",
    "tickcolor": NHS_MID_GREY,
    "zeroline": False,
    "automargin": True,
    "title": {"standoff": 8},
}

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT_FAMILY, "size": 13, "color": NHS_TEXT},
        "title": {"x": 0, "xref": "paper", "xanchor": "left", "font": {"size": 17}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": [NHS_BLUE, NHS_WARM_YELLOW, NHS_AQUA_GREEN, NHS_DARK_BLUE, NHS_LIGHT_BLUE],
        "xaxis": {**_AXIS, "showgrid": False},
        "yaxis": {**_AXIS, "gridcolor": NHS_PALE_GREY},
        "hoverlabel": {"bgcolor": "white", "font": {"family": FONT_FAMILY, "size": 13}},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
        "margin": {"l": 60, "r": 20, "t": 80, "b": 40},
    }
)
"""The slim pxlib template: NHS colours, Arial, white background, light grid."""

pio.templates["pxlib"] = TEMPLATE


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's ``notebook`` renderer without its MathJax CDN script.

    plotly.js is embedded once in the notebook when the renderer is activated
    (``connected=False``), and every figure's HTML output calls the global
    ``Plotly`` with no ``<script src>``: nothing is loaded from a network.
    """

    def __init__(self) -> None:
        super().__init__(connected=False)

    def to_mimebundle(self, fig_dict: dict) -> dict:
        html = pio.to_html(
            fig_dict,
            config=self.config,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=525,
            validate=False,
        )
        return {"text/html": html}


pio.renderers["pxlib_notebook"] = OfflineNotebookRenderer()

OFFLINE_RENDERER = "plotly_mimetype+pxlib_notebook"
#: what :func:`use_offline_renderer` sets in a report kernel of ``pxlib batch``
#: (:func:`use_report_renderer`): the figure's JSON only. The batch draws its pages from
#: that JSON (:mod:`pxlib.report.export`), so an HTML copy of every figure, and plotly.js
#: embedded in the notebook, would be made, sent and thrown away for every report.
REPORT_RENDERER = "plotly_mimetype"
_DEFAULT_RENDERER = [OFFLINE_RENDERER]


def use_report_renderer() -> None:
    """From now on in this process, :func:`use_offline_renderer` sets :data:`REPORT_RENDERER`
    (a batch's report kernel calls it as it starts)."""
    _DEFAULT_RENDERER[0] = REPORT_RENDERER


class StaticImageError(PxlibError, RuntimeError):
    """A static image (PNG, SVG, PDF) could not be written: kaleido or Chromium is missing."""


def use_template() -> None:
    """Make the pxlib template plotly's default for figures drawn outside pxlib too."""
    pio.templates.default = "pxlib"


def use_offline_renderer(renderer: str | None = None) -> str:
    """Set plotly's default renderer for notebooks that will be exported to HTML.

    The default ``plotly_mimetype+pxlib_notebook`` keeps the interactive figure
    in JupyterLab (``plotly_mimetype``) and also writes an HTML output
    (:class:`OfflineNotebookRenderer`: plotly.js embedded once in the notebook,
    no MathJax or plotly.js from a CDN; ``notebook_connected`` would load
    plotly.js from the internet and be blank on offline hospital networks); in a
    batch's report kernel it is :data:`REPORT_RENDERER`. Returns the renderer that
    was set. Call it once near the top of a notebook.
    """
    renderer = renderer or _DEFAULT_RENDERER[0]
    for part in renderer.split("+"):
        if part not in pio.renderers:
            raise PxlibError(
                f"plotly has no renderer called {part!r}; known renderers: "
                f"{', '.join(sorted(pio.renderers))}"
            )
        if part.endswith("_connected") or part == "cdn":
            raise PxlibError(
                f"renderer {part!r} loads plotly.js from the internet: exported reports would "
                f"be blank without a network. Use {OFFLINE_RENDERER!r}."
            )
    pio.renderers.default = renderer
    return renderer


def write_static(
    fig: go.Figure,
    path: str | Path,
    *,
    format: str | None = None,
    width: int | None = None,
    height: int | None = None,
    scale: float = 2,
    **kwargs: Any,
) -> Path:
    """Write ``fig`` as a static image (PNG, SVG, PDF, JPEG, WEBP) with kaleido.

    kaleido is optional: install it (``pip install kaleido``) and a Chrome or
    Chromium browser (``plotly_get_chrome``, or your system's ``chromium``
    package). Without them this raises :class:`StaticImageError` saying so;
    interactive HTML reports do not need either.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "png").lower()
    try:
        import kaleido  # noqa: F401
    except ImportError as exc:
        raise StaticImageError(
            f"cannot write {path.name}: static images need the optional package kaleido "
            "(pip install kaleido) and a Chrome or Chromium browser. Interactive HTML "
            "reports do not need them."
        ) from exc
    try:
        fig.write_image(path, format=fmt, width=width, height=height, scale=scale, **kwargs)
    except Exception as exc:  # kaleido raises several unrelated types
        text = str(exc).lower()
        if "chrome" in text or "chromium" in text or "browser" in text:
            raise StaticImageError(
                f"cannot write {path.name}: kaleido found no Chrome or Chromium browser. "
                "Install one (run `plotly_get_chrome`, or your system's chromium package) "
                "or export the report as interactive HTML instead."
            ) from exc
        raise StaticImageError(f"cannot write {path.name} as {fmt}: {exc}") from exc
    return path


def text_width_px(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Width in pixels of ``text`` drawn in the template's font (Arial) at ``size`` px.

    ``text`` may be plotly label HTML: tags are dropped, entities count as the
    character they stand for, and of several lines (``<br>``) the widest counts.
    An estimate from Arial's character widths, within a few per cent of what a
    browser draws for words, numbers and dates.
    """
    lines = (html.unescape(_TAG.sub("", line)) for line in _BREAK.split(str(text)))
    return max(_plain_width(line, size, bold) for line in lines)


def _plain_width(text: str, size: float, bold: bool) -> float:
    """Width in pixels of one line of plain text (no HTML)."""
    return sum(_EM.get(ch, _LOWER_EM) for ch in text) * size * (_BOLD if bold else 1.0)


def wrap_lines(
    text: str, width_px: float, size: float = FONT_SIZE, bold: bool = False
) -> list[str]:
    """``text`` (plain, not HTML) broken at spaces into lines no wider than ``width_px``.

    Words are never cut: a word wider than ``width_px`` has a line of its own.
    Whitespace runs become one space; an empty text is one empty line.
    """
    words = str(text).split()
    if not words:
        return [""]
    lines = [words[0]]
    for word in words[1:]:
        candidate = f"{lines[-1]} {word}"
        if _plain_width(candidate, size, bold) <= width_px:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def wrapped_html(text: str, width_px: float, size: float = FONT_SIZE, bold: bool = False) -> str:
    """``text`` broken by :func:`wrap_lines` to fit ``width_px``, each line escaped
    (:func:`pxlib.escape.html_text`) and joined by ``<br>``: a figure title or label."""
    from pxlib.escape import html_text

    return "<br>".join(html_text(line) for line in wrap_lines(text, width_px, size, bold))


def table_styles(vertical_align: str = "middle") -> list[dict[str, str]]:
    """The project's table style for pandas Stylers: NHS blue header rule, readable
    text colour (#212B32 on white), light row rules, left-aligned headers."""
    return [
        {"selector": "", "props": "border-collapse: collapse; font-family: Arial, sans-serif;"},
        {
            "selector": "caption",
            "props": "text-align: left; font-weight: bold; padding: 4px 0; color: #212B32;",
        },
        {
            "selector": "th",
            "props": f"text-align: left; padding: 4px 8px; border-bottom: 2px solid {NHS_BLUE}; "
            "color: #212B32;",
        },
        {
            "selector": "td",
            "props": "padding: 4px 8px; border-bottom: 1px solid #D8DDE0; color: #212B32; "
            f"vertical-align: {vertical_align};",
        },
    ]
