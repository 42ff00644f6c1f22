"""The driver diagram drawn: the aim, what drives it, and the change ideas tested in PDSA cycles.

The tree itself (boxes, each change idea's cycles and decisions), its words and its
table are :mod:`pxlib.workbook.driver_tree`, whose public names are re-exported here;
this module measures and places the boxes and draws them (:func:`driver_figure`).

Layout (:func:`driver_figure`): one column per level present, left to right,
then the cycles. Each box's text is wrapped at words to its column's width
(:func:`pxlib.spc.theme.wrap_lines`) and the box is as tall as its lines. Every
subtree gets a band of the figure's height, the larger of its own box and the
sum of its children's bands (a leaf's band also holds its cycles), so boxes of a
column never overlap however many change ideas there are; a box is centred on
its children. Lines run from the right edge of a box to the left edge of each
child, as elbows. Every label is escaped (:func:`pxlib.escape.html_text`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from pxlib.data.journey_schemas import DRIVER_LEVELS
from pxlib.escape import html_text
from pxlib.spc.theme import (
    LINE_HEIGHT,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    NHS_TEXT,
    TEMPLATE,
    text_width_px,
    wrap_lines,
)
from pxlib.workbook.driver_tree import (
    DECISION_COLOURS,
    UNDECIDED,
    UNDER_WAY,
    DriverNode,
    chip_text,
    cycles_by_idea,
    cycles_words,
    decision_word,
    diagram_rows,
    driver_alt_text,
    driver_table,
    forest,
    walk,
)

__all__ = [
    "CYCLES_TITLE",
    "DECISION_COLOURS",
    "DRIVER_LEVELS",
    "FIGURE_WIDTH",
    "LEVEL_TITLES",
    "UNDECIDED",
    "UNDER_WAY",
    "cycles_words",
    "decision_word",
    "driver_alt_text",
    "driver_figure",
    "driver_table",
]


#: column headings, by level
LEVEL_TITLES = {
    "aim": "Aim",
    "primary": "Primary drivers",
    "secondary": "Secondary drivers",
    "change_idea": "Change ideas",
}
CYCLES_TITLE = "PDSA cycles"
#: the figure's default width: inside a report's column (1,100 px, ``pxlib.report.export``)
FIGURE_WIDTH = 1040
#: box fill, border and text colour by level
_BOX = {
    "aim": (NHS_DARK_BLUE, NHS_DARK_BLUE, "white"),
    "primary": (NHS_BLUE, NHS_BLUE, "white"),
    "secondary": ("#E6F0F9", NHS_BLUE, NHS_TEXT),
    "change_idea": ("white", NHS_BLUE, NHS_TEXT),
}
_FONT, _CHIP_FONT = 12, 11
_PAD_X, _PAD_Y = 8, 7
_CHIP_PAD, _CHIP_BORDER, _CHIP_GAP = 3, 1.5, 6
_GAP_X = 44  # between columns: room for the elbows
_GAP_Y = {0: 28, 1: 22, 2: 14, 3: 10}  # between sibling bands, by the parent's depth
#: column widths relative to a driver's: the aim a little narrower, change ideas wider
_WEIGHT = {"aim": 0.9, "change_idea": 1.2, "cycles": 0.8}
_HEAD = 34  # column headings above the boxes
_MARGIN = {"l": 12, "r": 12, "t": 56, "b": 16}


def _tint(colour: str, amount: float = 0.82) -> str:
    """``colour`` mixed with white (``amount`` of white)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


@dataclass(frozen=True)
class _Columns:
    """x positions (left edge, width) of each level's column and of the cycles."""

    left: dict[str, float]
    width: dict[str, float]
    total: float


def _columns(levels: list[str], with_cycles: bool, width: float) -> _Columns:
    names = [*levels, *(["cycles"] if with_cycles else [])]
    weights = [_WEIGHT.get(n, 1.0) for n in names]
    inner = width - _MARGIN["l"] - _MARGIN["r"]
    unit = (inner - _GAP_X * (len(names) - 1)) / sum(weights)
    left, widths, x = {}, {}, 0.0
    for name, w in zip(names, weights, strict=True):
        left[name], widths[name] = x, unit * w
        x += unit * w + _GAP_X
    return _Columns(left, widths, inner)


def _chip_lines(cycle: dict, width: float) -> list[str]:
    """A chip's words as drawn: one line, or broken at spaces when wider than ``width``."""
    return wrap_lines(chip_text(cycle), width - 2 * (_CHIP_PAD + _CHIP_BORDER), _CHIP_FONT)


