"""The groups of a chart: their frames and keys, their labels, the summary row of each
group's last phase (its icons) and the order that puts groups needing attention first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from pxlib.errors import ChartError, ColumnError
from pxlib.spc import vocabulary
from pxlib.spc.plot.values import as_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from pxlib.spc.result import SPCResult


def check_points(result: SPCResult) -> pd.DataFrame:
    points = result.points
    missing = [c for c in ("x", "y", "cl") if c not in points.columns]
    missing += [c for c in result.by if c not in points.columns]
    if missing:
        raise ColumnError(
            f"the chart's points table has no column {', '.join(map(repr, missing))}: "
            "it does not look like the output of pxlib.spc.chart"
        )
    return points


def _key(value: object, by: Sequence[str]) -> tuple:
    if not by:
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def group_label(key: tuple) -> str:
    return " · ".join(str(v) for v in key)


def panels_meta(panels: Iterable[tuple[tuple, str, str]]) -> dict[str, Any]:
    """What a figure records of its panels in ``layout.meta``: for each ``(key, xaxis,
    yaxis)``, the group's values as text, its label and its axes. Code that adds to a
    drawn figure (:func:`pxlib.workbook.views.label_gaps`) finds a group's panel here."""
    return {
        "panels": [
            {"group": [str(v) for v in key], "label": group_label(key), "xaxis": xa, "yaxis": ya}
            for key, xa, ya in panels
        ]
    }


def panel_axes(fig: go.Figure) -> dict[tuple[str, ...], tuple[str, str]]:
    """{group values as text: (xaxis, yaxis)} of a figure drawn by
    :func:`pxlib.spc.plot.spc_figure` (read from :func:`panels_meta`); empty for others."""
    meta = fig.layout.meta
    panels = meta.get("panels", []) if isinstance(meta, dict) else []
    return {tuple(p["group"]): (p["xaxis"], p["yaxis"]) for p in panels}


def group_frames(frame: pd.DataFrame, by: Sequence[str]) -> dict[tuple, pd.DataFrame]:
    if not by:
        return {(): frame}
    return {
        _key(k, by): g for k, g in frame.groupby(list(by), sort=False, dropna=False, observed=True)
    }


def latest_rows(result: SPCResult) -> dict[tuple, pd.Series]:
    """{group key: the summary row of the group's last phase}."""
    return {tuple(row[c] for c in result.by): row for _, row in result.latest().iterrows()}


def icon_types(row: pd.Series | None) -> tuple[str, str]:
    if row is None:
        return "", ""
    return as_text(row.get("variation_type")), as_text(row.get("assurance_type"))


def attention_order(result: SPCResult) -> list[tuple]:
    """Groups ordered with those needing attention first.

    Ranked by the variation icon of the group's last phase (concern first, then a
    neutral special cause, common cause, improvement last), then by its assurance
    icon (failing the target first, then hit and miss, no target, passing last),
    then in the order the groups appear in the data. Returns group keys (tuples of
    the ``by`` values).
    """
    points = check_points(result)
    keys = list(group_frames(points[list(result.by)], result.by)) if result.by else [()]
    info = {key: icon_types(row) for key, row in latest_rows(result).items()}
    ranks = []
    for i, key in enumerate(keys):
        variation, assurance = info.get(key, ("", ""))
        ranks.append(
            (
                vocabulary.VARIATION_RANK.get(variation, 2),
                vocabulary.ASSURANCE_RANK.get(assurance, 2),
                i,
                key,
            )
        )
    return [r[-1] for r in sorted(ranks, key=lambda r: r[:3])]


def select_group(result: SPCResult, group: object) -> tuple:
    key = group if isinstance(group, tuple) else (group,)
    if len(key) != len(result.by):
        raise ChartError(
            f"group {group!r} does not name one group of the chart grouped by "
            f"{', '.join(result.by) or 'nothing'}"
        )
    return key
