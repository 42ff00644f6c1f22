"""Plotly figures of SPC results in the Making Data Count style.

:func:`spc_figure` draws an :class:`~pxlib.spc.result.SPCResult` (one chart, or
small multiples when the result has several groups), :func:`summary_table`
tabulates each group's latest position with its icons, :func:`funnel_figure`
draws a :class:`~pxlib.spc.result.FunnelResult`.

What a reader sees, and why:

- points coloured by ``point_type`` in the MDC colours (common cause #7B7D7D,
  improvement #289DE0, concern #FAB428, neutral #361475) **and** drawn with a
  different marker symbol per type, so colour is never the only signal (both from
  :mod:`pxlib.spc.vocabulary`);
- a hover label on every point in plain words: the date, the value, n, the
  centre line and limits, and every rule that fired ("7 points in a row above the
  centre line: improvement");
- centre line and process limits drawn per phase (a new phase restarts the
  lines, with a label), an optional 2-sigma line, the target in MDC red;
- the MDC variation and assurance icons in the corner (:mod:`pxlib.spc.icons`);
- PDSA cycles as labelled markers on the x axis with the change idea in the hover;
  labels of cycles close together are stacked (up to three high), the rest shown
  on hover only, and phase labels are stacked the same way;
- titles wrapped at word boundaries, never cut; small multiples spaced so that no
  panel title meets the tick labels of the row above;
- funnel plots with every unit's name in its hover and the outliers named beside
  their points;
- targets written one way ("Target (95%)" on a chart in percent, "Target (95)" on
  any other), by :meth:`ChartSpec.format_value`.

Figures are built as plain dicts and validated once, with the slim
:data:`pxlib.spc.theme.TEMPLATE`, so that 50 small multiples draw in well under a
second and a figure's JSON stays small.
"""

from __future__ import annotations

import math
import numbers
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pxlib.errors import ChartError, ColumnError
from pxlib.escape import html_text
from pxlib.spc import icons, vocabulary
from pxlib.spc.spec import ChartSpec
from pxlib.spc.theme import (
    FONT_SIZE,
    LINE_HEIGHT,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    TEMPLATE,
    table_styles,
    text_width_px,
    wrap_lines,
    wrapped_html,
)

# --- styles -------------------------------------------------------------------

POINT_STYLES = vocabulary.POINT_STYLES
"""Legend name, MDC colour and marker symbol of each ``point_type``."""

LINE_NAMES = {
    "cl_mean": "Centre line (mean)",
    "cl_median": "Centre line (median)",
    "cl_runs": "Centre line: the runs show a change",
    "ucl": "Upper process limit",
    "lcl": "Lower process limit",
    "ucl_2s": "Upper 2-sigma line",
    "lcl_2s": "Lower 2-sigma line",
    "target": "Target",
    "data": "Data",
    "pdsa": "PDSA cycle",
}

KIND_NAMES = vocabulary.KIND_NAMES

_MEDIAN_KINDS = {"run", "g"}
_WEEK_MS = 7 * 24 * 3600 * 1000
_DATE_AXIS: dict[str, Any] = {
    "type": "date",
    "hoverformat": "%d %b %Y",
    # UK style: "8 Jan" for weeks, "Jan 2024" for months, "2024" for years
    "tickformatstops": [
        {"dtickrange": [None, _WEEK_MS * 4], "value": "%-d %b<br>%Y"},
        {"dtickrange": [_WEEK_MS * 4, "M6"], "value": "%b %Y"},
        {"dtickrange": ["M12", None], "value": "%Y"},
    ],
}
_LIMIT_COLOUR = NHS_MID_GREY
_CL_COLOUR = "#231F20"
_DATA_COLOUR = "#A6AEB3"

_VARIATION_RANK = vocabulary.VARIATION_RANK
_ASSURANCE_RANK = vocabulary.ASSURANCE_RANK

PDSA_COLUMNS = {
    "x": "start_date",
    "label": "change_idea",
    "short": "cycle_id",
    "end": "end_date",
    "decision": "decision",
    "details": ("prediction", "what_happened", "decision"),
}


# --- small helpers --------------------------------------------------------------


def _blank(value: object) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and value.strip() == ""


def _text(value: object) -> str:
    return "" if _blank(value) else str(value)


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)


def _x_list(series: pd.Series) -> list:
    """x values for plotly JSON: ISO dates (short) for datetimes, plain values otherwise."""
    missing = series.isna().to_numpy()
    if _is_datetime(series):
        out = series.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    else:
        out = series.to_numpy(dtype=object, copy=True)
    out[missing] = None
    return out.tolist()