def _chip_layout(cycles: list[dict], width: float) -> tuple[list[tuple[float, float]], float]:
    """(x, y) offsets of each cycle's chip flowed into ``width``, and the chips' height.

    Chips flow left to right and onto a new row when the next one does not fit; a row is
    as tall as its tallest chip, rows 4 px apart.
    """
    pad = 2 * (_CHIP_PAD + _CHIP_BORDER)
    places, x, y, row_h = [], 0.0, 0.0, 0.0
    for cycle in cycles:
        lines = _chip_lines(cycle, width)
        w = max(_plain_width_px(line) for line in lines) + pad
        h = len(lines) * _CHIP_FONT * LINE_HEIGHT + pad
        if x > 0 and x + w > width:
            x, y, row_h = 0.0, y + row_h + 4, 0.0
        places.append((x, y))
        x, row_h = x + w + _CHIP_GAP, max(row_h, h)
    return places, y + row_h if cycles else _CHIP_FONT * LINE_HEIGHT + pad


def _plain_width_px(text: str) -> float:
    return text_width_px(html_text(text), _CHIP_FONT)  # escaped: a "<" is text, not a tag


def _label(node: DriverNode) -> str:
    return f"{node.key[1]}: {node.text}" if node.level == "change_idea" else node.text


def _measure(roots: list[DriverNode], cols: _Columns, with_cycles: bool) -> None:
    """Wrap every box's text, then each subtree's band (leaves first)."""
    for node in walk(roots):
        inner = cols.width[node.level] - 2 * _PAD_X - 4
        node.lines = wrap_lines(_label(node), inner, _FONT)
        node.height = len(node.lines) * _FONT * LINE_HEIGHT + 2 * _PAD_Y

    def band(node: DriverNode, depth: int) -> float:
        own = node.height
        if node.level == "change_idea" and with_cycles:
            own = max(own, _chip_layout(node.cycles, cols.width["cycles"])[1])
        if node.children:
            kids = sum(band(c, depth + 1) for c in node.children)
            own = max(own, kids + _GAP_Y.get(depth, 10) * (len(node.children) - 1))
        node.band = own
        return own

    for root in roots:
        band(root, 0)


def _place(node: DriverNode, top: float, depth: int) -> None:
    """Centre each box in its band, on its children when it has some."""
    gap = _GAP_Y.get(depth, 10)
    kids = sum(c.band for c in node.children) + gap * max(len(node.children) - 1, 0)
    y = top + (node.band - kids) / 2
    for child in node.children:
        _place(child, y, depth + 1)
        y += child.band + gap
    if node.children:
        centre = (node.children[0].y + node.children[-1].y) / 2
    else:
        centre = top + node.band / 2
    half = node.height / 2
    node.y = min(max(centre, top + half), top + node.band - half)


def _note(x: float, y: float, text: str, size: int, colour: str, name: str, **extra) -> dict:
    """A left-anchored annotation without an arrow (``text`` already escaped)."""
    return {"x": x, "y": y, "xanchor": "left", "yanchor": "middle", "showarrow": False,
            "text": text, "font": {"size": size, "color": colour}, "name": name, **extra}  # fmt: skip


def _rounded(x0: float, y0: float, x1: float, y1: float, r: float = 6) -> str:
    """SVG path of a rectangle with rounded corners (y grows downwards)."""
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    return (
        f"M {x0 + r},{y0} H {x1 - r} Q {x1},{y0} {x1},{y0 + r} V {y1 - r} "
        f"Q {x1},{y1} {x1 - r},{y1} H {x0 + r} Q {x0},{y1} {x0},{y1 - r} V {y0 + r} "
        f"Q {x0},{y0} {x0 + r},{y0} Z"
    )


def _box_items(node: DriverNode, cols: _Columns) -> tuple[dict, dict]:
    fill, border, colour = _BOX[node.level]
    x0 = cols.left[node.level]
    x1 = x0 + cols.width[node.level]
    y0, y1 = node.y - node.height / 2, node.y + node.height / 2
    shape = {
        "type": "path",
        "path": _rounded(x0, y0, x1, y1),
        "fillcolor": fill,
        "line": {"color": border, "width": 1.5},
        "layer": "below",
        "name": f"box {node.key[1]}",
    }
    lines = [html_text(line) for line in node.lines]
    if node.level == "change_idea":
        first = html_text(f"{node.key[1]}:")
        lines[0] = f"<b>{first}</b>" + lines[0][len(first) :]
    text = "<br>".join(lines)
    return shape, _note(
        x0 + _PAD_X, node.y, text, _FONT, colour, f"text {node.key[1]}", align="left"
    )


def _link(parent: DriverNode, child: DriverNode, cols: _Columns) -> dict:
    x0 = cols.left[parent.level] + cols.width[parent.level]
    x1 = cols.left[child.level]
    xm = x0 + _GAP_X / 2
    return {
        "type": "path",
        "path": f"M {x0},{parent.y} H {xm} V {child.y} H {x1}",
        "line": {"color": NHS_MID_GREY, "width": 1.5},
        "layer": "below",
        "name": f"link {parent.key[1]} -> {child.key[1]}",
    }


