"""The driver diagram: the aim, what drives it, and the change ideas tested in PDSA cycles.

A driver diagram sets out a team's theory of improvement: the **aim**; the
**primary drivers**, the few things that must be in place to reach it; the
**secondary drivers** that act on each primary driver; and the **change ideas**
the team will test (IHI, *Driver Diagram* tool, QI Essentials Toolkit, 2017;
Bennett & Provost, "What's your theory?", *Quality Progress* 2015). Change ideas
are tested in PDSA cycles, built into ramps (Langley et al., *The Improvement
Guide*, 2nd ed., 2009), so each change idea's box carries its cycles and what
was decided after each (adopt, adapt, abandon).

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

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from pxlib.data.journey_schemas import DRIVER_LEVELS
from pxlib.data.schemas import PDSA_DECISIONS
from pxlib.escape import html_text
from pxlib.spc.theme import (
    LINE_HEIGHT,
    NHS_AQUA_GREEN,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_LIGHT_BLUE,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    NHS_TEXT,
    NHS_WARM_YELLOW,
    TEMPLATE,
    text_width_px,
    wrap_lines,
)

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
#: what a cycle without a decision is called: still running, or ended undecided
UNDER_WAY, UNDECIDED = "under way", "no decision"
#: the one home of the colours of PDSA decisions (the words are
#: :data:`pxlib.data.schemas.PDSA_DECISIONS`); text is always dark on a pale tint
DECISION_COLOURS = dict(
    zip(PDSA_DECISIONS, (NHS_AQUA_GREEN, NHS_WARM_YELLOW, NHS_DARK_GREY), strict=True),
    **{UNDER_WAY: NHS_LIGHT_BLUE, UNDECIDED: NHS_MID_GREY},
)
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


def decision_word(decision: object, end_date: object = None) -> str:
    """A cycle's decision as it is shown: adopt, adapt, abandon, under way or no decision."""
    text = "" if decision is None or pd.isna(decision) else str(decision).strip().lower()
    if text in DECISION_COLOURS:
        return text
    return UNDER_WAY if end_date is None or pd.isna(end_date) else UNDECIDED


def _tint(colour: str, amount: float = 0.82) -> str:
    """``colour`` mixed with white (``amount`` of white)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


@dataclass
class _Node:
    key: tuple[str, str]
    level: str
    text: str
    children: list[_Node] = field(default_factory=list)
    cycles: list[dict] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    height: float = 0.0  # the box
    band: float = 0.0  # the subtree
    y: float = 0.0  # the box's centre


def _rows(diagram: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    rows = diagram.reindex(columns=["org_code", "unit", "node_id", "level", "parent_id", "text"])
    rows = rows[rows["level"].isin(DRIVER_LEVELS) & rows["node_id"].notna()]
    if unit is not None:
        named = rows["unit"].astype("string").fillna("").str.strip()
        rows = rows[named.eq(str(unit)) | named.eq("")]
    rows = rows.astype({"org_code": "string", "node_id": "string"})
    return rows.drop_duplicates(["org_code", "node_id"]).reset_index(drop=True)


def _cycles_by_idea(pdsa: pd.DataFrame | None, unit: str | None) -> dict[tuple, list[dict]]:
    """Each (org_code, change_idea_id)'s cycles, in the order they began."""
    if pdsa is None or len(pdsa) == 0 or "change_idea_id" not in pdsa.columns:
        return {}
    log = pdsa.reindex(
        columns=["org_code", "unit", "cycle_id", "change_idea_id", "start_date", "end_date",
                 "decision", "scale"]
    )  # fmt: skip
    log = log[log["change_idea_id"].notna() & log["change_idea_id"].astype(str).str.strip().ne("")]
    if unit is not None:
        log = log[log["unit"].astype("string").eq(str(unit)).fillna(False)]
    log = log.assign(start_date=pd.to_datetime(log["start_date"], errors="coerce"))
    out: dict[tuple, list[dict]] = {}
    for row in log.sort_values(["start_date", "cycle_id"]).to_dict("records"):
        row["word"] = decision_word(row["decision"], row["end_date"])
        out.setdefault((str(row["org_code"]), str(row["change_idea_id"])), []).append(row)
    return out


def _forest(rows: pd.DataFrame, cycles: dict[tuple, list[dict]]) -> list[_Node]:
    """The diagram's trees (roots in file order); a box whose parent is absent is a root."""
    nodes = {
        (str(r.org_code), str(r.node_id)): _Node(
            (str(r.org_code), str(r.node_id)), r.level, "" if pd.isna(r.text) else str(r.text)
        )
        for r in rows.itertuples(index=False)
    }
    roots = []
    depth = {lv: i for i, lv in enumerate(DRIVER_LEVELS)}
    for r in rows.itertuples(index=False):
        node = nodes[(str(r.org_code), str(r.node_id))]
        node.cycles = cycles.get(node.key, []) if node.level == "change_idea" else []
        parent = nodes.get((str(r.org_code), str(r.parent_id))) if pd.notna(r.parent_id) else None
        if parent is not None and depth[parent.level] < depth[node.level]:
            parent.children.append(node)
        else:
            roots.append(node)
    return roots


