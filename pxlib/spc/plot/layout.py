"""The layout of an SPC figure: the title wrapped at word boundaries and the room it
takes, the legend's rows, the margins and plotting area, the MDC icons in a corner and
a small multiple's header (its title and the icons' meaning beside the icons).

Sizes are fixed in pixels so that icons and labels sit where they were placed in
notebooks, HTML reports and PNGs alike.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from pxlib.escape import html_text
from pxlib.spc import icons
from pxlib.spc.plot.annotations import phase_band_px
from pxlib.spc.plot.groups import group_label
from pxlib.spc.plot.words import icon_phrases, subtitle
from pxlib.spc.theme import (
    LINE_HEIGHT,
    NHS_DARK_GREY,
    TEMPLATE,
    text_width_px,
    wrap_lines,
    wrapped_html,
)

ICON_PX = 44  # icon height in the corner of a single chart
PANEL_ICON_PX = 30  # in small multiples
LEGEND_ROW_PX = 24


def icon_image(
    types: tuple[str, str], improvement: str, x: float, y: float, height_px: float, geo: dict
) -> tuple[dict | None, float]:
    """A layout image of the icon pair, right-aligned at paper (x, y); and its width in px."""
    variation, assurance = types
    svg = icons.icon_pair_svg(variation, assurance, improvement)
    if not svg:
        return None, 0.0
    width_px = icon_width_px(types, height_px)
    image = {
        "source": icons.svg_data_uri(svg),
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "sizex": width_px / geo["plot_w"],
        "sizey": height_px / geo["plot_h"],
        "xanchor": "right",
        "yanchor": "bottom",
        "sizing": "contain",
        "layer": "above",
    }
    return image, width_px


def icon_width_px(types: tuple[str, str], height_px: float) -> float:
    """Width of the icon pair of ``types`` drawn ``height_px`` high (0 without icons)."""
    count = int(bool(types[0])) + int(bool(types[1]))
    return height_px * (44 * count - 4) / 40 if count else 0.0


def legend_rows(traces: list[dict], plot_w: float) -> int:
    """Rows a horizontal legend needs: plotly wraps its entries into columns as wide
    as the widest entry (its name in the 13 px font and 46 px of symbol)."""
    names = [t["name"] for t in traces if t.get("showlegend", True) and t.get("name")]
    if not names:
        return 0
    widest = 46 + max(text_width_px(name) for name in names)
    per_row = max(int(plot_w // widest), 1)
    return -(-len(names) // per_row)


TITLE_FONT = 17  # the template's title size
TITLE_TOP_PX = 14  # from the top of the figure to its title
TITLE_LINE_PX = TITLE_FONT * LINE_HEIGHT
SUBTITLE_PX = 26  # the subtitle line under the title, and the space around it


WRAP_SLACK = 0.92  # wrap titles short of the room: fonts other than Arial run wider


def figure_title(text: str, width_px: float) -> tuple[str, int]:
    """The figure's title wrapped at word boundaries to ``width_px`` (never cut), and
    its number of lines."""
    return wrapped_lines(text, width_px * WRAP_SLACK, TITLE_FONT)


def title_extra_px(lines: int) -> float:
    """Height a title of ``lines`` lines needs beyond the first line."""
    return (max(lines, 1) - 1) * TITLE_LINE_PX


def finish(ctx: dict, traces: list[dict], layout: dict, geo: dict) -> go.Figure:
    result = ctx["result"]
    layout.update(
        template=TEMPLATE,
        width=geo["width"],
        height=geo["height"],
        margin={"t": geo["t"], "b": geo["b"], "l": geo["l"], "r": geo["r"]},
        hovermode="closest",
        showlegend=True,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "traceorder": "normal",
        },
    )
    # the title block at the top of the figure, whatever the margin below it holds
    layout["title"].update(yref="container", y=1 - TITLE_TOP_PX / geo["height"], yanchor="top")
    layout["title"].setdefault("subtitle", {"text": subtitle(result)})
    return go.Figure(data=traces, layout=layout)


def geometry(width: float, height: float, t: float, b: float, left: float, r: float) -> dict:
    return {
        "width": width,
        "height": height,
        "t": t,
        "b": b,
        "l": left,
        "r": r,
        "plot_w": width - left - r,
        "plot_h": height - t - b,
    }


def wrapped_lines(text: str, width_px: float, size: float, bold: bool = False) -> tuple[str, int]:
    """``text`` escaped and broken at word boundaries with ``<br>`` to fit ``width_px``
    (never cut), and its number of lines."""
    wrapped = wrapped_html(text, width_px, size, bold)
    return wrapped, wrapped.count("<br>") + 1


PANEL_FONT = 13  # panel titles; the icons' words under them are 11 px
_PANEL_MIN_TEXT_PX = 110  # narrower room beside the icons: the title goes above them
COL_GAP_PX = 44  # between columns: room for the y tick labels ("100%") of the next


def panel_header(ctx: dict, key: tuple, width_px: float, phase_levels: int) -> dict[str, Any]:
    """A panel's title, wrapped to the room beside its icons (above them when a
    panel is too narrow for both side by side), where it goes, and the height above
    the plotting area its phase labels, icons and title take."""
    result = ctx["result"]
    types = ctx["latest"].get(key, ("", ""))
    icon_w = icon_width_px(types, PANEL_ICON_PX) if ctx["show_icons"] else 0.0
    beside = icon_w + 6 if icon_w else 0.0
    stacked = width_px - beside < _PANEL_MIN_TEXT_PX
    text_w = (width_px if stacked else width_px - beside) * WRAP_SLACK
    title, lines = wrapped_lines(group_label(key), text_w, PANEL_FONT, bold=True)
    text = f"<b>{title}</b>"
    words = icon_phrases(types, result.improvement, short=True)
    if words:
        wrapped = _phrase_lines(icon_phrases(types, result.improvement, short=True), text_w, 11)
        lines += len(wrapped)
        text += "".join(
            f"<br><span style='font-size:11px;color:{NHS_DARK_GREY}'>{html_text(w)}</span>"
            for w in wrapped
        )
    band = phase_band_px(phase_levels)
    block = lines * PANEL_FONT * LINE_HEIGHT + 4
    icons_px = PANEL_ICON_PX + 2 if icon_w else 0
    return {
        "text": text,
        "types": types,
        "band": band,
        "xshift": 0 if stacked else beside,
        "yshift": band + icons_px if stacked else band,
        "height_px": band + (icons_px + block if stacked else max(icons_px, block)),
    }


def _phrase_lines(phrases: list[str], width_px: float, size: float) -> list[str]:
    """Phrases joined with " · " on as few lines as fit ``width_px``, a line breaking
    between phrases where it can (within one only when it is too long alone)."""
    lines: list[str] = []
    for phrase in phrases:
        joined = f"{lines[-1]} · {phrase}" if lines else phrase
        if lines and text_width_px(joined, size) <= width_px:
            lines[-1] = joined
        else:
            lines += wrap_lines(phrase, width_px, size)
    return lines
