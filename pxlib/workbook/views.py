"""What a notebook shows of a chart or table, computed: small numbers hidden, gaps labelled, words.

Statistics are computed from all data first; only what is shown is hidden, under
the small-number rule of :mod:`pxlib.disclosure`:

- :func:`suppress` hides counts and percentages of a table resting on fewer than
  ``min_respondents`` answers;
- :func:`suppress_points` does the same for the points of an SPC chart: a
  suppressed week is drawn as a gap, and :func:`label_gaps` labels it;
- :func:`spc_alt_text` describes a chart in words (screen readers and printed
  reports get the same content as the picture);
- :func:`spc_chart_view` and :func:`funnel_chart_view` put these together: a
  :class:`ChartView` (the figure and its words) that :mod:`pxlib.workbook.display`
  only displays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib.disclosure import small_numbers
from pxlib.fmt import count

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from pxlib.spc.result import FunnelResult, SPCResult


def suppress(
    frame: pd.DataFrame,
    *,
    n_col: str = "n_respondents",
    count_cols: Sequence[str] = (),
    value_cols: Sequence[str] = (),
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """A display copy with counts and values resting on fewer than ``min_respondents`` hidden.

    Where ``frame[n_col]`` (unweighted respondents) is below the threshold,
    ``n_col`` itself, every ``count_cols`` and every ``value_cols`` cell becomes
    missing, and a column ``note`` says why. Zero respondents are not
    suppressed (there is nothing to disclose). Columns stay numeric, so
    formatting still works; missing cells show as "not shown" in :func:`table`.
    """
    if n_col not in frame.columns:
        from pxlib.errors import ColumnError

        raise ColumnError(f"cannot suppress small numbers: no {n_col!r} column")
    rule = small_numbers(min_respondents)
    out = frame.copy()
    n = pd.to_numeric(out[n_col], errors="coerce")
    small = pd.Series(rule.hides(n) & n.notna().to_numpy(), index=out.index)
    cols = [c for c in (*count_cols, *value_cols) if c in out.columns]
    for col in cols:
        out[col] = out[col].astype("float64").where(~small, np.nan)
    out[n_col] = n.astype("float64").where(~small, np.nan)
    out["note"] = np.where(small, rule.note, "")
    return out


def suppress_points(
    result: SPCResult,
    respondents: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    x: str = "week",
    n_col: str = "n_respondents",
) -> tuple[SPCResult, pd.DataFrame]:
    """An SPC result for display, with weeks resting on fewer than ``min_respondents`` blanked.

    The chart's statistics (centre lines, limits, signals) were computed from
    all data and are kept; at each suppressed point the value ``y``, its
    denominator ``n`` and its point-specific limits are set missing, so the
    figure shows a gap and its hover and JSON carry no small number. Returns
    ``(result_for_display, suppressed)`` where ``suppressed`` lists the by
    columns and ``x`` of each hidden point.
    """
    by = list(result.by)
    keys = respondents[[*by, x, n_col]].rename(columns={x: "x"})
    pts = result.points.merge(keys, on=[*by, "x"], how="left", validate="many_to_one")
    n = pd.to_numeric(pts[n_col], errors="coerce")
    small = small_numbers(min_respondents).hides(n) & n.notna().to_numpy()
    for col in ("y", "n", "lcl", "ucl", "lcl_2s", "ucl_2s"):
        if col in pts.columns:
            pts[col] = pts[col].astype("float64").where(~small, np.nan)
    suppressed = pts.loc[small, [*by, "x"]].reset_index(drop=True)
    pts = pts.drop(columns=[n_col]).set_axis(result.points.index)  # merge renumbered the rows
    shown = result.with_points(pts)
    return shown, suppressed


def label_gaps(
    fig: go.Figure,
    suppressed: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    min_respondents: int | None = None,
    group: object = None,
) -> go.Figure:
    """Shade and label each suppressed week of ``fig`` ("fewer than 5 answers: not shown").

    For a single chart (``group`` given or no ``by``) every row of
    ``suppressed`` is drawn; for small multiples each panel gets its own
    group's weeks, found from the panels the figure records
    (:func:`pxlib.spc.plot.groups.panel_axes`). The figure is changed in place
    (its shapes and annotations set once) and returned.
    """
    from pxlib.spc.plot.groups import panel_axes

    if suppressed is None or suppressed.empty:
        return fig
    by = list(by)
    if group is not None or not by:
        if group is not None and by:
            key = group if isinstance(group, tuple) else (group,)
            mask = np.logical_and.reduce([suppressed[c] == v for c, v in zip(by, key, strict=True)])
            rows = suppressed[mask]
        else:
            rows = suppressed
        targets = [(rows, "x", "y")]
    else:
        axes = panel_axes(fig)
        targets = []
        for key, rows in suppressed.groupby(by, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            found = axes.get(tuple(str(v) for v in key))
            if found is not None:
                targets.append((rows, *found))
    shapes, notes = _gap_marks(targets, small_numbers(min_respondents).note)
    if shapes:
        fig.layout.shapes += tuple(shapes)
        fig.layout.annotations += tuple(notes)
    return fig


def _gap_marks(
    targets: list[tuple[pd.DataFrame, str, str]], label: str
) -> tuple[list[dict], list[dict]]:
    """The grey band and hover dot of every suppressed week of each ``(rows, xaxis,
    yaxis)``, and once the band's meaning above the first."""
    week = pd.Timedelta(days=3.5)
    font = {"color": "#425563"}
    shapes: list[dict] = []
    notes: list[dict] = []
    for rows, xa, ya in targets:
        for xv in rows["x"]:
            half = week if isinstance(xv, pd.Timestamp) else 0.5
            shapes.append(
                {
                    "type": "rect",
                    "xref": xa,
                    "yref": f"{ya} domain",
                    "x0": xv - half,
                    "x1": xv + half,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": "#E8EDEE",
                    "opacity": 0.8,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
            at = {"x": xv, "xref": xa, "yref": f"{ya} domain", "showarrow": False}
            notes.append(
                {**at, "y": 0, "text": "·", "hovertext": label, "font": {**font, "size": 14}}
            )
            if len(notes) == 1:
                notes.append(
                    {
                        **at,
                        "y": 1,
                        "yanchor": "bottom",
                        "xanchor": "left",
                        "text": f"grey band: {label}",
                        "font": {**font, "size": 10},
                    }
                )
    return shapes, notes


def _reading_row(readings: pd.DataFrame | None, by: list[str], key: tuple) -> pd.Series | None:
    if readings is None or readings.empty or not by:
        return None if readings is None or readings.empty or by else readings.iloc[0]
    mask = np.logical_and.reduce([readings[c] == v for c, v in zip(by, key, strict=True)])
    rows = readings[mask]
    return rows.iloc[0] if len(rows) else None


def spc_alt_text(
    result: SPCResult,
    *,
    suppressed: pd.DataFrame | None = None,
    group: object = None,
    min_respondents: int | None = None,
    what: str | None = None,
    readings: pd.DataFrame | None = None,
) -> str:
    """A plain-language description of an SPC chart: what, when, phases, latest, signals.

    With ``readings`` each group's signal and verdict are its reading's words
    (:func:`pxlib.workbook.reading.read_units`); without, the MDC icons' labels.
    """
    from pxlib.spc import icons

    by = list(result.by)
    value_text = result.spec.format_value
    what = what or (result.y_label or "the measure")
    kind = {"run": "run chart", "p": "p control chart", "xmr": "XmR chart", "i": "I chart"}.get(
        result.kind, f"{result.kind} chart"
    )
    pts = result.points
    summ = result.summary
    if group is not None and by:
        key = group if isinstance(group, tuple) else (group,)
        for c, v in zip(by, key, strict=True):
            pts = pts[pts[c] == v]
            summ = summ[summ[c] == v]
            if suppressed is not None and len(suppressed):
                suppressed = suppressed[suppressed[c] == v]
    groups = pts.groupby(by, sort=False) if by else [((), pts)]
    n_groups = len(groups) if by else 1
    dated = pd.api.types.is_datetime64_any_dtype(pts["x"])
    if dated and pts["x"].notna().any():
        span = f" from {pts['x'].min():%d %b %Y} to {pts['x'].max():%d %b %Y}"
    elif pd.api.types.is_numeric_dtype(pts["x"]) and pts["x"].notna().any():
        span = f" over weeks {pts['x'].min():g} to {pts['x'].max():g}"
    else:
        span = ""
    head = (
        f"{kind[:1].upper() + kind[1:]} of {what}{span}"
        + (f", one panel for each of {n_groups} groups" if n_groups > 1 else "")
        + "."
    )
    parts = [head]
    for key, frame in groups:
        key = key if isinstance(key, tuple) else (key,)
        s = summ
        for c, v in zip(by, key, strict=True):
            s = s[s[c] == v]
        s = s.sort_values("phase")
        name = " · ".join(map(str, key)) if key else ""
        valued = frame[np.isfinite(frame["y"].to_numpy(float))].sort_values("x")
        bits = []
        if len(s) > 1:
            cls = ", ".join(value_text(v) for v in s["cl"])
            bits.append(f"{len(s)} phases with centre lines {cls}")
        elif len(s):
            bits.append(f"centre line {value_text(s['cl'].iloc[0])}")
        if len(valued):
            last = valued.iloc[-1]
            when = (
                pd.Timestamp(last["x"]).strftime("%d %b %Y")
                if dated
                else (
                    f"week {last['x']:g}"
                    if isinstance(last["x"], int | float | np.number)
                    else str(last["x"])
                )
            )
            bits.append(f"latest value {value_text(last['y'])} ({when})")
        reading = _reading_row(readings, by, key)
        if reading is not None:
            bits.append(str(reading["caption"]).rstrip("."))
        elif len(s):
            vt = str(s["variation_type"].iloc[-1] or "")
            at = str(s["assurance_type"].iloc[-1] or "")
            if vt:
                bits.append(icons.variation_label(vt, result.improvement).split(": ", 1)[-1])
            if at:
                bits.append(icons.assurance_label(at).split(": ", 1)[-1])
        parts.append((f"{name}: " if name else "") + "; ".join(bits) + ".")
    if result.target is not None:
        parts.append(f"The target of {value_text(result.target)} is drawn as a red line.")
    if suppressed is not None and len(suppressed):
        parts.append(
            f"{count(len(suppressed), 'week')} resting on fewer than "
            f"{small_numbers(min_respondents).threshold} answers "
            f"{'is shown as a grey gap' if len(suppressed) == 1 else 'are shown as grey gaps'}; "
            "the lines still use them."
        )
    return " ".join(parts)


@dataclasses.dataclass(frozen=True)
class ChartView:
    """A figure ready to show and its description in words (its alt text)."""

    figure: Any
    alt_text: str


def spc_chart_view(
    result: SPCResult,
    respondents: pd.DataFrame,
    *,
    group: object = None,
    pdsa: pd.DataFrame | None = None,
    min_respondents: int | None = None,
    x: str = "week",
    what: str | None = None,
    readings: pd.DataFrame | None = None,
    **figure_kw: Any,
) -> ChartView:
    """The figure and its words of an SPC result with small numbers suppressed and gaps labelled.

    With ``readings`` (:func:`pxlib.workbook.reading.read_units`) each group's
    caption is its reading, so the words under a chart are the verdict's own.
    """
    shown, hidden = suppress_points(result, respondents, min_respondents=min_respondents, x=x)
    kw = dict(figure_kw)
    if pdsa is not None and len(pdsa):
        kw["annotations"] = pdsa
    if group is not None:
        kw["group"] = group
    fig = shown.figure(**kw)
    label_gaps(fig, hidden, by=result.by, min_respondents=min_respondents, group=group)
    text = spc_alt_text(
        shown,
        suppressed=hidden,
        group=group,
        min_respondents=min_respondents,
        what=what,
        readings=readings,
    )
    return ChartView(fig, text)


def funnel_chart_view(
    result: FunnelResult,
    table: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    unit: str = "unit",
    label: str = "",
) -> ChartView:
    """The figure and its words of a funnel plot; units resting on too few answers are left out."""
    pts = result.points
    n = table.set_index(unit)["n_respondents"]
    rule = small_numbers(min_respondents)
    small = pd.Series(
        rule.hides(pts[unit].map(n).fillna(0)) | (pts[unit].map(n).fillna(0) == 0).to_numpy(),
        index=pts.index,
    )
    shown = dataclasses.replace(result, points=pts[~small].reset_index(drop=True))
    fig = shown.figure()
    above = shown.points[
        shown.points["signal"].astype(bool) & (shown.points["y"] > shown.points["cl"])
    ]
    below = shown.points[
        shown.points["signal"].astype(bool) & (shown.points["y"] < shown.points["cl"])
    ]
    cl = float(shown.points["cl"].iloc[0]) if len(shown.points) else float("nan")
    text = (
        f"Funnel plot of the share of patients for whom it happened, per unit{', ' + label if label else ''}: "
        f"each unit's value against its number of answers (effective sample size), with 95% and "
        f"99.8% limits around the average of {result.spec.format_value(cl)}. "
    )
    text += f"Above the limits: {', '.join(map(str, above[unit]))}. " if len(above) else ""
    text += f"Below the limits: {', '.join(map(str, below[unit]))}. " if len(below) else ""
    if not len(above) and not len(below):
        text += "No unit is outside the limits: the differences between units are within chance. "
    if small.any():
        text += f"{int(small.sum())} units with fewer than {rule.threshold} answers are not shown."
    return ChartView(fig, text.strip())
