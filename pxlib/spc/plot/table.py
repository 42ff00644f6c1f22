"""``summary_table``: one row per group with its latest value, the limits of its last
phase, its target, its MDC icons (inline SVG with their meaning in words) and any
caveats, groups needing attention first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from pxlib.escape import html_text
from pxlib.spc import icons
from pxlib.spc.plot.groups import (
    attention_order,
    check_points,
    group_frames,
    icon_types,
    latest_rows,
)
from pxlib.spc.plot.values import as_text, is_blank, is_date_like
from pxlib.spc.plot.words import target_text
from pxlib.spc.theme import table_styles

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from pxlib.spc.result import SPCResult


def summary_table(
    result: SPCResult,
    *,
    order: str = "attention",
    icon_size: int = 32,
    caption: str | None = None,
) -> Styler:
    """A pandas Styler: one row per group with its latest value, limits and icons.

    Columns: the ``by`` columns, the latest x with a value, that value, the centre
    line and process limits of the group's last phase, the target, the variation
    and assurance icons (inline SVG with their meaning in words) and any warnings
    (trial limits and the like). Groups needing attention come first
    (:func:`attention_order`) unless ``order="data"``.
    """
    points = check_points(result)
    spec = result.spec
    frames = group_frames(points, result.by)
    keys = attention_order(result) if order == "attention" else list(frames)
    latest_summary = latest_rows(result)
    records = []
    for key in keys:
        frame = frames[key].sort_values("x", kind="stable")
        valued = frame[pd.to_numeric(frame["y"], errors="coerce").notna()]
        last = valued.iloc[-1] if len(valued) else frame.iloc[-1]
        srow = latest_summary.get(key)

        def pick(col: str, last=last, srow=srow) -> float:
            if srow is not None and col in srow.index and not is_blank(srow[col]):
                return float(srow[col])
            return float(pd.to_numeric(pd.Series([last.get(col)]), errors="coerce").iloc[0])

        variation, assurance = icon_types(srow)
        x = last["x"]
        when = pd.Timestamp(x).strftime("%d %b %Y") if is_date_like(x) else as_text(x)
        warn = None
        if srow is not None:
            warn = srow.get("warnings", srow.get("warning"))
        if isinstance(warn, (list, tuple, np.ndarray)):
            warn = "; ".join(map(str, warn))
        record = dict(zip(result.by, key, strict=True))
        record.update(
            {
                "Latest": when,
                "Value": spec.format_value(
                    float(pd.to_numeric(pd.Series([last["y"]]), errors="coerce").iloc[0]), 1
                ),
                "Centre line": spec.format_value(pick("cl"), 1),
                "Lower limit": spec.format_value(pick("lcl"), 1),
                "Upper limit": spec.format_value(pick("ucl"), 1),
            }
        )
        if result.target is not None:
            record["Target"] = target_text(spec, result.target)
        record["Variation"] = _icon_cell(
            icons.variation_icon_svg(variation, result.improvement, size=icon_size),
            icons.variation_words(variation, result.improvement) if variation else "",
        )
        if result.target is not None or any(icon_types(r)[1] for r in latest_summary.values()):
            record["Assurance"] = _icon_cell(
                icons.assurance_icon_svg(assurance, size=icon_size),
                icons.assurance_words(assurance) if assurance else "no target",
            )
        record["Warnings"] = html_text(as_text(warn))
        records.append(record)
    table = pd.DataFrame.from_records(records)
    if (table["Warnings"] == "").all():
        table = table.drop(columns="Warnings")
    for col in result.by:
        table[col] = table[col].map(lambda v: html_text(as_text(v)))
    default = "Units needing attention first" if order == "attention" and len(keys) > 1 else None
    styler = table.style.hide(axis="index").set_properties(
        subset=["Latest"], **{"white-space": "nowrap"}
    )
    text = caption if caption is not None else default
    if text:
        styler = styler.set_caption(html_text(text))
    return styler.set_table_styles(cast(Any, table_styles(vertical_align="middle")))


def _icon_cell(svg: str, words: str) -> str:
    if not svg:
        return html_text(words)
    return (
        f'<span style="display:inline-flex;align-items:center;gap:6px">'
        f'<span style="flex:none;line-height:0">{svg}</span>'
        f"<span>{html_text(words)}</span></span>"
    )
