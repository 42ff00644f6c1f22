"""What is written on a chart besides its data: the phases (a dotted line between them
and a label over each) and the PDSA cycles (a dotted line and a labelled arrow on the x
axis, the change idea, prediction, what happened and decision in its hover); and the
phase starts of adopted PDSA cycles, for ``pxlib.spc.chart(phases=...)``.

Labels that would run together are stacked, up to three high (from the x axis up for
PDSA cycles, from the top of the plotting area up for phases); the rest keep only a
small hover target.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ColumnError
from pxlib.escape import html_text
from pxlib.spc.plot.values import as_text, is_blank, is_date_like, value_text
from pxlib.spc.plot.words import LINE_NAMES
from pxlib.spc.plot.xaxis import MAX_LABEL_LEVELS, XScale, stagger
from pxlib.spc.theme import NHS_DARK_BLUE, NHS_DARK_GREY, NHS_MID_GREY, text_width_px

PDSA_COLUMNS: dict[str, Any] = {
    "x": "start_date",
    "label": "change_idea",
    "short": "cycle_id",
    "end": "end_date",
    "decision": "decision",
    "details": ("prediction", "what_happened", "decision"),
}


def wrap_hover(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(html_text(text), width))


_PHASE_FONT = 11
_PHASE_STEP_PX = 15  # one level of phase labels: an 11 px line and its padding
_PDSA_FONT = 10
_PDSA_STEP_PX = 16
_PDSA_ARROW_PX = 26  # label of the lowest level above the x axis


def phase_band_px(levels: int) -> int:
    """Height above a panel's plotting area kept for its phase labels (18 px for one level)."""
    return 3 + _PHASE_STEP_PX * max(levels, 1)


def _midpoint(a: Any, b: Any, dates: bool) -> Any:
    if dates:
        ta, tb = pd.Timestamp(a), pd.Timestamp(b)
        return (ta + (tb - ta) / 2).strftime("%Y-%m-%d %H:%M")
    try:
        return (float(a) + float(b)) / 2
    except (TypeError, ValueError):
        return b


def phase_marks(
    segments: list[tuple],
    x: list,
    dates: bool,
    xa: str,
    ya: str,
    labels: dict | Sequence[str] | None = None,
    named: np.ndarray | None = None,
    scale: XScale | None = None,
) -> tuple[list[dict], list[dict], int]:
    """A dotted line between phases and a label over each: ``labels`` (the figure's
    ``phase_labels``) when given, else the engine's ``phase_label`` column (``named``),
    else "Phase n". Returns the lines, the labels and the number of levels the labels
    are stacked on (0 for a chart of one phase); labels that would run together are
    stacked, up to :data:`MAX_LABEL_LEVELS` high, the rest shown on hover only."""
    shapes: list[dict] = []
    notes: list[dict] = []
    if len(segments) < 2:
        return shapes, notes, 0
    texts, firsts = [], []
    for i, (a, _b, phase) in enumerate(segments):
        phase = phase.item() if hasattr(phase, "item") else phase
        if isinstance(labels, dict):
            label = labels.get(phase, f"Phase {value_text(phase)}")
        elif labels is not None and i < len(labels):
            label = labels[i]
        elif named is not None and not is_blank(named[a]):
            label = named[a]
        else:
            label = f"Phase {value_text(phase)}"
        texts.append(value_text(label))
        firsts.append(x[a])
        if i > 0:
            prev_last = x[segments[i - 1][1] - 1]
            at = _midpoint(prev_last, x[a], dates)
            shapes.append(
                {
                    "type": "line",
                    "xref": xa,
                    "yref": f"{ya} domain",
                    "x0": at,
                    "x1": at,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": NHS_MID_GREY, "width": 1, "dash": "dot"},
                }
            )
    # each label starts at its phase's first x: stagger those that would run together
    boxes = []
    for text, first in zip(texts, firsts, strict=True):
        left = scale.px(first) if scale is not None else None
        width = text_width_px(html_text(text), _PHASE_FONT) + 4
        boxes.append(None if left is None else (left, left + width))
    levels = stagger(boxes, MAX_LABEL_LEVELS)
    for text, first, level in zip(texts, firsts, levels, strict=True):
        note = {
            "x": first,
            "y": 1,
            "xref": xa,
            "yref": f"{ya} domain",
            "xanchor": "left",
            "yanchor": "bottom",
            "text": html_text(text),
            "showarrow": False,
            "font": {"size": _PHASE_FONT, "color": NHS_DARK_GREY},
        }
        if level is None:  # too crowded: a small hover target at the phase's start
            note.update(hover_only(html_text(text)))
        else:
            note["yshift"] = level * _PHASE_STEP_PX
        notes.append(note)
    return shapes, notes, max([lv + 1 for lv in levels if lv is not None], default=1)


