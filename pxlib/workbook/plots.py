"""The workbook's own plain figures: a dot plot with 95 % intervals, and lines.

:func:`dot_ci_figure` (one row per group or practice, small numbers drawn without
a value) and :func:`line_figure` (e.g. precision and detection against sample size),
in the pxlib plotly template; every label is escaped (:func:`pxlib.escape.html_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.disclosure import small_numbers
from pxlib.escape import html_text

if TYPE_CHECKING:
    import plotly.graph_objects as go


def dot_ci_figure(
    frame: pd.DataFrame,
    *,
    label: str,
    value: str,
    title: str,
    low: str | None = None,
    high: str | None = None,
    n_col: str | None = None,
    min_respondents: int | None = None,
    x_title: str = "%",
    percent: bool = True,
    reference: float | None = None,
    reference_name: str = "Target",
) -> go.Figure:
    """A horizontal dot plot (with 95 % interval bars when ``low``/``high`` are given).

    Rows whose ``n_col`` is below ``min_respondents`` are drawn without a value
    and labelled "(not shown: fewer than k)". Values are proportions when
    ``percent`` (drawn as %). ``reference`` adds a vertical line (e.g. a target).
    """
    import plotly.graph_objects as go

    from pxlib.spc.theme import NHS_BLUE, NHS_DARK_GREY, TEMPLATE

    f = frame.copy()
    scale = 100.0 if percent else 1.0
    labels = f[label].astype(str)
    vals = f[value].astype(float) * scale
    lo = f[low].astype(float) * scale if low else None
    hi = f[high].astype(float) * scale if high else None
    if n_col is not None:
        n = pd.to_numeric(f[n_col], errors="coerce")
        rule = small_numbers(min_respondents)
        small = pd.Series(rule.hides(n), index=f.index)
        labels = labels.where(~small, labels + f" (not shown: fewer than {rule.threshold})")
        vals = vals.where(~small, np.nan)
        if lo is not None:
            lo, hi = lo.where(~small, np.nan), hi.where(~small, np.nan)
    labels = labels.map(html_text)
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": vals.tolist(),
        "y": labels.tolist(),
        "marker": {"color": NHS_BLUE, "size": 9, "symbol": "circle"},
        "name": "Estimate",
        "hovertemplate": "%{y}: %{x:.0f}" + ("%" if percent else "") + "<extra></extra>",
    }
    if lo is not None:
        trace["error_x"] = {
            "type": "data",
            "symmetric": False,
            "array": (hi - vals).tolist(),
            "arrayminus": (vals - lo).tolist(),
            "color": NHS_DARK_GREY,
            "thickness": 1.5,
        }
        trace["name"] = "Estimate with 95% interval"
    layout = {
        "template": TEMPLATE,
        "title": {"text": html_text(title)},
        "xaxis": {"title": {"text": html_text(x_title)}, "range": [0, 100] if percent else None},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "height": 140 + 28 * len(f),
        "showlegend": True,
    }
    if reference is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": reference * scale,
                "x1": reference * scale,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#DE1B1B", "dash": "dash"},
            }
        ]
        layout["annotations"] = [
            {
                "x": reference * scale,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "text": html_text(reference_name),
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"color": "#DE1B1B"},
            }
        ]
    return go.Figure(data=[trace], layout=layout)


def line_figure(
    frame: pd.DataFrame, *, x: str, ys: dict[str, str], title: str, x_title: str, y_title: str
) -> go.Figure:
    """Lines with markers, one per column of ``ys`` ({column: legend name})."""
    import plotly.graph_objects as go

    from pxlib.spc.theme import TEMPLATE

    symbols = ["circle", "diamond", "square", "triangle-up"]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": frame[x].tolist(),
            "y": frame[c].tolist(),
            "name": html_text(name),
            "marker": {"symbol": symbols[i % len(symbols)], "size": 8},
        }
        for i, (c, name) in enumerate(ys.items())
    ]
    layout = {
        "template": TEMPLATE,
        "title": {"text": html_text(title)},
        "xaxis": {"title": {"text": html_text(x_title)}},
        "yaxis": {"title": {"text": html_text(y_title)}},
        "height": 380,
    }
    return go.Figure(data=traces, layout=layout)
