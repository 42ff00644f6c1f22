"""``spc_figure``: a plotly Figure of an SPC result, one chart or small multiples.

One group draws a single chart with its icons and their meaning in the top corner;
several groups draw one panel each (those needing attention first), x axes shared,
the rows spaced so that no panel title meets the tick labels of the row above. The
pieces: :mod:`~pxlib.spc.plot.panel` (one chart's traces),
:mod:`~pxlib.spc.plot.annotations` (phases and PDSA cycles),
:mod:`~pxlib.spc.plot.layout` (titles, legend, margins, icons, headers),
:mod:`~pxlib.spc.plot.xaxis` (where labels fall, tick labels).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pxlib.errors import ChartError
from pxlib.escape import html_text
from pxlib.spc.plot.annotations import (
    PDSA_COLUMNS,
    pdsa_for_group,
    pdsa_legend,
    pdsa_marks,
    pdsa_rows,
    phase_band_px,
)
from pxlib.spc.plot.groups import (
    attention_order,
    check_points,
    group_frames,
    group_label,
    icon_types,
    latest_rows,
    panels_meta,
    select_group,
)
from pxlib.spc.plot.layout import (
    COL_GAP_PX,
    ICON_PX,
    LEGEND_ROW_PX,
    PANEL_FONT,
    PANEL_ICON_PX,
    SUBTITLE_PX,
    TITLE_LINE_PX,
    TITLE_TOP_PX,
    figure_title,
    finish,
    geometry,
    icon_image,
    legend_rows,
    panel_header,
    title_extra_px,
)
from pxlib.spc.plot.panel import Panel
from pxlib.spc.plot.values import is_datetime
from pxlib.spc.plot.words import LINE_NAMES, icon_words
from pxlib.spc.plot.xaxis import DATE_AXIS, XScale, x_ticks
from pxlib.spc.theme import NHS_DARK_GREY

if TYPE_CHECKING:
    from pxlib.spc.result import SPCResult


def spc_figure(
    result: SPCResult,
    *,
    group: object = None,
    annotations: pd.DataFrame | None = None,
    annotation_x: str = PDSA_COLUMNS["x"],
    annotation_label: str = PDSA_COLUMNS["label"],
    annotation_short: str | None = PDSA_COLUMNS["short"],
    annotation_end: str | None = PDSA_COLUMNS["end"],
    annotation_details: Sequence[str] | None = PDSA_COLUMNS["details"],
    show_2sigma: bool = False,
    show_target: bool = True,
    show_icons: bool = True,
    title: str | None = None,
    y_title: str | None = None,
    x_title: str | None = None,
    phase_labels: dict | Sequence[str] | None = None,
    order: str = "attention",
    cols: int | None = None,
    shared_y: bool = True,
    height: int | None = None,
    width: int | None = None,
    marker_size: int = 7,
) -> go.Figure:
    """A plotly Figure of an SPC result.

    One group (or ``group=`` naming one, a tuple when ``by`` has several
    columns): a single chart. Several groups: small multiples, one panel per
    group, ordered by :func:`attention_order` when ``order="attention"``
    (``"data"`` keeps the data's order), ``cols`` panels a row, y axes shared
    (``shared_y=True``) or free, x axes shared.

    ``annotations``: the PDSA log as pxlib loads it (``org_code, unit, cycle_id,
    start_date, end_date, change_idea, prediction, what_happened, decision``) or
    any table with an x (date) column and a label column (``annotation_x``,
    ``annotation_label``). Each row is drawn as a labelled arrow on the x axis
    (label: the ``annotation_short`` column, else the start of the label) with the
    change idea, prediction, what happened and decision in its hover. Rows are
    matched to groups on the ``by`` columns the table shares with the chart
    (e.g. ``unit``); a table sharing none is drawn on every panel.

    ``show_2sigma`` adds the 2-sigma lines (``lcl_2s``/``ucl_2s`` when the engine
    gives them, else cl ± 2σ with σ = (ucl − cl)/3); ``show_target`` the target;
    ``show_icons`` the MDC icons of each group's last phase in the corner, with
    their meaning in words beside them. ``phase_labels``: {phase number: label}
    or a list in phase order (default "Phase 1", "Phase 2", ...).

    The figure has a fixed size (default 900 px wide and about 480 px high for one
    chart; 230 px a column and 170 px a row for small multiples) so that icons and
    labels sit where they were placed in notebooks, HTML reports and PNGs alike.
    Long titles wrap at word boundaries and make the figure taller, as do stacked
    phase labels; small multiples keep between rows the room their x tick labels
    (level, or turned by 30 degrees when crowded) and the next row's titles need.
    With ``height`` given the rows share what that room leaves (at least 40 px
    each: the figure grows rather than let labels overprint).
    """
    points = check_points(result)
    if order not in ("attention", "data"):
        raise ChartError(f"order must be 'attention' or 'data', not {order!r}")
    opts = {
        "show_2sigma": show_2sigma,
        "show_target": show_target,
        "phase_labels": phase_labels,
        "marker_size": marker_size,
        "x_title": x_title,
        "group_in_hover": False,
    }
    if len(points) == 0:
        raise ChartError("the chart has no points to draw: its data had no rows")
    frames = group_frames(points, result.by)
    if group is not None:
        key = select_group(result, group)
        if key not in frames:
            names = ", ".join(group_label(k) for k in list(frames)[:10])
            raise ChartError(f"no group {group_label(key)!r} in the chart; groups include: {names}")
        frames = {key: frames[key]}
    pdsa_cols = {
        "x": annotation_x,
        "label": annotation_label,
        "short": annotation_short,
        "end": annotation_end,
        "details": annotation_details,
    }
    pdsa = pdsa_rows(annotations, pdsa_cols) if annotations is not None else None
    spec = result.spec
    latest = {key: icon_types(row) for key, row in latest_rows(result).items()}
    ctx = {
        "result": result,
        "spec": spec,
        "opts": opts,
        "pdsa": pdsa,
        "pdsa_cols": pdsa_cols,
        "latest": latest,
        "title": title,
        "y_title": y_title,
        "x_title": x_title,
        "show_icons": show_icons,
        "height": height,
        "width": width,
    }
    if len(frames) == 1:
        key, frame = next(iter(frames.items()))
        return _single(ctx, key, frame)
    keys = attention_order(result) if order == "attention" else list(frames)
    keys = [k for k in keys if k in frames]
    opts["group_in_hover"] = True
    return _multiples(ctx, keys, frames, cols, shared_y)


def _x_values(ctx: dict, frames: Iterable[pd.DataFrame], keys: Iterable[tuple]) -> list:
    """Every x a set of panels shows: their points' and their PDSA cycles' x."""
    values: list = []
    for frame in frames:
        values += frame["x"].tolist()
    if ctx["pdsa"] is not None:
        col = ctx["pdsa_cols"]["x"]
        for key in keys:
            values += pdsa_for_group(ctx["pdsa"], ctx["result"].by, key)[col].tolist()
    return values


def _single(ctx: dict, key: tuple, frame: pd.DataFrame) -> go.Figure:
    result, spec = ctx["result"], ctx["spec"]
    width = ctx["width"] or 900
    l_px, r_px = 64, 24
    scale = XScale(_x_values(ctx, [frame], [key]), width - l_px - r_px)
    seen: set[str] = set()
    panel = Panel(result, spec, ctx["opts"], seen, scale)
    panel.build(frame, key, "x", "y")
    traces, shapes, notes = panel.traces, panel.shapes, panel.annotations
    dates = is_datetime(frame["x"])
    _add_pdsa(ctx, key, "x", "y", dates, seen, traces, shapes, notes, scale)
    base = result.y_label or ""
    title = ctx["title"]
    if title is None:
        title = (
            f"{group_label(key)}: {base}" if key and base else (group_label(key) if key else base)
        )
    title_html, title_lines = figure_title(title, width - l_px - r_px)
    # phase labels stack above the plotting area; the icons sit above them
    band = phase_band_px(panel.phase_levels)
    legend_px = legend_rows(traces, width - 64) * LEGEND_ROW_PX + 8
    b = 44 + (20 if ctx["x_title"] else 0) + legend_px
    t = round(112 + title_extra_px(title_lines) + band - phase_band_px(1))
    height = ctx["height"] or 360 + t + b
    geo = geometry(width, height, t, b, l_px, r_px)
    images = []
    types = ctx["latest"].get(key, ("", ""))
    if ctx["show_icons"]:
        image, icon_w = icon_image(
            types, result.improvement, 1, 1 + (band + 4) / geo["plot_h"], ICON_PX, geo
        )
        if image:
            images.append(image)
            notes.append(
                {
                    "x": 1,
                    "y": 1,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "right",
                    "yanchor": "bottom",
                    "xshift": -(icon_w + 8),
                    "yshift": band + 10,
                    "align": "right",
                    "text": icon_words(types, result.improvement, capital=True).replace(
                        " · ", "<br>"
                    ),
                    "showarrow": False,
                    "font": {"size": 11, "color": NHS_DARK_GREY},
                }
            )
    xaxis: dict[str, Any] = {"title": {"text": html_text(ctx["x_title"] or "")}}
    if dates:
        xaxis.update(DATE_AXIS, tick0=pd.Timestamp(frame["x"].min()).strftime("%Y-%m-%d"))
    layout = {
        "title": {"text": title_html},
        "xaxis": xaxis,
        "yaxis": {
            "title": {"text": html_text(ctx["y_title"] or base)},
            **spec.axis(),
        },
        "shapes": shapes,
        "annotations": notes,
        "images": images,
        "meta": panels_meta([(key, "x", "y")]),
    }
    return finish(ctx, traces, layout, geo)


def _add_pdsa(ctx, key, xa, ya, dates, seen, traces, shapes, notes, scale=None) -> None:
    """Append the PDSA cycles of one group (its marks, and the legend entry once per
    figure) to the figure's traces, shapes and annotations."""
    if ctx["pdsa"] is None:
        return
    rows = pdsa_for_group(ctx["pdsa"], ctx["result"].by, key)
    marks, labels = pdsa_marks(rows, ctx["pdsa_cols"], xa, ya, dates, scale)
    shapes += marks
    notes += labels
    if len(rows) and LINE_NAMES["pdsa"] not in seen:
        seen.add(LINE_NAMES["pdsa"])
        traces.append(pdsa_legend())


def _multiples(
    ctx: dict, keys: list[tuple], frames: dict, cols: int | None, shared_y: bool
) -> go.Figure:
    result, spec = ctx["result"], ctx["spec"]
    count = len(keys)
    cols = cols or (count if count <= 4 else 4 if count <= 12 else 5)
    rows = -(-count // cols)
    width = ctx["width"] or max(720, cols * 230 + 90)
    l_px, r_px = 56, 20
    plot_w = width - l_px - r_px
    col_w_px = (plot_w - COL_GAP_PX * (cols - 1)) / cols
    scale = XScale(_x_values(ctx, frames.values(), keys), col_w_px)
    seen: set[str] = set()
    traces: list[dict] = []
    shapes: list[dict] = []
    notes: list[dict] = []
    panels = [Panel(result, spec, ctx["opts"], seen, scale) for _ in keys]
    # build panels first (legend rows and phase label levels depend on them)
    layout: dict[str, Any] = {}
    for i, (key, panel) in enumerate(zip(keys, panels, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        panel.build(frames[key], key, f"x{suffix}", f"y{suffix}")
        traces += panel.traces
        shapes += panel.shapes
        notes += panel.annotations
        dates = is_datetime(frames[key]["x"])
        _add_pdsa(ctx, key, f"x{suffix}", f"y{suffix}", dates, seen, traces, shapes, notes, scale)
    # vertical room: each row's header (phase labels, icons, wrapped title) above it,
    # the x tick labels (level or turned) below it
    ticks = x_ticks(scale, col_w_px)
    headers = [
        panel_header(ctx, key, col_w_px, panel.phase_levels)
        for key, panel in zip(keys, panels, strict=True)
    ]
    row_head = [
        max(h["height_px"] for h in headers[r * cols : (r + 1) * cols]) for r in range(rows)
    ]
    gaps = [ticks["height_px"] + row_head[r + 1] + 6 for r in range(rows - 1)]
    title_html, title_lines = figure_title(
        ctx["title"] if ctx["title"] is not None else (result.y_label or ""), plot_w
    )
    t = round(TITLE_TOP_PX + TITLE_LINE_PX * title_lines + SUBTITLE_PX + 10 + row_head[0])
    legend_px = legend_rows(traces, width - 64) * LEGEND_ROW_PX + 8
    b = round(ticks["height_px"] + 12 + (20 if ctx["x_title"] else 0) + legend_px)
    row_px = 170.0
    if ctx["height"]:  # a height asked for: the rows share what the gaps leave
        row_px = max((ctx["height"] - t - b - sum(gaps)) / rows, 40.0)
    plot_h_px = rows * row_px + sum(gaps)
    height = max(ctx["height"] or 0, math.ceil(plot_h_px + t + b))
    geo = geometry(width, height, t, b, l_px, r_px)
    unit = 1 / geo["plot_h"]
    col_gap = COL_GAP_PX / plot_w
    col_w = col_w_px / plot_w
    tops = np.concatenate([[0.0], np.cumsum([row_px + g for g in gaps])])  # px below the top
    images: list[dict] = []
    for i, (key, header) in enumerate(zip(keys, headers, strict=True)):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        xa, ya = f"x{suffix}", f"y{suffix}"
        x0 = c * (col_w + col_gap)
        y1 = 1 - tops[r] * unit
        xaxis: dict[str, Any] = {
            "domain": [x0, x0 + col_w],
            "anchor": ya,
            "nticks": ticks["nticks"],
            "tickangle": ticks["tickangle"],
        }
        yaxis: dict[str, Any] = {
            "domain": [max(y1 - row_px * unit, 0), y1],
            "anchor": xa,
            **spec.axis(),
        }
        if i > 0:
            xaxis["matches"] = "x"
            if shared_y:
                yaxis["matches"] = "y"
        if is_datetime(frames[key]["x"]):
            xaxis.update(
                DATE_AXIS,
                tick0=pd.Timestamp(frames[key]["x"].min()).strftime("%Y-%m-%d"),
            )
        if ctx["x_title"] and r == rows - 1:
            xaxis["title"] = {"text": html_text(ctx["x_title"])}
        layout[f"xaxis{suffix}"] = xaxis
        layout[f"yaxis{suffix}"] = yaxis
        icon_w = 0.0
        if ctx["show_icons"]:
            image, icon_w = icon_image(
                header["types"],
                result.improvement,
                x0,
                y1 + (header["band"] + 2) * unit,
                PANEL_ICON_PX,
                geo,
            )
            if image:
                image["xanchor"] = "left"
                images.append(image)
        notes.append(
            {
                "x": x0,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": header["yshift"],
                "xshift": header["xshift"],
                "align": "left",
                "text": header["text"],
                "showarrow": False,
                "font": {"size": PANEL_FONT},
            }
        )
    layout.update(
        title={"text": title_html},
        shapes=shapes,
        annotations=notes,
        images=images,
        meta=panels_meta(
            [
                (key, f"x{i + 1 if i else ''}", f"y{i + 1 if i else ''}")
                for i, key in enumerate(keys)
            ]
        ),
    )
    return finish(ctx, traces, layout, geo)