def hover_only(hover: str) -> dict[str, Any]:
    """Annotation settings that show no label but keep ``hover`` on a small invisible
    target where the label would be."""
    return {"text": " ", "width": 10, "height": 10, "hovertext": hover}


def pdsa_rows(table: pd.DataFrame, cols: dict[str, Any]) -> pd.DataFrame:
    for role in ("x", "label"):
        if cols[role] not in table.columns:
            raise ColumnError(
                f"the annotations table has no {role} column {cols[role]!r} "
                f"(its columns: {', '.join(map(str, table.columns))}); pass "
                f"annotation_{role}='<column>'"
            )
    return table[table[cols["x"]].notna()]


def _pdsa_hover(row: pd.Series, cols: dict[str, Any], short: str) -> str:
    start = row[cols["x"]]
    when = pd.Timestamp(start).strftime("%d %b %Y") if is_date_like(start) else value_text(start)
    end: Any = row.get(cols["end"]) if cols["end"] else None
    if not is_blank(end) and is_date_like(end):
        when += f" to {pd.Timestamp(end).strftime('%d %b %Y')}"
    lines = [f"<b>{html_text(short)}</b> ({when})", wrap_hover(as_text(row[cols["label"]]))]
    names = {"prediction": "Prediction", "what_happened": "What happened", "decision": "Decision"}
    for col in cols["details"] or ():
        if col in row.index and not is_blank(row[col]):
            lines.append(f"{names.get(col, col)}: {wrap_hover(as_text(row[col]))}")
    return "<br>".join(lines)


def _short_label(row: pd.Series, cols: dict[str, Any], width: int = 18) -> str:
    short_col = cols["short"]
    if short_col and short_col in row.index and not is_blank(row[short_col]):
        return value_text(row[short_col])
    text = as_text(row[cols["label"]])
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def pdsa_for_group(table: pd.DataFrame, by: Sequence[str], key: tuple) -> pd.DataFrame:
    match = [c for c in by if c in table.columns]
    if not match:
        return table
    keep = np.ones(len(table), dtype=bool)
    for col, value in zip(by, key, strict=False):
        if col in match:
            keep &= (table[col].astype(str) == str(value)).to_numpy()
    return table[keep]