def _chips(node: DriverNode, cols: _Columns) -> list[dict]:
    places, height = _chip_layout(node.cycles, cols.width["cycles"])
    left, top = cols.left["cycles"], node.y - height / 2
    if not node.cycles:
        words = "<i>not tested yet</i>"
        return [_note(left, node.y, words, _CHIP_FONT, NHS_DARK_GREY, f"cycles {node.key[1]}")]
    out = []
    for cycle, (x, y) in zip(node.cycles, places, strict=True):
        colour = DECISION_COLOURS[cycle["word"]]
        hover = html_text(f"PDSA cycle {cycle['cycle_id']}: {cycle['word']}")
        scale = cycle.get("scale")
        if scale is not None and pd.notna(scale) and str(scale).strip():
            hover += f"<br>Scale: {html_text(scale)}"
        out.append(
            _note(
                left + x,
                top + y,
                "<br>".join(map(html_text, _chip_lines(cycle, cols.width["cycles"]))),
                _CHIP_FONT,
                NHS_TEXT,
                f"cycle {cycle['cycle_id']} of {node.key[1]}",
                yanchor="top",
                bgcolor=_tint(colour),
                bordercolor=colour,
                borderwidth=_CHIP_BORDER,
                borderpad=_CHIP_PAD,
                hovertext=hover,
            )
        )
    return out


def driver_figure(
    diagram: pd.DataFrame,
    pdsa: pd.DataFrame | None = None,
    *,
    unit: str | None = None,
    width: int = FIGURE_WIDTH,
) -> go.Figure:
    """The driver diagram as a plotly figure: aim → primary → secondary → change ideas.

    ``diagram``: rows of ``driver_diagram.csv`` as loaded (``org_code``, ``unit``,
    ``node_id``, ``level``, ``parent_id``, ``text``); ``pdsa``: the PDSA log, whose
    cycles with a ``change_idea_id`` are drawn beside their change idea as chips
    coloured by decision (:data:`DECISION_COLOURS`). ``unit``: keep that unit's boxes
    (and boxes with no unit: an organisation's diagram) and that unit's cycles.
    Columns are the levels present; a change idea directly under a primary driver
    is drawn in the change-idea column. Layout: the module docstring. The figure is
    ``width`` pixels wide and as tall as its boxes need; every box, line and chip
    is named (``box CI1``, ``link S1 -> CI1``, ``cycle ZA1-1 of CI1``).
    """
    rows = diagram_rows(diagram, unit)
    title = "Driver diagram" + (f": {html_text(unit)}" if unit is not None else "")
    layout = {
        "template": TEMPLATE,
        "title": {"text": title},
        "width": width,
        "margin": dict(_MARGIN),
        "showlegend": False,
        "xaxis": {"visible": False, "fixedrange": True},
        "yaxis": {"visible": False, "fixedrange": True},
        "hovermode": "closest",
    }
    if rows.empty:
        words = "No driver diagram yet: add driver_diagram.csv (aim, drivers, change ideas)."
        note = _note(0, 0.5, words, _FONT, NHS_TEXT, "empty", xref="paper", yref="paper")
        return go.Figure(layout={**layout, "height": 160, "annotations": [note]})
    with_cycles = pdsa is not None
    roots = forest(rows, cycles_by_idea(pdsa, unit))
    levels = [lv for lv in DRIVER_LEVELS if lv in set(rows["level"])]
    cols = _columns(levels, with_cycles, width)
    _measure(roots, cols, with_cycles)
    top = 0.0
    for root in roots:
        _place(root, top, 0)
        top += root.band + _GAP_Y[0]
    height = top - _GAP_Y[0]
    shapes, notes, xs, ys, hovers = [], [], [], [], []
    for node in walk(roots):
        shape, note = _box_items(node, cols)
        shapes.append(shape)
        notes.append(note)
        shapes.extend(_link(node, child, cols) for child in node.children)
        if node.level == "change_idea" and with_cycles:
            notes.extend(_chips(node, cols))
        xs.append(cols.left[node.level] + cols.width[node.level] / 2)
        ys.append(node.y)
        hovers.append(f"{LEVEL_TITLES[node.level]}: " + "<br>".join(map(html_text, node.lines)))
    heads = {**LEVEL_TITLES, "cycles": CYCLES_TITLE}
    for name in cols.left:
        words, y = f"<b>{heads[name]}</b>", -_HEAD / 2
        notes.append(_note(cols.left[name], y, words, 13, NHS_DARK_BLUE, f"heading {name}"))
    marker = {"size": 24, "opacity": 0, "color": NHS_PALE_GREY}
    trace = go.Scatter(x=xs, y=ys, mode="markers", marker=marker, hovertext=hovers,
                       hoverinfo="text", name="boxes")  # fmt: skip
    layout.update(
        height=int(height + _HEAD + _MARGIN["t"] + _MARGIN["b"] + 4),
        shapes=shapes,
        annotations=notes,
    )
    layout["xaxis"]["range"] = [0, cols.total]
    layout["yaxis"]["range"] = [height + 2, -_HEAD - 2]
    return go.Figure(data=[trace], layout=layout)
