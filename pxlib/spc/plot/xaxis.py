"""The x axis of a panel before a browser draws it: where each x value falls (in
pixels), which labels would overlap and how to stack them, and which tick labels
plotly will show (so that small multiples keep the room their tick labels take).

Dates are written the UK way: "8 Jan" for weeks, "Jan 2024" for months, "2024" for
years (:data:`DATE_AXIS`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pxlib.spc.plot.values import is_blank, is_date_like, value_text
from pxlib.spc.theme import FONT_SIZE, LINE_HEIGHT, text_width_px

_WEEK_MS = 7 * 24 * 3600 * 1000
DATE_AXIS: dict[str, Any] = {
    "type": "date",
    "hoverformat": "%d %b %Y",
    # UK style: "8 Jan" for weeks, "Jan 2024" for months, "2024" for years
    "tickformatstops": [
        {"dtickrange": [None, _WEEK_MS * 4], "value": "%-d %b<br>%Y"},
        {"dtickrange": [_WEEK_MS * 4, "M6"], "value": "%b %Y"},
        {"dtickrange": ["M12", None], "value": "%Y"},
    ],
}


class XScale:
    """Where an x value falls along a panel's x axis, in pixels from its left end.

    The axis spans the first to the last x the panel shows (its points and the
    PDSA cycles drawn on it: plotly's autorange); dates and numbers are placed in
    proportion, other values (categories) by their order of first appearance.
    Used to tell, before a browser draws the figure, which labels would overlap.
    """

    def __init__(self, values: Iterable, width_px: float):
        self.width = float(width_px)
        self.kind = "category"
        self.codes: dict = {}
        vals = [v for v in values if not is_blank(v)]
        nums = self._numbers(vals)
        if nums is None:
            for v in vals:
                self.codes.setdefault(v, len(self.codes))
            nums = np.asarray(list(self.codes.values()), dtype=float)
        self.lo = float(nums.min()) if len(nums) else 0.0
        self.hi = float(nums.max()) if len(nums) else 1.0

    def _numbers(self, vals: list) -> np.ndarray | None:
        if vals and all(is_date_like(v) for v in vals):
            try:
                ms = pd.to_datetime(pd.Series(vals)).to_numpy(dtype="datetime64[ms]")
            except (TypeError, ValueError):  # mixed time zones: placed as categories
                return None
            self.kind = "date"
            return ms.astype(float)
        if vals and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals):
            self.kind = "number"
            return np.asarray(vals, dtype=float)
        return None

    def px(self, value: Any) -> float | None:
        if is_blank(value):
            return None
        try:
            if self.kind == "date":
                v = float(
                    pd.Timestamp(value).to_datetime64().astype("datetime64[ms]").astype(float)
                )
            elif self.kind == "number":
                v = float(value)
            else:
                v = float(self.codes[value])
        except (KeyError, TypeError, ValueError):
            return None
        if self.hi <= self.lo:
            return self.width / 2
        return (v - self.lo) / (self.hi - self.lo) * self.width


MAX_LABEL_LEVELS = 3  # more crowded than this: the label is shown on hover only
_LABEL_GAP_PX = 4


def stagger(boxes: Sequence[tuple[float, float] | None], max_levels: int) -> list[int | None]:
    """The level (0 the lowest) of each label so that labels on one level do not overlap.

    ``boxes``: each label's (left, right) edges in pixels, or None where its place
    is unknown (level 0). Labels are placed from left to right on the lowest level
    whose last label ends at least a few pixels before them (interval colouring in
    order of left edge: as few levels as the overlaps allow); a label that would
    need more than ``max_levels`` levels gets None (hover only).
    """
    out: list[int | None] = [0] * len(boxes)
    ends: list[float] = []  # right edge of the last label of each level
    placed = sorted((b[0], i, b[1]) for i, b in enumerate(boxes) if b is not None)
    for left, i, right in placed:  # i is unique: rights are never compared
        for level, end in enumerate(ends):
            if left >= end + _LABEL_GAP_PX:
                ends[level] = right
                out[i] = level
                break
        else:
            if len(ends) < max_levels:
                ends.append(right)
                out[i] = len(ends) - 1
            else:
                out[i] = None
    return out


_TICK_PX = 9  # tick length and the space between a tick and its label
_TICK_ANGLE = 30  # the angle plotly turns crowded tick labels by


_DAY_MS = 86_400_000.0
_MONTH_MS = _DAY_MS * 365.2425 / 12  # plotly's average month
_YEAR_MS = _DAY_MS * 365.2425


def _round_up(value: float, steps: Sequence[float]) -> float:
    return next((s for s in steps if s >= value), steps[-1])


def _date_step(rough_ms: float) -> tuple[str, float]:
    """The tick step plotly picks for a rough step (its ``autoTicks`` for dates):
    ("Y", years), ("M", months) or ("D", days)."""
    if 2 * rough_ms > _YEAR_MS:
        years = rough_ms / _YEAR_MS
        base = 10 ** math.floor(math.log10(years))
        return "Y", max(base * _round_up(years / base, (2, 5, 10)), 1)
    if 2 * rough_ms > _MONTH_MS:
        return "M", _round_up(rough_ms / _MONTH_MS, (1, 2, 3, 6, 12))
    return "D", _round_up(max(rough_ms / _DAY_MS, 1), (1, 2, 3, 7, 14))


def _date_tick_labels(lo_ms: float, hi_ms: float, nticks: int) -> tuple[list[str], float]:
    """The tick labels a date axis from ``lo_ms`` to ``hi_ms`` with at most ``nticks``
    ticks shows (in the formats of ``DATE_AXIS``; plotly counts steps of months from
    January 2000 and steps of days from Sunday 2 January 2000), and the distance
    between ticks in ms."""
    unit, step = _date_step((hi_ms - lo_ms) / nticks)
    start = pd.Timestamp(lo_ms, unit="ms")
    end = pd.Timestamp(hi_ms, unit="ms")
    if unit == "D":
        days = int(step)
        anchor = pd.Timestamp("2000-01-02")
        when = anchor + pd.Timedelta(days=days * math.ceil((start - anchor).days / days))
        offset: Any = pd.Timedelta(days=days)
        step_ms = days * _DAY_MS
    else:
        months = int(step * 12) if unit == "Y" else int(step)
        index = (start.year - 2000) * 12 + start.month - 1
        index += start > pd.Timestamp(start.year, start.month, 1)
        first = math.ceil(index / months) * months
        when = pd.Timestamp(2000 + first // 12, first % 12 + 1, 1)
        offset = pd.DateOffset(months=months)
        step_ms = months * _MONTH_MS
    labels: list[str] = []
    while when <= end and len(labels) < 50:
        if unit == "D":  # "%-d %b<br>%Y"
            labels.append(f"{when.day} {when:%b}<br>{when:%Y}")
        elif unit == "M" and step < 12:  # "%b %Y"
            labels.append(f"{when:%b %Y}")
        else:  # "%Y"
            labels.append(f"{when:%Y}")
        when = when + offset
    return labels or [""], step_ms


def _number_tick_labels(lo: float, hi: float, nticks: int) -> tuple[list[str], float]:
    """Tick labels of a linear axis (plotly's steps of 1, 2 or 5 times a power of ten)."""
    rough = (hi - lo) / nticks if hi > lo else 1.0
    base = 10 ** math.floor(math.log10(rough))
    step = base * _round_up(rough / base, (2, 5, 10))
    first = math.ceil(lo / step) * step
    count = int((hi - first) / step + 1e-9) + 1
    return [value_text(first + k * step) for k in range(min(count, 50))], step


def x_ticks(scale: XScale, axis_px: float) -> dict[str, Any]:
    """Tick settings of a small multiple's x axis and the height its labels take.

    Labels stay level when some tick count (5, 4 or 3) lets them fit side by side;
    otherwise they are turned by 30 degrees (as plotly would first turn them: set
    here, so that the room kept for them is the room they take) with as many ticks
    as let the turned labels clear one another. Returns the axis settings
    (``nticks``, ``tickangle``) and ``height_px``: the ticks and their labels below
    the plotting area.
    """
    line = FONT_SIZE * LINE_HEIGHT
    angle = math.radians(_TICK_ANGLE)
    options = []
    for nticks in (5, 4, 3, 2):
        labels, spacing = _tick_labels(scale, axis_px, nticks)
        widest = max(text_width_px(lab) for lab in labels)
        lines = max(lab.count("<br>") + 1 for lab in labels)
        if nticks > 2 and widest + 8 <= spacing:
            return {"nticks": nticks, "tickangle": 0, "height_px": _TICK_PX + lines * line}
        options.append((nticks, widest, lines, spacing))
    # turned labels clear one another when their spacing times sin(angle) exceeds
    # their height
    fits = [o for o in options if o[3] * math.sin(angle) >= o[2] * line + 2]
    nticks, widest, lines, _ = fits[0] if fits else options[-1]
    tall = widest * math.sin(angle) + lines * line * math.cos(angle)
    return {"nticks": nticks, "tickangle": _TICK_ANGLE, "height_px": _TICK_PX + tall}


def _tick_labels(scale: XScale, axis_px: float, nticks: int) -> tuple[list[str], float]:
    """The labels an axis with at most ``nticks`` ticks shows, and their spacing in px."""
    labels: list[str]
    step: float
    span = scale.hi - scale.lo
    if scale.kind == "date" and span > 0:
        labels, step = _date_tick_labels(scale.lo, scale.hi, nticks)
    elif scale.kind == "number" and span > 0:
        labels, step = _number_tick_labels(scale.lo, scale.hi, nticks)
    else:  # categories (or a single x): every nth one
        labels = [value_text(v) for v in scale.codes] or [""]
        step = max(math.ceil(len(labels) / nticks), 1)
        span = max(len(labels) - 1, 1)
    return labels or [""], step / span * axis_px if span > 0 else axis_px
