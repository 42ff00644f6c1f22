"""A unit's chart as a static SVG for printed pages (the storyboard): no script, no plotly.

It draws what the interactive chart shows, from the same SPC result: the weekly
values coloured by point type (the MDC colours of :mod:`pxlib.spc.icons`), the
centre line and the 3-sigma limits of each phase, the target, and the PDSA
cycles as marks at their start dates. Values from data are escaped
(:func:`pxlib.escape.html_text`); the chart carries its alt text as ``<title>``
and ``aria-label``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.escape import html_text as _e
from pxlib.spc import icons

WIDTH, HEIGHT = 680, 250
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 46
LINE = "#425563"
TARGET = "#005eb8"


def _y_range(pts: pd.DataFrame, target: float | None, percent: bool) -> tuple[float, float]:
    """The axis range: values, limits and target, rounded out to 5 or 10; 0-100 for percents."""
    values = pts[["y", "lcl", "ucl", "cl"]].to_numpy(float).ravel()
    finite = values[np.isfinite(values)]
    if target is not None and math.isfinite(target):
        finite = np.append(finite, target)
    if not finite.size:
        return 0.0, 100.0
    low, high = float(finite.min()), float(finite.max())
    pad = max((high - low) * 0.05, 1.0)
    low, high = low - pad, high + pad
    step = 10.0 if high - low > 30 else 5.0
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    if percent:
        low, high = max(low, 0.0), min(high, 100.0)
    return low, high


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    """SVG path through the finite points; a missing value breaks the line."""
    parts, pen = [], "M"
    for x, y in zip(xs, ys, strict=True):
        if not math.isfinite(y):
            pen = "M"
            continue
        parts.append(f"{pen}{x:.1f},{y:.1f}")
        pen = "L"
    return " ".join(parts)


def unit_chart_svg(
    points: pd.DataFrame,
    *,
    target: float | None = None,
    cycles: pd.DataFrame | None = None,
    percent: bool = True,
    alt: str = "",
) -> str:
    """The SVG of one unit's chart: ``points`` are its rows of ``SPCResult.points``.

    ``target`` is on the chart's scale (95 for 95 %); ``cycles`` has ``cycle_id``
    and ``start_date`` (its PDSA log rows). Returns an ``<svg>`` element.
    """
    pts = points.sort_values("x").reset_index(drop=True)
    if pts.empty:
        return ""
    dates = pd.to_datetime(pts["x"])
    first, last = dates.min(), dates.max()
    span = max((last - first).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = _y_range(pts, target, percent)

    def x_of(d) -> float:
        return LEFT + plot_w * ((pd.Timestamp(d) - first).days / span)

    def y_of(v) -> np.ndarray:
        return TOP + plot_h * (1 - (np.asarray(v, float) - low) / (high - low))

    xs = np.array([x_of(d) for d in dates])
    out = [
        f'<svg class="unit-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{_e(alt)}" xmlns="http://www.w3.org/2000/svg"><title>{_e(alt)}</title>'
    ]
    step = (high - low) / 4
    for k in range(5):
        v = low + k * step
        y = float(y_of(v))
        label = fmt.percent(v, share=False) if percent else fmt.number(v)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e8edee"/>'
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end" '
            f'fill="{LINE}">{_e(label)}</text>'
        )
    for month in pd.date_range(first.to_period("M").to_timestamp(), last, freq="3MS"):
        if month < first:
            continue
        x = x_of(month)
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 13}" font-size="10" text-anchor="middle" '
            f'fill="{LINE}">{month:%b %Y}</text>'
        )
    for _, phase in pts.groupby("phase", sort=True):
        px = np.array([x_of(d) for d in pd.to_datetime(phase["x"])])
        for column, dash in (("cl", ""), ("lcl", "4 3"), ("ucl", "4 3")):
            out.append(
                f'<path d="{_path(px, y_of(phase[column]))}" fill="none" stroke="{LINE}" '
                f'stroke-width="1.2"{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>'
            )
    if target is not None and math.isfinite(target):
        y = float(y_of(target))
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TARGET}" '
            f'stroke-dasharray="2 3"/><text x="{LEFT + 3}" y="{y - 3:.1f}" font-size="10" '
            f'fill="{TARGET}">target</text>'
        )
    ys = y_of(pts["y"])
    out.append(f'<path d="{_path(xs, ys)}" fill="none" stroke="#768692" stroke-width="1"/>')
    for x, y, kind in zip(xs, ys, pts["point_type"], strict=True):
        if math.isfinite(y):
            colour = icons.variation_colour(kind or "common_cause")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"/>')
    out.extend(_cycle_marks(cycles, x_of, first, last))
    out.append("</svg>")
    return "".join(out)


def _cycle_marks(cycles: pd.DataFrame | None, x_of, first, last) -> list[str]:
    """A tick and label per PDSA cycle start, labels staggered over three rows."""
    if cycles is None or cycles.empty:
        return []
    marks = []
    shown = cycles[pd.to_datetime(cycles["start_date"]).between(first, last)]
    for k, row in enumerate(shown.sort_values("start_date").itertuples(index=False)):
        x = x_of(row.start_date)
        y = HEIGHT - BOTTOM + 24 + 9 * (k % 3)
        marks.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#ffb81c" '
            f'stroke-width="1"/><text x="{x:.1f}" y="{y}" font-size="9" text-anchor="middle" '
            f'fill="#7c2855">{_e(row.cycle_id)}</text>'
        )
    return marks