def _walk(nodes: list[_Node]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


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


def _chip_text(cycle: dict) -> str:
    return f"{cycle['cycle_id']} {cycle['word']}"


def _chip_lines(cycle: dict, width: float) -> list[str]:
    """A chip's words as drawn: one line, or broken at spaces when wider than ``width``."""
    return wrap_lines(_chip_text(cycle), width - 2 * (_CHIP_PAD + _CHIP_BORDER), _CHIP_FONT)


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


def _label(node: _Node) -> str:
    return f"{node.key[1]}: {node.text}" if node.level == "change_idea" else node.text


def _measure(roots: list[_Node], cols: _Columns, with_cycles: bool) -> None:
    """Wrap every box's text, then each subtree's band (leaves first)."""
    for node in _walk(roots):
        inner = cols.width[node.level] - 2 * _PAD_X - 4
        node.lines = wrap_lines(_label(node), inner, _FONT)
        node.height = len(node.lines) * _FONT * LINE_HEIGHT + 2 * _PAD_Y

    def band(node: _Node, depth: int) -> float:
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


def _place(node: _Node, top: float, depth: int) -> None:
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


def _box_items(node: _Node, cols: _Columns) -> tuple[dict, dict]:
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


def _link(parent: _Node, child: _Node, cols: _Columns) -> dict:
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


def _chips(node: _Node, cols: _Columns) -> list[dict]:
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
    rows = _rows(diagram, unit)
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
    roots = _forest(rows, _cycles_by_idea(pdsa, unit))
    levels = [lv for lv in DRIVER_LEVELS if lv in set(rows["level"])]
    cols = _columns(levels, with_cycles, width)
    _measure(roots, cols, with_cycles)
    top = 0.0
    for root in roots:
        _place(root, top, 0)
        top += root.band + _GAP_Y[0]
    height = top - _GAP_Y[0]
    shapes, notes, xs, ys, hovers = [], [], [], [], []
    for node in _walk(roots):
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


# --- words and tables ---------------------------------------------------------------------


def cycles_words(cycles: list[dict]) -> str:
    """``ZA1-1 adapt · ZA1-2 adapt``: a change idea's cycles and decisions, in order."""
    return " · ".join(_chip_text(c) for c in cycles)


def _quoted(node: _Node) -> str:
    return f"“{node.text}”"


def _idea_words(node: _Node) -> str:
    head = f"change idea {node.key[1]} {_quoted(node)}"
    if not node.cycles:
        return head + " (not tested yet)"
    which = "cycle" if len(node.cycles) == 1 else "cycles"
    return f"{head} (PDSA {which} " + ", ".join(map(_chip_text, node.cycles)) + ")"


def _node_words(node: _Node) -> str:
    """A box and everything under it, in words (a driver's children after a colon)."""
    if node.level == "change_idea":
        return _idea_words(node)
    head = f"{node.level} driver {_quoted(node)}"
    if not node.children:
        return head + " (no change ideas yet)"
    if node.level == "secondary":
        return head + " with " + " and ".join(_node_words(c) for c in node.children)
    return head + ": " + "; ".join(_node_words(c) for c in node.children)


def _sentence(words: str) -> str:
    return words[0].upper() + words[1:] + "."


def driver_alt_text(diagram: pd.DataFrame, pdsa: pd.DataFrame | None = None, *, unit=None) -> str:
    """The driver diagram in words: the aim, each driver, each change idea and its cycles.

    "Driver diagram of Ash Ward. The aim is “…”. It has 2 primary drivers. Primary
    driver “…”: secondary driver “…” with change idea CI1 “…” (PDSA cycles ZA1-1
    adapt, ZA1-2 adapt); …"
    """
    rows = _rows(diagram, unit)
    if rows.empty:
        return "No driver diagram has been recorded yet."
    parts = [f"Driver diagram{f' of {unit}' if unit is not None else ''}."]
    for root in _forest(rows, _cycles_by_idea(pdsa, unit)):
        if root.level != "aim":
            parts.append(_sentence(_node_words(root)))
            continue
        kids = root.children
        parts.append(f"The aim is {_quoted(root)}.")
        primaries = "primary " if all(k.level == "primary" for k in kids) else ""
        many = "driver" if len(kids) == 1 else "drivers"
        parts.append(f"It has {len(kids)} {primaries}{many}." if kids else "No drivers yet.")
        parts.extend(_sentence(_node_words(k)) for k in kids)
    return " ".join(parts)


def driver_table(
    diagram: pd.DataFrame, pdsa: pd.DataFrame | None = None, *, unit: str | None = None
) -> pd.DataFrame:
    """The tree as a tidy table for a printable page: one row per path to a leaf box.

    Columns: ``org_code``, ``aim``, ``primary_driver``, ``secondary_driver``,
    ``change_idea_id``, ``change_idea``, ``pdsa_cycles`` (:func:`cycles_words`);
    a level a path does not pass through is empty. Values are plain text: escape
    them where they are shown.
    """
    columns = ["org_code", "aim", "primary_driver", "secondary_driver", "change_idea_id",
               "change_idea", "pdsa_cycles"]  # fmt: skip
    rows = _rows(diagram, unit)
    roots = _forest(rows, _cycles_by_idea(pdsa, unit))
    field_of = {"aim": "aim", "primary": "primary_driver", "secondary": "secondary_driver"}
    out = []

    def visit(node: _Node, path: dict) -> None:
        path = {**path}
        if node.level == "change_idea":
            path.update(
                change_idea_id=node.key[1],
                change_idea=node.text,
                pdsa_cycles=cycles_words(node.cycles),
            )
        else:
            path[field_of[node.level]] = node.text
        if not node.children:
            out.append({"org_code": node.key[0], **path})
        for child in node.children:
            visit(child, path)

    for root in roots:
        visit(root, {})
    return pd.DataFrame(out, columns=columns).fillna("")
