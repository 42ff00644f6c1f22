"""``funnel_figure``: a funnel plot of a :class:`~pxlib.spc.result.FunnelResult`.

Each unit at its denominator against the 2- and 3-sigma funnels; every point has its
unit's name in its hover, and the units outside the 3-sigma limits are named beside
their points (labels moved apart where units lie close together) and drawn in the MDC
colour and marker of improvement or concern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pxlib.errors import ColumnError
from pxlib.escape import html_text
from pxlib.spc import vocabulary
from pxlib.spc.plot.layout import figure_title, title_extra_px
from pxlib.spc.plot.panel import CL_COLOUR, LIMIT_COLOUR
from pxlib.spc.plot.values import as_bools, as_floats, as_text
from pxlib.spc.theme import LINE_HEIGHT, NHS_DARK_GREY, NHS_MID_GREY, TEMPLATE, text_width_px

if TYPE_CHECKING:
    from pxlib.spc.result import FunnelResult


def _funnel_curve(
    result: FunnelResult, points: pd.DataFrame, z: float, upper_bound: float
) -> tuple | None:
    """The funnel limits cl -/+ z sigma on a grid of denominators spanning the units'
    (0.85 times the smallest to 1.1 times the largest, 80 steps, geometric), or None
    where the per-unit limits are drawn instead (fewer than two units with a limit not
    cut at a bound, or limits not of the funnel form: :func:`_fitted_curve`).

    The values are the engine's exact limits (:meth:`FunnelResult.limits`) when the
    result carries its centre line and sigma_z; for a table built by hand, the curve
    fitted from the units' own limits.
    """
    fitted = _fitted_curve(points, z, upper_bound)
    if fitted is None or not (np.isfinite(result.cl) and np.isfinite(result.sigma_z)):
        return fitted
    grid = fitted[0]
    lo, hi = result.limits(grid, sigmas=z)
    return grid, lo, hi


def _fitted_curve(points: pd.DataFrame, z: float, upper_bound: float) -> tuple | None:
    """Smooth funnel limits cl ± z·k/√n fitted from the units' own limits.

    For p and u funnels (with or without Laney's overdispersion factor) the 3-sigma
    half-width times √n is one constant k per funnel; k is read from units whose
    upper limit is not cut at a bound. None when the units' limits do not follow
    that form (then the per-unit limits are drawn as they are).
    """
    n = as_floats(points["n"])
    cl = as_floats(points["cl"])
    ucl = as_floats(points["ucl"])
    ok = np.isfinite(n) & (n > 0) & np.isfinite(ucl) & np.isfinite(cl) & (ucl < upper_bound)
    if ok.sum() < 2 or not np.allclose(cl, cl[0], equal_nan=False):
        return None
    k = (ucl[ok] - cl[ok]) * np.sqrt(n[ok]) / 3
    if not np.allclose(k, k[0], rtol=1e-6):
        return None
    lo_n, hi_n = np.nanmin(n[n > 0]), np.nanmax(n)
    grid = np.geomspace(lo_n * 0.85, hi_n * 1.1, 80)
    half = z * k[0] / np.sqrt(grid)
    return grid, np.maximum(cl[0] - half, 0), np.minimum(cl[0] + half, upper_bound)


def funnel_figure(
    result: FunnelResult,
    *,
    improvement: str = "neutral",
    show_2sigma: bool = True,
    label_outliers: bool = True,
    title: str | None = None,
    y_title: str | None = None,
    x_title: str | None = None,
    height: int | None = None,
    width: int | None = None,
) -> go.Figure:
    """A funnel plot: each unit at its denominator, with 2- and 3-sigma funnels.

    Every point has its unit's name in its hover. Units outside the 3-sigma limits
    (``signal``) are labelled with their name (an annotation pointing at the
    point, stacked away from the other labels where units lie close together) and
    drawn in the MDC colour of improvement or concern when ``improvement`` is
    ``increase``/``decrease`` (neutral: purple), each side with its own marker
    symbol. The funnel lines are cl ± z·k/√n (z = 2, 3), with k read from the
    units' limits (see :func:`_funnel_curve`), cut at 0 and at 100 % for
    proportions. The figure is 900 × 480 px unless ``width``/``height`` say
    otherwise, so that the labels sit where they were placed.
    """
    vocabulary.check_direction(improvement)
    pts = result.points
    missing = [c for c in (result.unit, "y", "n", "cl", "lcl", "ucl") if c not in pts.columns]
    if missing:
        raise ColumnError(
            f"the funnel's points table has no column {', '.join(map(repr, missing))}"
        )
    pts = pts.sort_values("n", kind="stable")
    spec = result.spec
    y, n = as_floats(pts["y"]), as_floats(pts["n"])
    lcl, ucl, cl = as_floats(pts["lcl"]), as_floats(pts["ucl"]), as_floats(pts["cl"])
    signal = (
        as_bools(pts["signal"], len(pts), False)
        if "signal" in pts.columns
        else (np.isfinite(y) & ((y > ucl) | (y < lcl)))
    )
    units = [html_text(as_text(u)) for u in pts[result.unit].tolist()]
    upper_bound = float(result.multiply) if str(result.kind).startswith("p") else np.inf
    traces: list[dict] = []

    def line(xv, yv, name, dash, width_, show=True, colour=LIMIT_COLOUR) -> dict:
        return {
            "type": "scatter",
            "x": xv,
            "y": yv,
            "mode": "lines",
            "line": {"color": colour, "dash": dash, "width": width_},
            "name": name,
            "legendgroup": name,
            "showlegend": show,
            "hoverinfo": "skip",
        }

    curve3 = _funnel_curve(result, pts, 3, upper_bound)
    curve2 = _funnel_curve(result, pts, 2, upper_bound) if show_2sigma else None
    xs = [float(np.nanmin(n)) * 0.85, float(np.nanmax(n)) * 1.1]
    traces.append(
        line(xs, [float(cl[0])] * 2, "Centre line (all units)", "solid", 1.5, colour=CL_COLOUR)
    )
    if curve3 is not None:
        traces.append(line(curve3[0], curve3[2], "3-sigma limits (99.8 %)", "solid", 1.5))
        traces.append(line(curve3[0], curve3[1], "3-sigma limits (99.8 %)", "solid", 1.5, False))
    else:
        traces.append(line(n, ucl, "3-sigma limits (99.8 %)", "solid", 1.5))
        traces.append(line(n, lcl, "3-sigma limits (99.8 %)", "solid", 1.5, False))
    if show_2sigma:
        if curve2 is not None:
            traces.append(line(curve2[0], curve2[2], "2-sigma limits (95 %)", "dot", 1))
            traces.append(line(curve2[0], curve2[1], "2-sigma limits (95 %)", "dot", 1, False))
        elif "ucl_2s" in pts.columns:
            traces.append(line(n, as_floats(pts["ucl_2s"]), "2-sigma limits (95 %)", "dot", 1))
            traces.append(
                line(n, as_floats(pts["lcl_2s"]), "2-sigma limits (95 %)", "dot", 1, False)
            )

    def outlier_group(sel: np.ndarray, up: bool) -> tuple:
        """Units beyond one limit, styled as the chart's point type of that side."""
        name = "Above the upper limit" if up else "Below the lower limit"
        ptype = vocabulary.side_point_type(up, improvement)
        if improvement != "neutral":
            name += ": better" if ptype == "special_cause_improvement" else ": worse"
        style = vocabulary.POINT_STYLES[ptype]
        return sel, name, style["color"], style["symbol"]

    common = vocabulary.POINT_STYLES["common_cause"]
    groups = [
        (~signal, "Within the limits", common["color"], common["symbol"]),
        outlier_group(signal & (y > cl), True),
        outlier_group(signal & (y < cl), False),
    ]
    template = (
        "<b>%{text}</b><br>" + html_text(result.y_label or "Value") + f": {spec.hover('y')}"
        "<br>n = %{x:,.4~r}<br>"
        f"3-sigma limits at this n: {spec.hover('customdata[0]')} to {spec.hover('customdata[1]')}"
    )
    for sel, name, colour, symbol in groups:
        sel = sel & np.isfinite(y)
        if not sel.any():
            continue
        idx = np.flatnonzero(sel)
        trace = {
            "type": "scatter",
            "x": n[idx],
            "y": y[idx],
            "text": [units[i] for i in idx],
            "customdata": np.column_stack([lcl[idx], ucl[idx]]).astype(np.float32),
            "mode": "markers",
            "marker": {
                "color": colour,
                "symbol": symbol,
                "size": 9 if name != "Within the limits" else 7,
                "line": {"color": "white", "width": 0.5},
            },
            "name": name,
            "hovertemplate": template + "<extra></extra>",
        }
        traces.append(trace)

    label = title if title is not None else (result.y_label or "")
    overd = " with Laney's overdispersion adjustment" if result.overdispersion else ""
    width_px = width or 900
    margin = {"t": 90, "b": 40, "l": 64, "r": 24}
    title_html, title_lines = figure_title(label, width_px - margin["l"] - margin["r"])
    margin["t"] = round(margin["t"] + title_extra_px(title_lines))
    height_px = height or round(480 + title_extra_px(title_lines))
    log_x = bool(np.nanmax(n) / max(np.nanmin(n), 1e-9) > 50)
    notes = []
    if label_outliers:
        plot = (width_px - margin["l"] - margin["r"], height_px - margin["t"] - margin["b"])
        outliers = np.flatnonzero(signal & np.isfinite(y) & np.isfinite(n))
        notes = _outlier_labels(traces, outliers, n, y, cl, units, log_x, plot)
    layout = {
        "template": TEMPLATE,
        "title": {
            "text": title_html,
            "subtitle": {
                "text": f"Funnel plot ({result.kind}){overd}: units outside the 3-sigma limits are named"
            },
        },
        "width": width_px,
        "height": height_px,
        "margin": margin,
        "annotations": notes,
        "xaxis": {
            "title": {"text": html_text(x_title or "Number in the sample (n)")},
            "type": "log" if log_x else "linear",
        },
        "yaxis": {"title": {"text": html_text(y_title or result.y_label or "")}, **spec.axis()},
        "legend": {"orientation": "h", "y": -0.16, "yanchor": "top", "x": 0},
        "hovermode": "closest",
    }
    return go.Figure(data=traces, layout=layout)


_OUTLIER_FONT = 11
_OUTLIER_ARROW_PX = 18


def _box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    """A label's (left, bottom, right, top) in pixels around its centre."""
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _boxes_overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _outlier_labels(
    traces: list[dict],
    idx: np.ndarray,
    n: np.ndarray,
    y: np.ndarray,
    cl: np.ndarray,
    units: list[str],
    log_x: bool,
    plot: tuple[float, float],
) -> list[dict]:
    """A name label for each funnel outlier: above a point above the centre line,
    below one under it, moved further out where it would overlap a label already
    placed (positions in pixels from the axes' ranges: plotly's autorange spans
    every drawn x and y)."""
    xs = np.concatenate([np.asarray(t["x"], dtype=float) for t in traces])
    ys = np.concatenate([np.asarray(t["y"], dtype=float) for t in traces])
    if log_x:
        xs = np.log10(xs[xs > 0])
    xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
    x_lo, x_hi = float(xs.min()), float(xs.max())
    y_lo, y_hi = float(ys.min()), float(ys.max())
    width_px, height_px = plot
    placed: list[tuple[float, float, float, float]] = []
    notes = []
    for i in sorted(idx, key=lambda j: n[j]):
        at_x = float(np.log10(n[i])) if log_x else float(n[i])
        px = (at_x - x_lo) / (x_hi - x_lo or 1) * width_px
        py = (float(y[i]) - y_lo) / (y_hi - y_lo or 1) * height_px  # up from the x axis
        up = bool(y[i] >= cl[i])
        w = text_width_px(units[i], _OUTLIER_FONT) + 6
        h = _OUTLIER_FONT * LINE_HEIGHT + 4
        # straight above (below) the point, else just beside a label in the way,
        # else one level further out
        dx, dist, box = 0.0, float(_OUTLIER_ARROW_PX), (0.0, 0.0, 0.0, 0.0)
        for level in range(8):
            dist = _OUTLIER_ARROW_PX + level * (h + 2)
            cy = py + dist if up else py - dist
            in_way = [b for b in placed if _boxes_overlap(_box(px, cy, w, h), b)]
            shifts = [0.0] + [
                d
                for b in in_way
                for d in (b[2] + 4 + w / 2 - px, b[0] - 4 - w / 2 - px)
                if abs(d) <= w + 10
            ]
            free = [
                d
                for d in shifts
                if not any(_boxes_overlap(_box(px + d, cy, w, h), b) for b in placed)
            ]
            if free:
                dx = free[0]
                box = _box(px + dx, cy, w, h)
                break
        placed.append(box)
        notes.append(
            {
                "x": at_x,
                "y": float(y[i]),
                "xref": "x",
                "yref": "y",
                "text": units[i],
                "showarrow": True,
                "arrowhead": 0,
                "arrowwidth": 1,
                "arrowcolor": NHS_MID_GREY,
                "standoff": 5,
                "ax": dx,
                "ay": -dist if up else dist,
                "font": {"size": _OUTLIER_FONT, "color": NHS_DARK_GREY},
                "bgcolor": "rgba(255,255,255,0.85)",
            }
        )
    return notes