def _num(series: pd.Series | Sequence) -> np.ndarray:
    return pd.to_numeric(pd.Series(series), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _optional_num(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A numeric column, or NaN throughout when the table has none."""
    return _num(frame[col]) if col in frame.columns else np.full(len(frame), np.nan)


def _bool(series: pd.Series | None, length: int, default: bool) -> np.ndarray:
    if series is None:
        return np.full(length, default)
    return series.astype("boolean").fillna(default).to_numpy(dtype=bool)


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(html_text(text), width))


def _wrapped(text: str, width_px: float, size: float, bold: bool = False) -> tuple[str, int]:
    """``text`` escaped and broken at word boundaries with ``<br>`` to fit ``width_px``
    (never cut), and its number of lines."""
    wrapped = wrapped_html(text, width_px, size, bold)
    return wrapped, wrapped.count("<br>") + 1


def _plain(value: object) -> str:
    """A value from the data as figure text: a whole number without ".0", another
    number with at most 3 decimals (0.192 for 10/52; no float noise such as
    0.30000000000000004), anything else as it is."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        v = float(value)
        if not math.isfinite(v):
            return "n/a"
        if v == round(v) and abs(v) < 1e15:
            return str(int(round(v)))
        if abs(v) >= 1e-3:
            return f"{v:.3f}".rstrip("0").rstrip(".")
        return f"{v:.2e}"
    return _text(value)


def _target_text(spec: ChartSpec, target: float) -> str:
    """The target as every legend, annotation and table of a figure writes it:
    :meth:`ChartSpec.format_value` with as few decimals as the target has (up to 1):
    "95%" on a chart in percent (97.5 % as "97.5%"), "95" on any other."""

    def shown(text: str) -> float:
        return float(text.rstrip("%").replace(",", ""))

    exact = shown(spec.format_value(target, 6))
    text = spec.format_value(target, 0)
    return text if abs(shown(text) - exact) < 1e-6 else spec.format_value(target, 1)


# --- groups ---------------------------------------------------------------------


def _check_points(result) -> pd.DataFrame:
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


def _label(key: tuple) -> str:
    return " · ".join(str(v) for v in key)


def _group_frames(frame: pd.DataFrame, by: Sequence[str]) -> dict[tuple, pd.DataFrame]:
    if not by:
        return {(): frame}
    return {
        _key(k, by): g for k, g in frame.groupby(list(by), sort=False, dropna=False, observed=True)
    }


def _latest_summary(result) -> pd.DataFrame:
    """One row per group: the summary row of the group's last phase."""
    return result.latest()


def _latest_rows(result) -> dict[tuple, pd.Series]:
    """{group key: the summary row of the group's last phase}."""
    return {tuple(row[c] for c in result.by): row for _, row in _latest_summary(result).iterrows()}


def _icon_types(row: pd.Series | None) -> tuple[str, str]:
    if row is None:
        return "", ""
    return _text(row.get("variation_type")), _text(row.get("assurance_type"))


def attention_order(result) -> list[tuple]:
    """Groups ordered with those needing attention first.

    Ranked by the variation icon of the group's last phase (concern first, then a
    neutral special cause, common cause, improvement last), then by its assurance
    icon (failing the target first, then hit and miss, no target, passing last),
    then in the order the groups appear in the data. Returns group keys (tuples of
    the ``by`` values).
    """
    points = _check_points(result)
    keys = list(_group_frames(points[list(result.by)], result.by)) if result.by else [()]
    info = {key: _icon_types(row) for key, row in _latest_rows(result).items()}
    ranks = []
    for i, key in enumerate(keys):
        variation, assurance = info.get(key, ("", ""))
        ranks.append((_VARIATION_RANK.get(variation, 2), _ASSURANCE_RANK.get(assurance, 2), i, key))
    return [r[-1] for r in sorted(ranks, key=lambda r: r[:3])]


# --- rules in plain words ---------------------------------------------------------


def _rule_kind(rule: str) -> str:
    """The family of a rule named in ``special_cause`` (pxlib.spc.rules' labels and
    plain variants): two_of_three, outside, astronomical, trend, crossings, runs,
    long_run, shift, or other."""
    low = rule.strip().lower()
    if ("two" in low and "three" in low) or "2 of 3" in low:
        return "two_of_three"
    if "astronomical" in low:
        return "astronomical"
    if "outside" in low or "limit" in low or "sigma" in low:
        return "outside"
    if "trend" in low:
        return "trend"
    if "crossing" in low:
        return "crossings"
    if "too many" in low or "runs" in low:
        return "runs"
    if "longest" in low or "long run" in low:
        return "long_run"
    if "shift" in low or "above" in low or "below" in low:
        return "shift"
    return "other"


def _meaning(up: bool | None, improvement: str) -> str:
    if up is None:
        return "a sign the process has changed"
    if improvement == "neutral":
        return "special cause (no direction of improvement set)"
    return "improvement" if up == (improvement == "increase") else "concern"


def rule_in_words(
    rule: str,
    *,
    up: bool | None,
    count: int | None = None,
    improvement: str = "neutral",
) -> str:
    """One fired rule as a plain sentence: "7 points in a row above the centre line: improvement".

    ``rule`` is one item of the ``special_cause`` column (the rule labels of
    :mod:`pxlib.spc.rules`: outside limits, trend, two of three close to limits,
    shift, longest run, too few crossings, astronomical point, IHI runs; an
    unknown rule is written as it is). ``up`` is the pattern's direction (above
    the centre line or rising; None for rules without one), ``count`` the number
    of points in the pattern, ``improvement`` the chart's direction, which gives
    the meaning after the colon.
    """
    kind = _rule_kind(rule)
    n = f"{count} points" if count else "points"
    side = "above" if up else "below"
    if kind == "two_of_three":
        words = f"2 of 3 points close to the {'upper' if up else 'lower'} process limit"
    elif kind == "outside":
        words = f"{side} the {'upper' if up else 'lower'} process limit"
    elif kind == "astronomical":
        words = f"an astronomical point (far {side} the other values)"
    elif kind == "trend":
        words = f"{n} in a row {'rising' if up else 'falling'}"
    elif kind == "crossings":
        words = "too few crossings of the centre line"
        up = None
    elif kind == "runs":
        words = "too few or too many runs around the centre line"
        up = None
    elif kind == "long_run":
        words = f"a run of {n} {side} the centre line, longer than chance allows"
    elif kind == "shift":
        words = f"{n} in a row {side} the centre line"
    else:
        words = rule.strip()
    words = words[:1].upper() + words[1:]
    return f"{words}: {_meaning(up, improvement)}"


def _blocks(flag: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block id and block length of runs of consecutive flagged points with equal key."""
    change = np.ones(len(flag), dtype=bool)
    change[1:] = (flag[1:] != flag[:-1]) | (key[1:] != key[:-1])
    block = np.cumsum(change)
    sizes = np.bincount(block)
    return block, sizes[block]


def _signal_texts(
    rules: list[list[str]], y: np.ndarray, cl: np.ndarray, ucl: np.ndarray, improvement: str
) -> list[str]:
    """Hover lines of every point of one group (sorted by x): each fired rule in words,
    with the size of its pattern counted from the neighbouring points flagged by the
    same rule on the same side (shift, run) or in the same direction (trend)."""
    m = len(rules)
    out: list[list[str]] = [[] for _ in range(m)]
    names = sorted({r for rs in rules for r in rs})
    if not names:
        return [""] * m
    with np.errstate(invalid="ignore"):
        above = y > cl
        diff = np.diff(y)
    for name in names:
        kind = _rule_kind(name)
        flag = np.array([name in rs for rs in rules])
        if kind == "trend":
            prev = np.concatenate([[np.nan], diff])
            nxt = np.concatenate([diff, [np.nan]])
            flagged_prev = np.concatenate([[False], flag[:-1]])
            up = np.where(flagged_prev & np.isfinite(prev), prev > 0, nxt > 0)
            block, length = _blocks(flag, up)
            # a peak or trough shared by two trends belongs to both
            start = flag & np.concatenate([[True], (up[1:] != up[:-1]) | ~flag[:-1]])
            shared = np.zeros(block.max() + 1, dtype=int)
            shared[block[start & flagged_prev]] = 1
            length = length + shared[block]
        elif kind == "outside":
            up = np.where(np.isfinite(ucl), y > ucl, above)
            _, length = _blocks(flag, up)
        else:
            up = above
            _, length = _blocks(flag, up)
        for i in np.flatnonzero(flag):
            out[i].append(
                rule_in_words(
                    name,
                    up=bool(up[i]),
                    count=int(length[i]) if kind in ("trend", "shift", "long_run") else None,
                    improvement=improvement,
                )
            )
    return ["<br>".join(html_text(s) for s in lines) for lines in out]


def _split_rules(values: np.ndarray) -> list[list[str]]:
    return [[r.strip() for r in _text(v).split(";") if r.strip()] for v in values]


# --- geometry of one panel --------------------------------------------------------


def _segments(phase: np.ndarray) -> list[tuple[int, int, Any]]:
    """(start, end, phase) of each run of equal phase values, in x order."""
    m = len(phase)
    if m == 0:
        return []
    change = np.ones(m, dtype=bool)
    change[1:] = phase[1:] != phase[:-1]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], m]
    return [(int(a), int(b), phase[a]) for a, b in zip(starts, ends, strict=True)]


def _stepped(
    x: list, values: np.ndarray, segments: list[tuple[int, int, Any]]
) -> tuple[list, np.ndarray] | None:
    """x and y of a line drawn per phase, broken between phases.

    A phase whose value is constant is drawn from its first to its last x with two
    points (compact JSON); a varying one (p and u charts with unequal n) point by
    point, drawn as steps centred on the points (plotly ``hvh``).
    """
    xs: list = []
    ys: list[float] = []
    for a, b, _ in segments:
        v = values[a:b]
        keep = np.flatnonzero(np.isfinite(v))
        if not len(keep):
            continue
        if xs:
            xs.append(None)
            ys.append(np.nan)
        v = v[keep]
        if np.allclose(v, v[0], rtol=1e-12, atol=0):
            xs += [x[a + keep[0]], x[a + keep[-1]]]
            ys += [v[0], v[0]]
        else:
            xs += [x[a + k] for k in keep]
            ys += v.tolist()
    if not xs:
        return None
    return xs, np.asarray(ys, dtype=float)


def _two_sigma(cl: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-sigma lines where the engine gave none: cl ± 2σ, σ from the 3σ limits.

    σ = max(ucl − cl, cl − lcl)/3 (a limit cut at 0 or 1 is the shorter side);
    the 2-sigma lines are cut at the same bounds as the 3-sigma limits.
    """
    with np.errstate(invalid="ignore"):
        sigma = np.fmax(ucl - cl, cl - lcl) / 3
        lo = np.maximum(cl - 2 * sigma, np.where(np.isfinite(lcl), lcl, -np.inf))
        hi = np.minimum(cl + 2 * sigma, np.where(np.isfinite(ucl), ucl, np.inf))
    return lo, hi


def _midpoint(a: object, b: object, dates: bool) -> object:
    if dates:
        ta, tb = pd.Timestamp(a), pd.Timestamp(b)
        return (ta + (tb - ta) / 2).strftime("%Y-%m-%d %H:%M")
    try:
        return (float(a) + float(b)) / 2
    except (TypeError, ValueError):
        return b


class _XScale:
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
        vals = [v for v in values if not _blank(v)]
        nums = self._numbers(vals)
        if nums is None:
            for v in vals:
                self.codes.setdefault(v, len(self.codes))
            nums = np.asarray(list(self.codes.values()), dtype=float)
        self.lo = float(nums.min()) if len(nums) else 0.0
        self.hi = float(nums.max()) if len(nums) else 1.0

    def _numbers(self, vals: list) -> np.ndarray | None:
        if vals and all(_is_date_like(v) for v in vals):
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

    def px(self, value: object) -> float | None:
        if _blank(value):
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


_MAX_LABEL_LEVELS = 3  # more crowded than this: the label is shown on hover only
_LABEL_GAP_PX = 4


def _stagger(boxes: Sequence[tuple[float, float] | None], max_levels: int) -> list[int | None]:
    """The level (0 the lowest) of each label so that labels on one level do not overlap.

    ``boxes``: each label's (left, right) edges in pixels, or None where its place
    is unknown (level 0). Labels are placed from left to right on the lowest level
    whose last label ends at least a few pixels before them (interval colouring in
    order of left edge: as few levels as the overlaps allow); a label that would
    need more than ``max_levels`` levels gets None (hover only).
    """
    out: list[int | None] = [0] * len(boxes)
    ends: list[float] = []  # right edge of the last label of each level
    placed = sorted((b[0], i) for i, b in enumerate(boxes) if b is not None)
    for left, i in placed:
        right = boxes[i][1]
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


_PHASE_FONT = 11
_PHASE_STEP_PX = 15  # one level of phase labels: an 11 px line and its padding
_PDSA_FONT = 10
_PDSA_STEP_PX = 16
_PDSA_ARROW_PX = 26  # label of the lowest level above the x axis


def _phase_band_px(levels: int) -> int:
    """Height above a panel's plotting area kept for its phase labels (18 px for one level)."""
    return 3 + _PHASE_STEP_PX * max(levels, 1)


class _Panel:
    """Traces, shapes and annotations of one group on one pair of axes."""

    def __init__(
        self,
        result,
        spec: ChartSpec,
        opts: dict[str, Any],
        seen: set[str],
        scale: _XScale | None = None,
    ):
        self.result = result
        self.spec = spec
        self.opts = opts
        self.seen = seen
        self.scale = scale
        self.traces: list[dict] = []
        self.shapes: list[dict] = []
        self.annotations: list[dict] = []
        self.phase_levels = 0  # levels of phase labels above the plotting area

    def _legend(self, name: str, rank: int) -> dict[str, Any]:
        show = name not in self.seen
        self.seen.add(name)
        return {"name": name, "legendgroup": name, "showlegend": show, "legendrank": rank}

    def build(self, frame: pd.DataFrame, key: tuple, xa: str, ya: str) -> None:
        result, spec, opts = self.result, self.spec, self.opts
        if _is_datetime(frame["x"]) or pd.api.types.is_numeric_dtype(frame["x"]):
            frame = frame.sort_values("x", kind="stable")  # labels keep the engine's order
        axes = {"xaxis": xa, "yaxis": ya}
        dates = _is_datetime(frame["x"])
        x = _x_list(frame["x"])
        y = _num(frame["y"])
        cl = _num(frame["cl"])
        lcl, ucl, n = (_optional_num(frame, c) for c in ("lcl", "ucl", "n"))
        has_limits = bool(np.isfinite(lcl).any() or np.isfinite(ucl).any())
        phase = frame["phase"].to_numpy() if "phase" in frame.columns else np.ones(len(frame))
        segments = _segments(phase)

        # data line (gaps where y is missing)
        self.traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "mode": "lines",
                "line": {"color": _DATA_COLOUR, "width": 1.5},
                "hoverinfo": "skip",
                "connectgaps": False,
                **self._legend(LINE_NAMES["data"], 0),
                "showlegend": False,
                **axes,
            }
        )

        # centre line, split by the phases' runs signal
        median = result.kind in _MEDIAN_KINDS
        cl_name = LINE_NAMES["cl_median" if median else "cl_mean"]
        runs = self._runs_by_phase(key)
        plain = [s for s in segments if not runs.get(s[2])]
        flagged = [s for s in segments if runs.get(s[2])]
        for segs, name, dash, rank in (
            (plain, cl_name, "solid", 10),
            (flagged, LINE_NAMES["cl_runs"], "dash", 11),
        ):
            line = _stepped(x, cl, segs) if segs else None
            if line is None:
                continue
            self.traces.append(
                {
                    "type": "scatter",
                    "x": line[0],
                    "y": line[1],
                    "mode": "lines",
                    "line": {"color": _CL_COLOUR, "width": 1.5, "dash": dash, "shape": "hvh"},
                    "hovertemplate": f"{html_text(name)}: {spec.hover('y')}<extra></extra>",
                    **self._legend(name, rank),
                    **axes,
                }
            )

        # limits, and 2-sigma lines
        if has_limits:
            values = {"ucl": ucl, "lcl": lcl}
            limit_lines = [("ucl", "solid", 1.5, 20), ("lcl", "solid", 1.5, 21)]
            if opts["show_2sigma"]:
                limit_lines += [("ucl_2s", "dot", 1, 30), ("lcl_2s", "dot", 1, 31)]
                if "lcl_2s" in frame.columns and "ucl_2s" in frame.columns:
                    values["lcl_2s"], values["ucl_2s"] = (
                        _num(frame["lcl_2s"]),
                        _num(frame["ucl_2s"]),
                    )
                else:
                    values["lcl_2s"], values["ucl_2s"] = _two_sigma(cl, lcl, ucl)
            for col, dash, width, rank in limit_lines:
                line = _stepped(x, values[col], segments)
                if line is None:
                    continue
                name = LINE_NAMES[col]
                self.traces.append(
                    {
                        "type": "scatter",
                        "x": line[0],
                        "y": line[1],
                        "mode": "lines",
                        "line": {
                            "color": _LIMIT_COLOUR,
                            "width": width,
                            "dash": dash,
                            "shape": "hvh",
                        },
                        "hovertemplate": f"{name}: {spec.hover('y')}<extra></extra>",
                        **self._legend(name, rank),
                        **axes,
                    }
                )

        # target
        target = result.target
        if opts["show_target"] and target is not None and np.isfinite(target) and x:
            name = f"{LINE_NAMES['target']} ({_target_text(spec, target)})"
            xs = [v for v in x if v is not None]
            self.traces.append(
                {
                    "type": "scatter",
                    "x": [xs[0], xs[-1]],
                    "y": [float(target), float(target)],
                    "mode": "lines",
                    "line": {"color": vocabulary.TARGET_COLOUR, "width": 1.5, "dash": "dash"},
                    "hovertemplate": f"{name}<extra></extra>",
                    **self._legend(name, 40),
                    **axes,
                }
            )

        self._points(frame, x, y, n, cl, lcl, ucl, has_limits, axes, key)
        named = frame["phase_label"].to_numpy(dtype=object) if "phase_label" in frame else None
        self._phases(segments, x, dates, xa, ya, named)

    def _runs_by_phase(self, key: tuple) -> dict:
        """{phase: runs signal} where the chart's rules include the Anhøj runs tests."""
        summary = self.result.summary
        if "anhoej" not in tuple(self.result.rules or ()):
            return {}
        if summary is None or "runs_signal" not in summary.columns or len(summary) == 0:
            return {}
        rows = summary
        for col, value in zip(self.result.by, key, strict=False):
            rows = rows[rows[col] == value]
        phases = rows["phase"] if "phase" in rows.columns else pd.Series([1] * len(rows))
        flags = rows["runs_signal"].astype("boolean").fillna(False)
        return dict(zip(phases.tolist(), flags.tolist(), strict=True))

    def _points(self, frame, x, y, n, cl, lcl, ucl, has_limits, axes, key) -> None:
        result, spec, opts = self.result, self.spec, self.opts
        m = len(frame)
        types = (
            frame["point_type"].astype(object).where(frame["point_type"].notna(), "common_cause")
            if "point_type" in frame.columns
            else pd.Series(["common_cause"] * m, index=frame.index)
        ).to_numpy()
        include = _bool(frame["include"] if "include" in frame.columns else None, m, True)
        mixed = _bool(frame["mixed_signal"] if "mixed_signal" in frame.columns else None, m, False)
        causes = (
            frame["special_cause"].to_numpy(dtype=object)
            if "special_cause" in frame.columns
            else np.full(m, "", dtype=object)
        )
        has_y = np.isfinite(y)
        has_n = bool(np.isfinite(n).any())
        dates = _is_datetime(frame["x"])
        head = f"<b>{html_text(_label(key))}</b><br>" if key and opts["group_in_hover"] else ""
        x_hover = "%{x|%d %b %Y}" if dates else f"{html_text(opts['x_title'] or 'Subgroup')} %{{x}}"
        value_name = html_text(result.y_label or "Value")
        # rules in words, counted over the points that have a value (a gap is no break)
        signals = np.full(m, "", dtype=object)
        valued = np.flatnonzero(has_y)
        signals[valued] = _signal_texts(
            _split_rules(causes[valued]), y[valued], cl[valued], ucl[valued], result.improvement
        )
        mixed_note = "Part of both an improvement and a concern pattern"
        for rank, (ptype, style) in enumerate(POINT_STYLES.items(), start=1):
            sel = (types == ptype) & has_y
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            text = [
                signals[i] + (("<br>" if signals[i] else "") + mixed_note if mixed[i] else "")
                for i in idx
            ]
            excluded = ~include[idx]
            text = [
                (t + "<br>" if t else "") + "Left out of the limit calculation" if ex else t
                for t, ex in zip(text, excluded, strict=True)
            ]
            any_text = any(text)
            template = [head + x_hover, f"{value_name}: {spec.hover('y')}"]
            custom = []
            if has_n:
                custom.append(n[idx])
                template.append("n = %{customdata[0]:,.4~r}")
            limits_ok = has_limits and np.isfinite(lcl[idx]).all() and np.isfinite(ucl[idx]).all()
            c0 = len(custom)
            if limits_ok:
                custom += [cl[idx], lcl[idx], ucl[idx]]
                template.append(
                    f"Process limits {spec.hover(f'customdata[{c0 + 1}]')} to "
                    f"{spec.hover(f'customdata[{c0 + 2}]')}; centre line "
                    f"{spec.hover(f'customdata[{c0}]')}"
                )
            else:
                custom.append(cl[idx])
                template.append(f"Centre line {spec.hover(f'customdata[{c0}]')}")
            if any_text:
                template.append("%{text}")
            symbol: Any = style["symbol"]
            if excluded.any():
                symbol = [f"{style['symbol']}-open" if ex else style["symbol"] for ex in excluded]
            line_colour: Any = "white"
            line_width: Any = 0.5
            if mixed[idx].any():
                line_colour = [NHS_DARK_GREY if mx else "white" for mx in mixed[idx]]
                line_width = [2 if mx else 0.5 for mx in mixed[idx]]
            trace = {
                "type": "scatter",
                "x": [x[i] for i in idx],
                "y": y[idx],
                "mode": "markers",
                "marker": {
                    "color": style["color"],
                    "symbol": symbol,
                    "size": opts["marker_size"] + (0 if ptype == "common_cause" else 2),
                    "line": {"color": line_colour, "width": line_width},
                },
                "customdata": np.column_stack(custom).astype(np.float32),  # display only: 4 bytes
                "hovertemplate": "<br>".join(template),
                **self._legend(style["name"], rank),
                **axes,
            }
            if any_text:
                trace["text"] = text
            self.traces.append(trace)

    def _phases(
        self, segments: list[tuple], x: list, dates: bool, xa: str, ya: str, named=None
    ) -> None:
        """A dotted line between phases and a label over each: ``phase_labels`` when
        given, else the engine's ``phase_label`` column, else "Phase n"."""
        if len(segments) < 2:
            return
        labels = self.opts["phase_labels"]
        texts, firsts = [], []
        for i, (a, _b, phase) in enumerate(segments):
            phase = phase.item() if hasattr(phase, "item") else phase
            if isinstance(labels, dict):
                label = labels.get(phase, f"Phase {_plain(phase)}")
            elif labels is not None and i < len(labels):
                label = labels[i]
            elif named is not None and not _blank(named[a]):
                label = named[a]
            else:
                label = f"Phase {_plain(phase)}"
            texts.append(_plain(label))
            firsts.append(x[a])
            if i > 0:
                prev_last = x[segments[i - 1][1] - 1]
                at = _midpoint(prev_last, x[a], dates)
                self.shapes.append(
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
            left = self.scale.px(first) if self.scale is not None else None
            width = text_width_px(html_text(text), _PHASE_FONT) + 4
            boxes.append(None if left is None else (left, left + width))
        levels = _stagger(boxes, _MAX_LABEL_LEVELS)
        self.phase_levels = max([lv + 1 for lv in levels if lv is not None], default=1)
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
                note.update(_hover_only(html_text(text)))
            else:
                note["yshift"] = level * _PHASE_STEP_PX
            self.annotations.append(note)


def _hover_only(hover: str) -> dict[str, Any]:
    """Annotation settings that show no label but keep ``hover`` on a small invisible
    target where the label would be."""
    return {"text": " ", "width": 10, "height": 10, "hovertext": hover}


# --- PDSA annotations --------------------------------------------------------------


def _pdsa_rows(table: pd.DataFrame, cols: dict[str, Any]) -> pd.DataFrame:
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
    when = pd.Timestamp(start).strftime("%d %b %Y") if _is_date_like(start) else _plain(start)
    end = row.get(cols["end"]) if cols["end"] else None
    if not _blank(end) and _is_date_like(end):
        when += f" to {pd.Timestamp(end).strftime('%d %b %Y')}"
    lines = [f"<b>{html_text(short)}</b> ({when})", _wrap(_text(row[cols["label"]]))]
    names = {"prediction": "Prediction", "what_happened": "What happened", "decision": "Decision"}
    for col in cols["details"] or ():
        if col in row.index and not _blank(row[col]):
            lines.append(f"{names.get(col, col)}: {_wrap(_text(row[col]))}")
    return "<br>".join(lines)


def _is_date_like(value: object) -> bool:
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return True
    if hasattr(value, "year") and hasattr(value, "month"):
        return True
    if isinstance(value, str):
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError):
            return False
        return bool(re.match(r"\d{4}-\d{2}-\d{2}", value))
    return False


def _short_label(row: pd.Series, cols: dict[str, Any], width: int = 18) -> str:
    short_col = cols["short"]
    if short_col and short_col in row.index and not _blank(row[short_col]):
        return _plain(row[short_col])
    text = _text(row[cols["label"]])
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _pdsa_for_group(table: pd.DataFrame, by: Sequence[str], key: tuple) -> pd.DataFrame:
    match = [c for c in by if c in table.columns]
    if not match:
        return table
    keep = np.ones(len(table), dtype=bool)
    for col, value in zip(by, key, strict=False):
        if col in match:
            keep &= (table[col].astype(str) == str(value)).to_numpy()
    return table[keep]


def _pdsa_marks(
    table: pd.DataFrame,
    cols: dict[str, Any],
    xa: str,
    ya: str,
    dates: bool,
    scale: _XScale | None = None,
) -> tuple[list[dict], list[dict]]:
    """A dotted line and a labelled arrow on the x axis for each cycle.

    Labels of cycles closer together than a label is wide are stacked (up to
    three levels, from the x axis up); a cycle with no room left keeps its line
    and arrow and shows its label on hover only.
    """
    shapes, notes = [], []
    for _, row in table.iterrows():
        x = row[cols["x"]]
        if dates or _is_date_like(x):
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
    levels = _stagger(boxes, _MAX_LABEL_LEVELS)
    for note, level in zip(notes, levels, strict=True):
        if level is None:
            note.update(_hover_only(note["hovertext"]), bgcolor="rgba(0,0,0,0)")
        else:
            note["ay"] = -(_PDSA_ARROW_PX + level * _PDSA_STEP_PX)
    # lower labels drawn last, over the arrows of the labels stacked above them
    order = sorted(range(len(notes)), key=lambda i: -(levels[i] if levels[i] is not None else 9))
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
    grid = None
    if x_values is not None:
        grid = pd.Series(pd.to_datetime(pd.Series(x_values).dropna().unique())).sort_values()
        grid = grid.to_numpy()

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


# --- figures -----------------------------------------------------------------------

_ICON_PX = 44  # icon height in the corner of a single chart
_PANEL_ICON_PX = 30  # in small multiples
_LEGEND_ROW_PX = 24


def _icon_image(
    types: tuple[str, str], improvement: str, x: float, y: float, height_px: float, geo: dict
) -> tuple[dict | None, float]:
    """A layout image of the icon pair, right-aligned at paper (x, y); and its width in px."""
    variation, assurance = types
    svg = icons.icon_pair_svg(variation, assurance, improvement)
    if not svg:
        return None, 0.0
    width_px = _icon_width_px(types, height_px)
    image = {
        "source": icons.svg_data_uri(svg),
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "sizex": width_px / geo["plot_w"],
        "sizey": height_px / geo["plot_h"],
        "xanchor": "right",
        "yanchor": "bottom",
        "sizing": "contain",
        "layer": "above",
    }
    return image, width_px


def _icon_width_px(types: tuple[str, str], height_px: float) -> float:
    """Width of the icon pair of ``types`` drawn ``height_px`` high (0 without icons)."""
    count = int(bool(types[0])) + int(bool(types[1]))
    return height_px * (44 * count - 4) / 40 if count else 0.0


def _icon_words(
    types: tuple[str, str], improvement: str, short: bool = False, capital: bool = False
) -> str:
    return " · ".join(html_text(p) for p in _icon_phrases(types, improvement, short, capital))


def _icon_phrases(
    types: tuple[str, str], improvement: str, short: bool = False, capital: bool = False
) -> list[str]:
    """The icons' meaning in words (plain text): variation, then assurance."""
    variation, assurance = types
    parts = vocabulary.icon_phrases(variation, assurance, improvement, short)
    if capital:
        parts = [p[:1].upper() + p[1:] for p in parts]
    return parts


def _subtitle(result) -> str:
    kind = KIND_NAMES.get(result.kind, f"{result.kind} chart")
    rules = ", ".join(vocabulary.RULE_SET_NAMES.get(r, r) for r in result.rules)
    out = kind
    if rules:
        out += f" · rules: {rules}"
    direction = {"increase": "higher is better", "decrease": "lower is better"}.get(
        result.improvement
    )
    if direction:
        out += f" · {direction}"
    return html_text(out)


def _select_group(result, group: object) -> tuple:
    key = group if isinstance(group, tuple) else (group,)
    if len(key) != len(result.by):
        raise ChartError(
            f"group {group!r} does not name one group of the chart grouped by "
            f"{', '.join(result.by) or 'nothing'}"
        )
    return key


def spc_figure(
    result,
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
    points = _check_points(result)
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
    frames = _group_frames(points, result.by)
    if group is not None:
        key = _select_group(result, group)
        if key not in frames:
            names = ", ".join(_label(k) for k in list(frames)[:10])
            raise ChartError(f"no group {_label(key)!r} in the chart; groups include: {names}")
        frames = {key: frames[key]}
    pdsa_cols = {
        "x": annotation_x,
        "label": annotation_label,
        "short": annotation_short,
        "end": annotation_end,
        "details": annotation_details,
    }
    pdsa = _pdsa_rows(annotations, pdsa_cols) if annotations is not None else None
    spec = result.spec
    latest = {key: _icon_types(row) for key, row in _latest_rows(result).items()}
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


def _legend_rows(traces: list[dict], plot_w: float) -> int:
    """Rows a horizontal legend needs: plotly wraps its entries into columns as wide
    as the widest entry (its name in the 13 px font and 46 px of symbol)."""
    names = [t["name"] for t in traces if t.get("showlegend", True) and t.get("name")]
    if not names:
        return 0
    widest = 46 + max(text_width_px(name) for name in names)
    per_row = max(int(plot_w // widest), 1)
    return -(-len(names) // per_row)


_TITLE_FONT = 17  # the template's title size
_TITLE_TOP_PX = 14  # from the top of the figure to its title
_TITLE_LINE_PX = _TITLE_FONT * LINE_HEIGHT
_SUBTITLE_PX = 26  # the subtitle line under the title, and the space around it
_TICK_PX = 9  # tick length and the space between a tick and its label
_TICK_ANGLE = 30  # the angle plotly turns crowded tick labels by


_WRAP_SLACK = 0.92  # wrap titles short of the room: fonts other than Arial run wider


def _figure_title(text: str, width_px: float) -> tuple[str, int]:
    """The figure's title wrapped at word boundaries to ``width_px`` (never cut), and
    its number of lines."""
    return _wrapped(text, width_px * _WRAP_SLACK, _TITLE_FONT)


def _title_extra_px(lines: int) -> float:
    """Height a title of ``lines`` lines needs beyond the first line."""
    return (max(lines, 1) - 1) * _TITLE_LINE_PX


def _finish(ctx: dict, traces: list[dict], layout: dict, geo: dict) -> go.Figure:
    result = ctx["result"]
    layout.update(
        template=TEMPLATE,
        width=geo["width"],
        height=geo["height"],
        margin={"t": geo["t"], "b": geo["b"], "l": geo["l"], "r": geo["r"]},
        hovermode="closest",
        showlegend=True,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "traceorder": "normal",
        },
    )
    # the title block at the top of the figure, whatever the margin below it holds
    layout["title"].update(yref="container", y=1 - _TITLE_TOP_PX / geo["height"], yanchor="top")
    layout["title"].setdefault("subtitle", {"text": _subtitle(result)})
    return go.Figure(data=traces, layout=layout)


def _geometry(width: float, height: float, t: float, b: float, left: float, r: float) -> dict:
    return {
        "width": width,
        "height": height,
        "t": t,
        "b": b,
        "l": left,
        "r": r,
        "plot_w": width - left - r,
        "plot_h": height - t - b,
    }


def _x_values(ctx: dict, frames: Iterable[pd.DataFrame], keys: Iterable[tuple]) -> list:
    """Every x a set of panels shows: their points' and their PDSA cycles' x."""
    values: list = []
    for frame in frames:
        values += frame["x"].tolist()
    if ctx["pdsa"] is not None:
        col = ctx["pdsa_cols"]["x"]
        for key in keys:
            values += _pdsa_for_group(ctx["pdsa"], ctx["result"].by, key)[col].tolist()
    return values


def _single(ctx: dict, key: tuple, frame: pd.DataFrame) -> go.Figure:
    result, spec = ctx["result"], ctx["spec"]
    width = ctx["width"] or 900
    l_px, r_px = 64, 24
    scale = _XScale(_x_values(ctx, [frame], [key]), width - l_px - r_px)
    seen: set[str] = set()
    panel = _Panel(result, spec, ctx["opts"], seen, scale)
    panel.build(frame, key, "x", "y")
    traces, shapes, notes = panel.traces, panel.shapes, panel.annotations
    dates = _is_datetime(frame["x"])
    _add_pdsa(ctx, key, "x", "y", dates, seen, traces, shapes, notes, scale)
    base = result.y_label or ""
    title = ctx["title"]
    if title is None:
        title = f"{_label(key)}: {base}" if key and base else (_label(key) if key else base)
    title_html, title_lines = _figure_title(title, width - l_px - r_px)
    # phase labels stack above the plotting area; the icons sit above them
    band = _phase_band_px(panel.phase_levels)
    legend_px = _legend_rows(traces, width - 64) * _LEGEND_ROW_PX + 8
    b = 44 + (20 if ctx["x_title"] else 0) + legend_px
    t = round(112 + _title_extra_px(title_lines) + band - _phase_band_px(1))
    height = ctx["height"] or 360 + t + b
    geo = _geometry(width, height, t, b, l_px, r_px)
    images = []
    types = ctx["latest"].get(key, ("", ""))
    if ctx["show_icons"]:
        image, icon_w = _icon_image(
            types, result.improvement, 1, 1 + (band + 4) / geo["plot_h"], _ICON_PX, geo
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
                    "text": _icon_words(types, result.improvement, capital=True).replace(
                        " · ", "<br>"
                    ),
                    "showarrow": False,
                    "font": {"size": 11, "color": NHS_DARK_GREY},
                }
            )
    xaxis: dict[str, Any] = {"title": {"text": html_text(ctx["x_title"] or "")}}
    if dates:
        xaxis.update(_DATE_AXIS, tick0=pd.Timestamp(frame["x"].min()).strftime("%Y-%m-%d"))
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
    }
    return _finish(ctx, traces, layout, geo)


def _add_pdsa(ctx, key, xa, ya, dates, seen, traces, shapes, notes, scale=None) -> None:
    """Append the PDSA cycles of one group (its marks, and the legend entry once per
    figure) to the figure's traces, shapes and annotations."""
    if ctx["pdsa"] is None:
        return
    rows = _pdsa_for_group(ctx["pdsa"], ctx["result"].by, key)
    marks, labels = _pdsa_marks(rows, ctx["pdsa_cols"], xa, ya, dates, scale)
    shapes += marks
    notes += labels
    if len(rows) and LINE_NAMES["pdsa"] not in seen:
        seen.add(LINE_NAMES["pdsa"])
        traces.append(_pdsa_legend())


def _pdsa_legend() -> dict:
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


# --- x tick labels of small multiples --------------------------------------------------

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
    ticks shows (in the formats of ``_DATE_AXIS``; plotly counts steps of months from
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
    labels = []
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
    return [_plain(first + k * step) for k in range(min(count, 50))], step


def _x_ticks(scale: _XScale, axis_px: float) -> dict[str, Any]:
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


def _tick_labels(scale: _XScale, axis_px: float, nticks: int) -> tuple[list[str], float]:
    """The labels an axis with at most ``nticks`` ticks shows, and their spacing in px."""
    span = scale.hi - scale.lo
    if scale.kind == "date" and span > 0:
        labels, step = _date_tick_labels(scale.lo, scale.hi, nticks)
    elif scale.kind == "number" and span > 0:
        labels, step = _number_tick_labels(scale.lo, scale.hi, nticks)
    else:  # categories (or a single x): every nth one
        labels = [_plain(v) for v in scale.codes] or [""]
        step = max(math.ceil(len(labels) / nticks), 1)
        span = max(len(labels) - 1, 1)
    return labels or [""], step / span * axis_px if span > 0 else axis_px


# --- small multiples ---------------------------------------------------------------------

_PANEL_FONT = 13  # panel titles; the icons' words under them are 11 px
_PANEL_MIN_TEXT_PX = 110  # narrower room beside the icons: the title goes above them
_COL_GAP_PX = 44  # between columns: room for the y tick labels ("100%") of the next


def _panel_header(ctx: dict, key: tuple, width_px: float, phase_levels: int) -> dict[str, Any]:
    """A panel's title, wrapped to the room beside its icons (above them when a
    panel is too narrow for both side by side), where it goes, and the height above
    the plotting area its phase labels, icons and title take."""
    result = ctx["result"]
    types = ctx["latest"].get(key, ("", ""))
    icon_w = _icon_width_px(types, _PANEL_ICON_PX) if ctx["show_icons"] else 0.0
    beside = icon_w + 6 if icon_w else 0.0
    stacked = width_px - beside < _PANEL_MIN_TEXT_PX
    text_w = (width_px if stacked else width_px - beside) * _WRAP_SLACK
    title, lines = _wrapped(_label(key), text_w, _PANEL_FONT, bold=True)
    text = f"<b>{title}</b>"
    words = _icon_phrases(types, result.improvement, short=True)
    if words:
        wrapped = _phrase_lines(_icon_phrases(types, result.improvement, short=True), text_w, 11)
        lines += len(wrapped)
        text += "".join(
            f"<br><span style='font-size:11px;color:{NHS_DARK_GREY}'>{html_text(w)}</span>"
            for w in wrapped
        )
    band = _phase_band_px(phase_levels)
    block = lines * _PANEL_FONT * LINE_HEIGHT + 4
    icons_px = _PANEL_ICON_PX + 2 if icon_w else 0
    return {
        "text": text,
        "types": types,
        "band": band,
        "xshift": 0 if stacked else beside,
        "yshift": band + icons_px if stacked else band,
        "height_px": band + (icons_px + block if stacked else max(icons_px, block)),
    }


def _phrase_lines(phrases: list[str], width_px: float, size: float) -> list[str]:
    """Phrases joined with " · " on as few lines as fit ``width_px``, a line breaking
    between phrases where it can (within one only when it is too long alone)."""
    lines: list[str] = []
    for phrase in phrases:
        joined = f"{lines[-1]} · {phrase}" if lines else phrase
        if lines and text_width_px(joined, size) <= width_px:
            lines[-1] = joined
        else:
            lines += wrap_lines(phrase, width_px, size)
    return lines


def _multiples(ctx: dict, keys: list[tuple], frames: dict, cols: int | None, shared_y: bool):
    result, spec = ctx["result"], ctx["spec"]
    count = len(keys)
    cols = cols or (count if count <= 4 else 4 if count <= 12 else 5)
    rows = -(-count // cols)
    width = ctx["width"] or max(720, cols * 230 + 90)
    l_px, r_px = 56, 20
    plot_w = width - l_px - r_px
    col_w_px = (plot_w - _COL_GAP_PX * (cols - 1)) / cols
    scale = _XScale(_x_values(ctx, frames.values(), keys), col_w_px)
    seen: set[str] = set()
    traces: list[dict] = []
    shapes: list[dict] = []
    notes: list[dict] = []
    panels = [_Panel(result, spec, ctx["opts"], seen, scale) for _ in keys]
    # build panels first (legend rows and phase label levels depend on them)
    layout: dict[str, Any] = {}
    for i, (key, panel) in enumerate(zip(keys, panels, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        panel.build(frames[key], key, f"x{suffix}", f"y{suffix}")
        traces += panel.traces
        shapes += panel.shapes
        notes += panel.annotations
        dates = _is_datetime(frames[key]["x"])
        _add_pdsa(ctx, key, f"x{suffix}", f"y{suffix}", dates, seen, traces, shapes, notes, scale)
    # vertical room: each row's header (phase labels, icons, wrapped title) above it,
    # the x tick labels (level or turned) below it
    ticks = _x_ticks(scale, col_w_px)
    headers = [
        _panel_header(ctx, key, col_w_px, panel.phase_levels)
        for key, panel in zip(keys, panels, strict=True)
    ]
    row_head = [
        max(h["height_px"] for h in headers[r * cols : (r + 1) * cols]) for r in range(rows)
    ]
    gaps = [ticks["height_px"] + row_head[r + 1] + 6 for r in range(rows - 1)]
    title_html, title_lines = _figure_title(
        ctx["title"] if ctx["title"] is not None else (result.y_label or ""), plot_w
    )
    t = round(_TITLE_TOP_PX + _TITLE_LINE_PX * title_lines + _SUBTITLE_PX + 10 + row_head[0])
    legend_px = _legend_rows(traces, width - 64) * _LEGEND_ROW_PX + 8
    b = round(ticks["height_px"] + 12 + (20 if ctx["x_title"] else 0) + legend_px)
    row_px = 170.0
    if ctx["height"]:  # a height asked for: the rows share what the gaps leave
        row_px = max((ctx["height"] - t - b - sum(gaps)) / rows, 40.0)
    plot_h_px = rows * row_px + sum(gaps)
    height = max(ctx["height"] or 0, math.ceil(plot_h_px + t + b))
    geo = _geometry(width, height, t, b, l_px, r_px)
    unit = 1 / geo["plot_h"]
    col_gap = _COL_GAP_PX / plot_w
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
        if _is_datetime(frames[key]["x"]):
            xaxis.update(
                _DATE_AXIS,
                tick0=pd.Timestamp(frames[key]["x"].min()).strftime("%Y-%m-%d"),
            )
        if ctx["x_title"] and r == rows - 1:
            xaxis["title"] = {"text": html_text(ctx["x_title"])}
        layout[f"xaxis{suffix}"] = xaxis
        layout[f"yaxis{suffix}"] = yaxis
        icon_w = 0.0
        if ctx["show_icons"]:
            image, icon_w = _icon_image(
                header["types"],
                result.improvement,
                x0,
                y1 + (header["band"] + 2) * unit,
                _PANEL_ICON_PX,
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
                "font": {"size": _PANEL_FONT},
            }
        )
    layout.update(title={"text": title_html}, shapes=shapes, annotations=notes, images=images)
    return _finish(ctx, traces, layout, geo)


# --- summary table ------------------------------------------------------------------


def summary_table(
    result,
    *,
    order: str = "attention",
    icon_size: int = 32,
    caption: str | None = None,
):
    """A pandas Styler: one row per group with its latest value, limits and icons.

    Columns: the ``by`` columns, the latest x with a value, that value, the centre
    line and process limits of the group's last phase, the target, the variation
    and assurance icons (inline SVG with their meaning in words) and any warnings
    (trial limits and the like). Groups needing attention come first
    (:func:`attention_order`) unless ``order="data"``.
    """
    points = _check_points(result)
    spec = result.spec
    frames = _group_frames(points, result.by)
    keys = attention_order(result) if order == "attention" else list(frames)
    latest_summary = _latest_rows(result)
    records = []
    for key in keys:
        frame = frames[key].sort_values("x", kind="stable")
        valued = frame[pd.to_numeric(frame["y"], errors="coerce").notna()]
        last = valued.iloc[-1] if len(valued) else frame.iloc[-1]
        srow = latest_summary.get(key)

        def pick(col: str, last=last, srow=srow) -> float:
            if srow is not None and col in srow.index and not _blank(srow[col]):
                return float(srow[col])
            return float(pd.to_numeric(pd.Series([last.get(col)]), errors="coerce").iloc[0])

        variation, assurance = _icon_types(srow)
        x = last["x"]
        when = pd.Timestamp(x).strftime("%d %b %Y") if _is_date_like(x) else _text(x)
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
            record["Target"] = _target_text(spec, result.target)
        record["Variation"] = _icon_cell(
            icons.variation_icon_svg(variation, result.improvement, size=icon_size),
            icons.variation_words(variation, result.improvement) if variation else "",
        )
        if result.target is not None or any(_icon_types(r)[1] for r in latest_summary.values()):
            record["Assurance"] = _icon_cell(
                icons.assurance_icon_svg(assurance, size=icon_size),
                icons.assurance_words(assurance) if assurance else "no target",
            )
        record["Warnings"] = html_text(_text(warn))
        records.append(record)
    table = pd.DataFrame.from_records(records)
    if (table["Warnings"] == "").all():
        table = table.drop(columns="Warnings")
    for col in result.by:
        table[col] = table[col].map(lambda v: html_text(_text(v)))
    default = "Units needing attention first" if order == "attention" and len(keys) > 1 else None
    styler = table.style.hide(axis="index").set_properties(
        subset=["Latest"], **{"white-space": "nowrap"}
    )
    text = caption if caption is not None else default
    if text:
        styler = styler.set_caption(html_text(text))
    return styler.set_table_styles(table_styles(vertical_align="middle"))


def _icon_cell(svg: str, words: str) -> str:
    if not svg:
        return html_text(words)
    return (
        f'<span style="display:inline-flex;align-items:center;gap:6px">'
        f'<span style="flex:none;line-height:0">{svg}</span>'
        f"<span>{html_text(words)}</span></span>"
    )


# --- funnel ------------------------------------------------------------------------


def _funnel_curve(points: pd.DataFrame, z: float, upper_bound: float) -> tuple | None:
    """Smooth funnel limits cl ± z·k/√n fitted from the units' own limits.

    For p and u funnels (with or without Laney's overdispersion factor) the 3-sigma
    half-width times √n is one constant k per funnel; k is read from units whose
    upper limit is not cut at a bound. None when the units' limits do not follow
    that form (then the per-unit limits are drawn as they are).
    """
    n = _num(points["n"])
    cl = _num(points["cl"])
    ucl = _num(points["ucl"])
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
    result,
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
    y, n = _num(pts["y"]), _num(pts["n"])
    lcl, ucl, cl = _num(pts["lcl"]), _num(pts["ucl"]), _num(pts["cl"])
    signal = (
        _bool(pts["signal"], len(pts), False)
        if "signal" in pts.columns
        else (np.isfinite(y) & ((y > ucl) | (y < lcl)))
    )
    units = [html_text(_text(u)) for u in pts[result.unit].tolist()]
    upper_bound = float(result.multiply) if str(result.kind).startswith("p") else np.inf
    traces: list[dict] = []

    def line(xv, yv, name, dash, width_, show=True, colour=_LIMIT_COLOUR) -> dict:
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

    curve3 = _funnel_curve(pts, 3, upper_bound)
    curve2 = _funnel_curve(pts, 2, upper_bound) if show_2sigma else None
    xs = [float(np.nanmin(n)) * 0.85, float(np.nanmax(n)) * 1.1]
    traces.append(
        line(xs, [float(cl[0])] * 2, "Centre line (all units)", "solid", 1.5, colour=_CL_COLOUR)
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
            traces.append(line(n, _num(pts["ucl_2s"]), "2-sigma limits (95 %)", "dot", 1))
            traces.append(line(n, _num(pts["lcl_2s"]), "2-sigma limits (95 %)", "dot", 1, False))

    def outlier_group(sel: np.ndarray, up: bool) -> tuple:
        """Units beyond one limit, styled as the chart's point type of that side."""
        name = "Above the upper limit" if up else "Below the lower limit"
        ptype = vocabulary.side_point_type(up, improvement)
        if improvement != "neutral":
            name += ": better" if ptype == "special_cause_improvement" else ": worse"
        style = POINT_STYLES[ptype]
        return sel, name, style["color"], style["symbol"]

    common = POINT_STYLES["common_cause"]
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
    title_html, title_lines = _figure_title(label, width_px - margin["l"] - margin["r"])
    margin["t"] = round(margin["t"] + _title_extra_px(title_lines))
    height_px = height or round(480 + _title_extra_px(title_lines))
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
        dx, dist, box = 0.0, _OUTLIER_ARROW_PX, (0.0, 0.0, 0.0, 0.0)
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