def pdsa_marks(
    table: pd.DataFrame,
    cols: dict[str, Any],
    xa: str,
    ya: str,
    dates: bool,
    scale: XScale | None = None,
) -> tuple[list[dict], list[dict]]:
    """A dotted line and a labelled arrow on the x axis for each cycle.

    Labels of cycles closer together than a label is wide are stacked (up to
    three levels, from the x axis up); a cycle with no room left keeps its line
    and arrow and shows its label on hover only.
    """
    shapes, notes = [], []
    for _, row in table.iterrows():
        x = row[cols["x"]]
        if dates or is_date_like(x):
            x = pd.Timestamp(x).strftime("%Y-%m-%d")
        short = _short_label(row, cols)
        shapes.append(
            {
                "type": "line",
                "xref": xa,
                "yref": f"{ya} domain",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "layer": "below",
                "line": {"color": NHS_DARK_BLUE, "width": 1, "dash": "dot"},
                "opacity": 0.35,
            }
        )
        notes.append(
            {
                "x": x,
                "y": 0,
                "xref": xa,
                "yref": f"{ya} domain",
                "text": html_text(short),
                "hovertext": _pdsa_hover(row, cols, short),
                "showarrow": True,
                "arrowhead": 2,
                "arrowsize": 1,
                "arrowcolor": NHS_DARK_BLUE,
                "ax": 0,
                "ay": -_PDSA_ARROW_PX,
                "font": {"size": _PDSA_FONT, "color": NHS_DARK_BLUE},
                "bgcolor": "rgba(255,255,255,0.9)",
            }
        )
    boxes = []
    for note in notes:
        centre = scale.px(note["x"]) if scale is not None else None
        half = (text_width_px(note["text"], _PDSA_FONT) + 6) / 2  # text, padding, border
        boxes.append(None if centre is None else (centre - half, centre + half))
    levels = stagger(boxes, MAX_LABEL_LEVELS)
    for note, level in zip(notes, levels, strict=True):
        if level is None:
            note.update(hover_only(note["hovertext"]), bgcolor="rgba(0,0,0,0)")
        else:
            note["ay"] = -(_PDSA_ARROW_PX + level * _PDSA_STEP_PX)
    # lower labels drawn last, over the arrows of the labels stacked above them
    depth = [9 if level is None else level for level in levels]
    order = sorted(range(len(notes)), key=lambda i: -depth[i])
    return shapes, [notes[i] for i in order]


def phases_from_pdsa(
    pdsa: pd.DataFrame,
    *,
    x: str = "end_date",
    fallback_x: str = "start_date",
    decision: str = "decision",
    adopt: Iterable[str] = ("adopt",),
    by: str | Sequence[str] | None = None,
    x_values: Sequence | pd.Series | None = None,
) -> list | dict:
    """Phase starts taken from adopted PDSA cycles, for ``pxlib.spc.chart(phases=...)``.

    A cycle whose ``decision`` is one of ``adopt`` (case-insensitive) starts a new
    phase at its ``x`` (the end date; the start date where it has none). With
    ``by`` (column(s) present in both the PDSA log and the data, e.g. ``"unit"``)
    the result is a dict {group value (a tuple for several columns): [x, ...]}, as
    the engine's ``phases`` accepts; without it a sorted list. With ``x_values``
    (the chart's x values) each date is moved to the first x on or after it, so
    the phase starts at a plotted point; a date after the last x is dropped.
    """
    for col in (x, decision):
        if col not in pdsa.columns:
            raise ColumnError(
                f"the PDSA log has no column {col!r} (its columns: "
                f"{', '.join(map(str, pdsa.columns))})"
            )
    wanted = {a.strip().lower() for a in adopt}
    kept = pdsa[pdsa[decision].astype(str).str.strip().str.lower().isin(wanted)]
    when = pd.to_datetime(kept[x], errors="coerce")
    if fallback_x in kept.columns:
        when = when.fillna(pd.to_datetime(kept[fallback_x], errors="coerce"))
    kept = kept.assign(_when=when)
    kept = kept[kept["_when"].notna()]
    grid: np.ndarray | None = None
    if x_values is not None:
        plotted = pd.Series(pd.to_datetime(pd.Series(x_values).dropna().unique()))
        grid = plotted.sort_values().to_numpy()

    def snap(values: pd.Series) -> list:
        out = sorted(set(values))
        if grid is None:
            return [pd.Timestamp(v) for v in out]
        pos = np.searchsorted(grid, np.asarray(out, dtype="datetime64[ns]"), side="left")
        return sorted({pd.Timestamp(grid[p]) for p in pos if p < len(grid)})

    if by is None:
        return snap(kept["_when"])
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in kept.columns]
    if missing:
        raise ColumnError(f"the PDSA log has no column {', '.join(map(repr, missing))}")
    out: dict = {}
    for key, g in kept.groupby(cols, sort=True):
        k = key if len(cols) > 1 else (key[0] if isinstance(key, tuple) else key)
        starts = snap(g["_when"])
        if starts:
            out[k] = starts
    return out


def pdsa_legend() -> dict:
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "marker": {"symbol": "arrow-down", "color": NHS_DARK_BLUE, "size": 9},
        "name": LINE_NAMES["pdsa"],
        "legendrank": 50,
        "hoverinfo": "skip",
    }
