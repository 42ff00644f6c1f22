"""Run and control charts: ``pxlib.spc.chart``.

``chart(data, x, y, n=None, *, kind="run", by=None, ...)`` computes, for every
group (``by``) and phase, the centre line, limits and special-cause signals, and
returns an :class:`~pxlib.spc.result.SPCResult`. It reproduces qicharts2 0.8.1
(Anhøj) and NHSRplotthedots 0.2.2 (Making Data Count) exactly; the methods are in
``../shared/methods/spc.md`` and the per-kind formulas in :mod:`pxlib.spc.limits`.

Options
-------
data, x, y, n
    A DataFrame and the names of its x (dates, numbers or sortable labels), y and
    optional denominator columns. Rows sharing an x within a group are combined:
    y and n are summed for p, pp, u, up (and for run/i charts given n, plotting
    sum(y)/sum(n)); y is summed for c; xbar and s treat the rows as one subgroup;
    other kinds take the mean (``agg`` = "mean", "sum" or "median" overrides).
    y and n may be non-integer (see *weighted proportions* below).
kind
    run, i, mr, xbar, s, t, p, pp (Laney p'), c, u, up (Laney u'), g, or xmr (Making
    Data Count XmR: mean +/- 2.66 AMR).
by
    A column name or list of names; each combination is its own series.
phases
    Where a new phase (qicharts2 *part*, MDC *rebase*) starts: a list of x values
    (the phase starts at the first x >= each value), a dict {group: [x values]}
    (group = the ``by`` value, a tuple for several columns), or the name of a column
    holding phase labels (a new phase wherever the label changes).
freeze
    Number of leading points of *each* phase that form its baseline (limits come
    from baseline points only; signals are evaluated on every point). Missing values
    count as positions, as in qicharts2. Combines with ``phases``.
exclude
    x values (or {group: [x values]}) left out of the limits and run rules; they are
    still plotted and can still fall outside the limits.
multiply
    Scale factor for y, centre line and limits (e.g. 100 for percent).
cl
    A fixed centre line (a number, or {group: number}) in the units of the plotted y
    (after ``multiply``); limits are built around it from the data's spread.
rules
    "anhoej" (the Anhøj run rules and the 3-sigma rule: the default for every kind
    but xmr), "mdc" (outside limits, trend, two of three close to the limits, shift:
    the default for xmr; available for every kind, "close" meaning beyond the
    2-sigma line), "ihi" (shift of 6, trend of 5, the runs table, an astronomical
    point), or a list combining them.
shift, trend
    Run lengths for the MDC shift and trend rules (default 7; 6 is common).
centre_line
    MDC shift: a point exactly on the centre line "break"s a run (NHSRplotthedots,
    default) or is "skip"ped (as the Anhøj and IHI rules do).
improvement
    "increase", "decrease" or "neutral": turns signals into point types.
target
    A number in the units of the plotted y: gives the assurance icon per phase. On a
    chart in percent (p or pp with ``multiply`` 1 or 100) it may also be text such as
    "80%" or "80", converted by :meth:`pxlib.spc.spec.ChartSpec.to_plotted`.
limits
    How p-chart limits are set (other kinds take only the default):

    - "normal" (default, qicharts2's): cl +/- 3 sqrt(cl(1 - cl)/n_i), the normal
      approximation to the binomial;
    - "exact": binomial probability limits at the normal lines' one-sided tail
      probabilities, 1 - Phi(3) = 0.00135 (limits) and 1 - Phi(2) = 0.02275 (2-sigma
      lines): a point is below the lower limit exactly when P(X <= x) < 0.00135 and
      above the upper one when P(X >= x) < 0.00135, X ~ Binomial(n_i, cl), n_i rounded
      to a whole number (Montgomery, *Introduction to Statistical Quality Control*,
      probability limits for attribute charts; formulas in :mod:`pxlib.spc.limits`).
      Near 0 % or 100 % with small n the normal limits raise false alarms far more
      often than their nominal 0.135 % (about 2 % of weeks at 98.5 % with 15 patients);
      exact limits keep to it;
    - "auto": per group and phase, exact where n-bar min(cl, 1 - cl) < 5
      (:data:`pxlib.spc.limits.EXACT_MIN_EXPECTED`), normal elsewhere.

    In a phase with exact limits whose typical point sits at the boundary (the mean
    over its points of P(X = n_i) = cl^n_i, or of P(X = 0) below 50 %, exceeds 1/2:
    :data:`BOUNDARY_SHARE`), points are not as likely to fall above the centre line as
    below it, so the run rules (Anhøj longest run and crossings, MDC shift, IHI shift
    and runs test) are not applied there: they colour no point, ``runs_signal`` is
    false, and ``summary['warning']`` says so. The limits, trend and two-of-three
    rules still apply. ``summary['limits']`` says what each phase got.
screen_mr
    Drop moving ranges >= 3.267 AMR before estimating sigma (default True, as both
    reference packages). Applies to i, t, xmr and the Laney sigma_z.
fill_gaps
    With regular dates as x (daily, weekly, monthly, quarterly, yearly), absent
    periods inside a group's span become missing points (gaps) rather than being
    silently joined (default True; False reproduces qicharts2's row-by-row view).
    Not applied to t and g charts, whose x is an event sequence.
y_label
    A label for the y axis, kept on the result for the figures.

Missing values
--------------
A missing y is a gap, never a zero: it has no moving range to its neighbours, and
the pattern rules skip it (the points either side are consecutive for the runs
rules, as in qicharts2). A row with y but no n (or n but no y) is missing. A zero
denominator with a zero count is a gap and is stated in the summary's ``warning``;
a count above a zero denominator is an error.

Weighted proportions
--------------------
Survey proportions are weighted, so the binomial sigma sqrt(p(1-p)/n) with n
respondents understates their variance by the design effect. Chart them as a p
chart with n = the Kish effective sample size (sum w)^2 / sum w^2 and y = the
weighted proportion times it (both non-integer; :func:`pxlib.spc.weighted_counts`
computes them). The limits then carry Kish's design effect of unequal weighting,
deff = n / n_eff (Kish 1965, s. 11.7), and the false-alarm rate of the 3-sigma rule
stays near its nominal level (tested by simulation in ``tests/test_spc_weighted.py``).

Point types
-----------
Each rule that fires at a point is named in ``special_cause``: "outside limits"
(the 3-sigma rule, or the MDC limits), "trend", "two of three close to limits",
"shift", "longest run (Anhøj)", "too few crossings (Anhøj)", "shift (IHI)",
"trend (IHI)", "too few or too many runs (IHI)", "astronomical point (IHI)".
``point_type`` takes the direction of the first pattern in that order (NHSRplotthedots'
precedence: outside limits, trend, two of three, shift; then the Anhøj longest run and
the IHI rules): above the centre line or rising is "high", which ``improvement`` makes
special_cause_improvement / _concern (neutral: special_cause_neutral_high / _low).
A point at the junction of a rising and a falling trend is labelled by the trend on its
right, as NHSRplotthedots does. ``mixed_signal`` marks points that belong to patterns of
both directions. Too few crossings and the IHI runs test are properties of a whole
phase: they are named in ``special_cause`` but colour no point. With the Anhøj rules,
the points of a run longer than the limit take that run's side. ``sigma_signal`` and
``runs_signal`` always hold qicharts2's 3-sigma and Anhøj signals, whatever ``rules``
(except where exact limits turn the run rules off, see ``limits``).

Result
------
``points``: one row per x per group, in group then x order, with the ``by``
columns, x, y, n, cl, lcl, ucl, lcl_2s, ucl_2s (2-sigma lines), phase (from 1),
baseline, include, sigma_signal, runs_signal, longest_run, longest_run_max,
n_crossings, n_crossings_min, special_cause (the rules that fired at the point,
joined by "; "), point_type, mixed_signal, close_to_limits.

``summary``: one row per group and phase: the ``by`` columns, phase, n_points,
n_values, n_baseline, cl, lcl, ucl (the phase's limits when constant, else those
of its last point), limits ("normal" or "exact": how they were set; empty for a run
chart), runs_signal, longest_run, longest_run_max, n_crossings,
n_crossings_min, n_special_cause, variation_type (the point type of the phase's
last value), assurance_type, trial_limits (text when the phase has fewer than 13
points) and warning (every stated caveat, "; "-joined).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ChartWarning, ColumnError
from pxlib.fmt import literal as _show
from pxlib.fmt import literals as _show_list
from pxlib.spc import rules as R
from pxlib.spc.constants import TRIAL_LIMIT_POINTS
from pxlib.spc.limits import KINDS, NEEDS_N, PROPORTION_KINDS, boundary_share, compute_limits
from pxlib.spc.result import SPCResult
from pxlib.spc.segments import seg_count, seg_first_index, seg_min_max, seg_nanmedian
from pxlib.spc.spec import ChartSpec, _check_multiply, _is_number, in_percent

RULE_SETS = ("anhoej", "mdc", "ihi")
COUNT_KINDS = ("p", "pp", "u", "up", "c", "g")
NO_N_KINDS = ("c", "xbar", "s")
IHI_SHIFT = 6
IHI_TREND = 5
MIN_USEFUL_RUNS = 10  # below this the Anhøj and IHI run rules have little power
#: kinds whose sigma comes from moving ranges (no limits from fewer than 2 baseline values)
MR_KINDS = ("i", "t", "xmr", "pp", "up", "mr")
#: with exact limits, the run rules are off in a phase where the mean chance of a point
#: at 100 % (0 % for shares below one half) exceeds this: the median point is then at the
#: boundary, above (below) the centre line, and runs about that line carry no information
BOUNDARY_SHARE = 0.5
RUNS_OFF_NOTE = (
    "most points are at {}, so runs above and below the centre line say nothing; "
    "only the limits are used"
)
RESERVED = {
    "x", "y", "n", "cl", "lcl", "ucl", "lcl_2s", "ucl_2s", "phase", "baseline", "include",
    "sigma_signal", "runs_signal", "longest_run", "longest_run_max", "n_crossings",
    "n_crossings_min", "special_cause", "point_type", "mixed_signal", "close_to_limits",
    "n_points", "n_values", "n_baseline", "n_special_cause", "variation_type",
    "assurance_type", "trial_limits", "warning", "limits",
}  # fmt: skip


# --------------------------------------------------------------------------- public


def chart(
    data: pd.DataFrame,
    x: str,
    y: str,
    n: str | None = None,
    *,
    kind: str = "run",
    by: str | Sequence[str] | None = None,
    phases: Sequence[Any] | dict | str | None = None,
    freeze: int | None = None,
    exclude: Sequence[Any] | dict | None = None,
    multiply: float = 1.0,
    cl: float | dict | None = None,
    rules: str | Sequence[str] | None = None,
    shift: int = 7,
    trend: int = 7,
    improvement: str = "neutral",
    target: float | str | None = None,
    screen_mr: bool = True,
    centre_line: str = "break",
    agg: str | None = None,
    fill_gaps: bool = True,
    y_label: str | None = None,
    limits: str = "normal",
) -> SPCResult:
    """Compute a run or control chart for every group and phase: centre line and
    cl +/- 3 sigma limits per kind (:func:`pxlib.spc.limits.compute_limits`;
    qicharts2 0.8.1, NHSRplotthedots 0.2.2) and the Anhøj, MDC and IHI rules
    (:mod:`pxlib.spc.rules`). See the module docstring for every option."""
    kind = _check_kind(kind)
    by_cols = _as_list(by)
    rule_set = _check_rules(rules, kind)
    _check_columns(data, x, y, n, by_cols, phases)
    _check_settings(kind, n, multiply, freeze, shift, trend, centre_line, agg)
    spec = _chart_spec(
        kind, rule_set, improvement, target, multiply, y_label, limits, shift, trend, n is not None
    )
    direction = spec.direction
    notes: list[str] = []

    # 1. columns -> arrays ----------------------------------------------------------
    if len(data) == 0:
        raise ChartError(f"data has no rows: nothing to chart in '{y}' against '{x}'")
    gid, group_labels = _group_codes(data, by_cols)
    xs = data[x]
    x_na = xs.isna().to_numpy()
    yv = _numeric(data, y, "y")
    nv = _numeric(data, n, "n") if n is not None else None
    _check_finite(yv, data.index, "y", y)
    if nv is not None:
        _check_finite(nv, data.index, "n", n)
    label_v = data[phases].to_numpy() if isinstance(phases, str) else None
    if x_na.any():
        notes.append(f"{int(x_na.sum())} rows with a missing '{x}' were left out")
        keep = ~x_na
        gid, yv = gid[keep], yv[keep]
        xs = xs[keep]
        nv = nv[keep] if nv is not None else None
        label_v = label_v[keep] if label_v is not None else None
        row_index = data.index[keep]
    else:
        row_index = data.index
    if nv is not None:
        missing = ~np.isfinite(yv) | ~np.isfinite(nv)
        yv = np.where(missing, np.nan, yv)
        nv = np.where(missing, np.nan, nv)
    _check_values(kind, yv, nv, gid, group_labels, by_cols, xs, row_index, y, n)

    xcode, xuniq = _factorize_x(xs, x)

    # 2. sort by group and x, combine rows sharing an x ---------------------------------
    order = np.lexsort((xcode, gid))
    gid, xcode, yv = gid[order], xcode[order], yv[order]
    nv = nv[order] if nv is not None else None
    label_v = label_v[order] if label_v is not None else None
    sub = _aggregate(kind, gid, xcode, yv, nv, label_v, agg)

    # 3. regular dates: absent periods become gaps -----------------------------------
    if fill_gaps and kind not in ("t", "g") and isinstance(xuniq, pd.DatetimeIndex):
        sub, xuniq = _fill_date_gaps(sub, xuniq)

    g = sub["gid"]
    xc = sub["xcode"]
    npts = len(g)
    if npts == 0:
        raise ChartError(f"no rows with a value of '{x}' to chart")

    # 4. phases, segments, baseline, include -------------------------------------------
    memo: dict = {}
    phase = _phases(phases, g, xc, xuniq, sub.get("label"), group_labels, by_cols, memo)
    new_seg = np.ones(npts, dtype=bool)
    new_seg[1:] = (g[1:] != g[:-1]) | (phase[1:] != phase[:-1])
    seg = np.cumsum(new_seg) - 1
    nseg = int(seg[-1]) + 1
    seg_first = seg_first_index(seg, nseg)
    pos = np.arange(npts) - seg_first[seg]
    baseline = pos < freeze if freeze is not None else np.ones(npts, dtype=bool)
    include = ~_membership(exclude, "exclude", g, xc, xuniq, group_labels, by_cols, notes, memo)
    seg_gid = g[seg_first]
    cl_fixed = _fixed_cl(cl, seg_gid, group_labels, by_cols, multiply, nseg, memo)

    # 5. limits -----------------------------------------------------------------------------
    yplot = sub["y"]
    lines = compute_limits(
        kind,
        y=yplot,
        y_sum=sub["y_sum"],
        n=sub["n"],
        y_len=sub["y_len"],
        y_sd=sub["y_sd"],
        seg=seg,
        nseg=nseg,
        base=baseline & include,
        cl_fixed=cl_fixed,
        screen_mr=screen_mr,
        limits=limits,
    )
    m = float(multiply)
    yo = lines.y * m
    drawn = {"cl": lines.cl * m}
    for col in ("lcl", "ucl", "lcl_2s", "ucl_2s"):
        drawn[col] = _finite_or_nan(getattr(lines, col) * m)
    clo, lclo, uclo = drawn["cl"], drawn["lcl"], drawn["ucl"]

    # 6. rules -------------------------------------------------------------------------------
    useful = include & np.isfinite(yo)
    sig_dir = R.sigma_signal(yo, lclo, uclo)
    stats, long_dir = R.anhoej(yo, clo, include, seg, nseg)
    if kind == "mr":
        stats["runs_signal"][:] = False
        stats["crossings_signal"][:] = False
        long_dir[:] = 0
    exact = lines.exact if lines.exact is not None else np.zeros(nseg, dtype=bool)
    runs_off = np.zeros(nseg, dtype=bool)  # per segment: run rules not applied
    if exact.any():
        runs_off = exact & (boundary_share(sub["n"], lines.cl, seg, nseg, useful) > BOUNDARY_SHARE)
    off = runs_off[seg]
    stats["runs_signal"] &= ~runs_off
    stats["crossings_signal"] &= ~runs_off
    long_dir[off] = 0
    close = R.close_to_limits(yo, drawn["lcl_2s"], drawn["ucl_2s"], sig_dir)
    directions: dict[int, tuple] = {}
    fired_seg: dict[int, np.ndarray] = {}
    if "anhoej" in rule_set or "mdc" in rule_set:
        directions[R.OUTSIDE] = (sig_dir > 0, sig_dir < 0, None)
    if "anhoej" in rule_set:
        directions[R.LONG_RUN] = (long_dir > 0, long_dir < 0, None)
        fired_seg[R.CROSSINGS] = stats["crossings_signal"]
    prefer = _right_direction(yo, useful, seg) if {"mdc", "ihi"} & set(rule_set) else None
    if "mdc" in rule_set:
        up, down = R.trend_rule(yo, useful, seg, trend, skip_ties=False)
        directions[R.TREND] = (up, down, prefer)
        t3 = R.two_of_three(yo, clo, close, useful, seg)
        directions[R.TWO_OF_THREE] = (t3 > 0, t3 < 0, None)
        sh = R.shift_rule(yo, clo, useful, seg, shift, skip_centre=centre_line == "skip")
        sh[off] = 0
        directions[R.SHIFT] = (sh > 0, sh < 0, None)
    if "ihi" in rule_set:
        sh = R.shift_rule(yo, clo, useful, seg, IHI_SHIFT, skip_centre=True)
        sh[off] = 0
        directions[R.IHI_SHIFT] = (sh > 0, sh < 0, None)
        up, down = R.trend_rule(yo, useful, seg, IHI_TREND, skip_ties=True)
        directions[R.IHI_TREND] = (up, down, prefer)
        _, _, _, runs_sig = R.ihi_runs(yo, clo, useful, seg, nseg)
        fired_seg[R.IHI_RUNS] = runs_sig & ~runs_off
        astro = _astronomical(kind, sig_dir, yplot, seg, nseg, baseline & include, screen_mr, m, yo)
        directions[R.ASTRONOMICAL] = (astro > 0, astro < 0, None)
    code, mixed = R.point_types(directions, direction, npts)
    special = _special_cause_text(directions, fired_seg, seg, np.isfinite(yo), npts)

    # 7. assemble ---------------------------------------------------------------------------
    points = pd.DataFrame(
        {
            **_by_frame(by_cols, group_labels, g),
            "x": xuniq.take(xc),
            "y": yo,
            "n": sub["n"],
            **drawn,
            "phase": phase,
            "baseline": baseline,
            "include": include,
            "sigma_signal": sig_dir != 0,
            **_runs_columns(stats, seg),
            "special_cause": special,
            "point_type": pd.Categorical.from_codes(code, categories=list(R.POINT_TYPES)),
            "mixed_signal": mixed,
            "close_to_limits": close,
        },
        copy=False,
    )
    used = np.where(exact, "exact", "normal" if kind != "run" else "").astype(object)
    top = lines.cl[seg_first] >= 0.5
    runs_note = np.where(
        runs_off, np.where(top, RUNS_OFF_NOTE.format("100 %"), RUNS_OFF_NOTE.format("0 %")), ""
    ).astype(object)
    summary, any_warning = _summary_frame(
        kind,
        points,
        by_cols,
        seg,
        seg_first,
        stats,
        code,
        spec.target,
        direction,
        sub,
        notes,
        used,
        runs_note,
    )
    if any_warning:
        k = int((summary["warning"] != "").sum())
        warnings.warn(
            f"{kind} chart: {k} of {len(summary)} group/phases carry a caveat (trial limits, "
            "missing limits, too few points...); see result.summary['warning']",
            ChartWarning,
            stacklevel=2,
        )
    return SPCResult(points=points, summary=summary, spec=spec, by=by_cols)


# ------------------------------------------------------------------------ validation


def _as_list(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _check_kind(kind: str) -> str:
    if not isinstance(kind, str) or kind.lower() not in KINDS:
        raise ChartError(f"unknown chart kind {_show(kind)}; choose one of {', '.join(KINDS)}")
    return kind.lower()


def _check_rules(rules, kind: str) -> list[str]:
    if rules is None:
        return ["mdc"] if kind == "xmr" else ["anhoej"]
    chosen = [rules] if isinstance(rules, str) else list(rules)
    out = []
    for r in chosen:
        key = str(r).lower().replace("ø", "o")
        if key not in RULE_SETS:
            raise ChartError(f"unknown rule set {_show(r)}; choose from {', '.join(RULE_SETS)}")
        if key not in out:
            out.append(key)
    if not out:
        raise ChartError("rules is empty; choose at least one of anhoej, mdc, ihi")
    return out


def _check_columns(data, x, y, n, by_cols, phases) -> None:
    """The data is a DataFrame holding every named column; no ``by`` column clashes with
    a result column."""
    if not isinstance(data, pd.DataFrame):
        raise ChartError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    needed = [("x", x), ("y", y)] + ([("n", n)] if n is not None else [])
    needed += [("by", b) for b in by_cols]
    if isinstance(phases, str):
        needed.append(("phases", phases))
    for role, col in needed:
        try:
            present = col in data.columns
        except TypeError:  # an unhashable name
            present = False
        if not present:
            raise ColumnError(
                f"{role} column {_show(col)} is not in the data "
                f"(columns: {', '.join(map(str, data.columns))})"
            )
        if isinstance(data[col], pd.DataFrame):
            raise ColumnError(
                f"{role} column '{col}' appears {data[col].shape[1]} times in the data; "
                "give the columns distinct names"
            )
    clash = [b for b in by_cols if b in RESERVED]
    if clash:
        raise ChartError(
            f"by column(s) {clash} share a name with a result column; rename them first"
        )


def _check_settings(kind, n, multiply, freeze, shift, trend, centre_line, agg) -> None:
    if kind in NEEDS_N and n is None:
        raise ChartError(
            f"a {kind} chart needs a denominator: give n (e.g. the number of patients)"
        )
    if kind in NO_N_KINDS and n is not None:
        hint = " (use a u chart for counts per unit of exposure)" if kind == "c" else ""
        raise ChartError(f"a {kind} chart takes no denominator n{hint}")
    _check_multiply(multiply)
    if freeze is not None and (
        isinstance(freeze, bool) or not isinstance(freeze, int | np.integer) or freeze < 1
    ):
        raise ChartError(f"freeze must be a whole number of points >= 1, not {_show(freeze)}")
    for name, v in (("shift", shift), ("trend", trend)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 2:
            raise ChartError(f"{name} must be a whole number of points >= 2, not {_show(v)}")
    if centre_line not in ("break", "skip"):
        raise ChartError(f"centre_line must be 'break' or 'skip', not {_show(centre_line)}")
    if agg is not None and agg not in ("mean", "sum", "median"):
        raise ChartError(f"agg must be 'mean', 'sum' or 'median', not {_show(agg)}")


def _chart_spec(
    kind, rule_set, improvement, target, multiply, y_label, limits, shift, trend, has_n=False
) -> ChartSpec:
    """The chart's spec, which validates itself (the other options are checked by
    ``_check_settings``); a text target is converted to plotted units by
    ``ChartSpec.to_plotted``."""
    text_target = isinstance(target, str)
    spec = ChartSpec(
        kind=kind,
        rules=tuple(rule_set),
        improvement=improvement,
        target=None if text_target else target,
        multiply=float(multiply),
        percent=in_percent(kind, multiply, has_n),
        y_label=y_label,
        limits=limits,
        shift=int(shift),
        trend=int(trend),
    )
    if text_target:
        spec = dataclasses.replace(spec, target=spec.to_plotted(target))
    return spec


def _numeric(data: pd.DataFrame, col: str, role: str = "") -> np.ndarray:
    """A column as floats (missing values as NaN); ChartError for text, dates, durations
    and complex numbers, naming the column and the first row that is not a number."""
    s = data[col]
    what = f"{role} column '{col}'" if role else f"column '{col}'"
    kind = getattr(s.dtype, "kind", "O")
    if kind == "m":
        raise ChartError(
            f"{what} holds durations, not numbers; convert them first, e.g. to days with "
            ".dt.total_seconds() / 86400"
        )
    if kind == "M" or isinstance(s.dtype, pd.DatetimeTZDtype):
        raise ChartError(
            f"{what} holds dates, not numbers; chart a number per date (for a t chart, the "
            "days between events)"
        )
    if kind == "c":
        raise ChartError(f"{what} holds complex numbers; give real numbers")
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("Float64")
    try:
        v = pd.to_numeric(s, errors="raise")
        if getattr(v.dtype, "kind", "O") not in "biuf":
            raise TypeError(f"dtype {v.dtype}")
    except (ValueError, TypeError) as exc:
        try:
            bad = (pd.to_numeric(s, errors="coerce").isna() & s.notna()).to_numpy()
        except (ValueError, TypeError):
            bad = s.notna().to_numpy()
        first = s.index[bad][0] if bad.any() else None
        raise ChartError(
            f"{what} must be numeric; row {_show(first)} is not a number "
            f"({int(bad.sum())} such rows)"
        ) from exc
    return _float_values(v)


def _check_finite(v: np.ndarray, index: pd.Index, role: str, col: str) -> None:
    """ChartError naming the rows where a column holds +/-inf: an infinite count,
    denominator or measurement is broken data, not missing data (which is NaN)."""
    bad = np.isinf(v)
    if bad.any():
        k = int(bad.sum())
        rows = _show_list(index[bad])
        raise ChartError(
            f"{role} column '{col}' has {k} infinite value{'' if k == 1 else 's'} "
            f"(row{'' if k == 1 else 's'} {rows}); "
            "an infinite value is broken data, not a missing one: fix those rows, or make "
            "them missing (NaN) to show them as gaps"
        )


def _factorize_x(xs: pd.Series, x: str) -> tuple[np.ndarray, pd.Index]:
    """Codes of the x values in sorted order; ChartError where they cannot be sorted."""
    try:
        xcode, xuniq = pd.factorize(xs, sort=True)
    except TypeError as exc:
        text = str(exc)
        if "tz-naive" in text or "tz-aware" in text or "timezone" in text.lower():
            raise ChartError(
                f"x column '{x}' mixes dates with and without a time zone, which cannot be "
                "ordered; give them all one (e.g. .dt.tz_localize(None) on the aware ones)"
            ) from exc
        raise ChartError(
            f"x column '{x}' holds values that cannot be sorted or compared (such as lists, "
            "or a mix of types); give dates, numbers or text"
        ) from exc
    return xcode, pd.Index(xuniq)


def _float_values(s: pd.Series) -> np.ndarray:
    """A column as floats, missing values (and, for text, non-numbers) as NaN."""
    v = pd.to_numeric(s, errors="coerce")
    return v.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _group_codes(data: pd.DataFrame, by_cols: list[str]):
    """Integer group codes (sorted by the group values) and the group value table."""
    if not by_cols:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0])
    codes = []
    uniques = []
    for c in by_cols:
        try:
            k, u = pd.factorize(data[c], sort=True, use_na_sentinel=False)
        except TypeError as exc:
            raise ChartError(
                f"by column '{c}' holds values that cannot be group labels (such as lists, "
                "or dates with and without a time zone); give text, numbers or dates"
            ) from exc
        codes.append(k.astype(np.int64))
        uniques.append(u)
    if len(by_cols) == 1:
        gid = codes[0]
        labels = pd.DataFrame({by_cols[0]: uniques[0]})
        used = np.unique(gid)
        if len(used) < len(labels):
            remap = np.full(len(labels), -1)
            remap[used] = np.arange(len(used))
            gid = remap[gid]
            labels = labels.iloc[used].reset_index(drop=True)
        return gid, labels
    dims = tuple(len(u) for u in uniques)
    flat = np.ravel_multi_index(codes, dims)
    gid, ufl = pd.factorize(flat, sort=True)
    parts = np.unravel_index(np.asarray(ufl), dims)
    labels = pd.DataFrame({c: uniques[i].take(parts[i]) for i, c in enumerate(by_cols)})
    return gid.astype(np.int64), labels


def _group_name(gid: int, labels: pd.DataFrame, by_cols: list[str]) -> str:
    if not by_cols:
        return ""
    vals = labels.iloc[int(gid)]
    return " in group " + ", ".join(f"{c}={_show(vals[c])}" for c in by_cols)


def _check_values(kind, yv, nv, gid, labels, by_cols, xs, row_index, y, n) -> None:
    """Raise ChartError naming the first offending row for values a chart cannot take."""

    def fail(mask, what):
        i = int(np.flatnonzero(mask)[0])
        k = int(mask.sum())
        what = what(i) if callable(what) else what
        raise ChartError(
            f"{kind} chart, row {_show(row_index[i])}{_group_name(gid[i], labels, by_cols)}, "
            f"x={_show(xs.iloc[i])}: {what} ({k} such row{'' if k == 1 else 's'})"
        )

    with np.errstate(invalid="ignore"):
        if kind in COUNT_KINDS:
            bad = yv < 0
            if bad.any():
                fail(bad, f"'{y}' is negative; counts cannot be")
        if kind == "t":
            bad = yv <= 0
            if bad.any():
                fail(bad, f"'{y}' is not positive; times between events must be > 0")
        if nv is not None:
            bad = nv < 0
            if bad.any():
                fail(bad, f"'{n}' is negative")
            bad = (nv == 0) & (yv > 0)
            if bad.any():
                fail(
                    bad,
                    lambda i: (
                        f"'{n}' is zero but '{y}' is {_show(float(yv[i]))}; a subgroup with no "
                        "denominator cannot have events"
                    ),
                )
            if kind in PROPORTION_KINDS:
                bad = yv > nv * (1 + 1e-12) + 1e-12  # allow rounding in weighted counts
                if bad.any():
                    fail(bad, f"'{y}' is larger than '{n}' (a proportion above 1)")


# ------------------------------------------------------------------------ aggregation


def _aggregate(kind, gid, xcode, yv, nv, label_v, agg) -> dict[str, np.ndarray]:
    """One row per (group, x): sums, counts, mean and sd of y, sum of n, plotted y."""
    npts = len(gid)
    new = np.ones(npts, dtype=bool)
    if npts > 1:
        new[1:] = (gid[1:] != gid[:-1]) | (xcode[1:] != xcode[:-1])
    fin = np.isfinite(yv)
    if new.all():
        y_sum = yv.copy()
        y_len = fin.astype(float)
        y_mean = yv.copy()
        y_sd = np.full(npts, np.nan)
        n_sum = nv.copy() if nv is not None else np.full(npts, np.nan)
        y_med = yv
        out = {"gid": gid, "xcode": xcode}
        if label_v is not None:
            out["label"] = label_v
    else:
        starts = np.flatnonzero(new)
        sub_id = np.cumsum(new) - 1
        y0 = np.where(fin, yv, 0.0)
        y_len = np.add.reduceat(fin.astype(float), starts)
        y_sum = np.add.reduceat(y0, starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            y_mean = np.where(y_len > 0, y_sum / y_len, np.nan)
            dev = np.where(fin, (yv - y_mean[sub_id]) ** 2, 0.0)
            y_sd = np.where(y_len > 1, np.sqrt(np.add.reduceat(dev, starts) / (y_len - 1)), np.nan)
        y_sum = np.where(y_len > 0, y_sum, np.nan)
        if nv is not None:
            nfin = np.isfinite(nv)
            n_sum = np.add.reduceat(np.where(nfin, nv, 0.0), starts)
            n_sum = np.where(np.add.reduceat(nfin.astype(float), starts) > 0, n_sum, np.nan)
        else:
            n_sum = np.full(len(starts), np.nan)
        y_med = seg_nanmedian(yv, sub_id, len(starts)) if agg == "median" else None
        out = {"gid": gid[starts], "xcode": xcode[starts]}
        if label_v is not None:
            out["label"] = label_v[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        if nv is not None and kind not in ("xbar", "s", "c"):
            y = np.where(n_sum > 0, y_sum / np.where(n_sum > 0, n_sum, 1), np.nan)
        elif kind == "xbar":
            y = y_mean
        elif kind == "s":
            y = y_sd
        else:
            how = agg or ("sum" if kind == "c" else "mean")
            y = {"sum": y_sum, "mean": y_mean, "median": y_med}[how]
    out.update(
        y=np.asarray(y, dtype=float),
        y_sum=y_sum,
        y_len=y_len,
        y_sd=y_sd,
        n=n_sum,
        zero_n=(n_sum == 0) if nv is not None else np.zeros(len(out["gid"]), dtype=bool),
    )
    return out


def _fill_date_gaps(sub: dict, xuniq: pd.DatetimeIndex):
    """Insert missing points for absent periods of regular dates inside each group's span."""
    dates = pd.DatetimeIndex(xuniq)
    if len(dates) < 3 or not (dates == dates.normalize()).all():
        return sub, xuniq
    if (dates.day == 1).all():
        months = np.asarray(dates.year * 12 + dates.month - 1, dtype=np.int64)
        step = int(np.gcd.reduce(np.diff(months)))
        origin = int(months[0])
        per = (months - origin) // step

        def to_dates(p):
            mm = origin + p * step
            return pd.to_datetime(
                pd.DataFrame({"year": mm // 12, "month": mm % 12 + 1, "day": 1})
            ).astype(dates.dtype)
    else:
        days = np.asarray((dates - dates[0]).days, dtype=np.int64)
        step = int(np.gcd.reduce(np.diff(days)))
        per = days // step
        d0 = dates[0]

        def to_dates(p):
            return pd.DatetimeIndex(d0 + pd.to_timedelta(p * step, unit="D")).astype(dates.dtype)

    g = sub["gid"]
    p = per[sub["xcode"]]
    same = g[1:] == g[:-1]
    spacing = np.diff(p)  # in steps
    # regular: within the groups, the most common spacing is the step itself (the union
    # of several groups' dates, e.g. weekly on different weekdays, may be finer than any)
    if not same.any() or np.bincount(spacing[same]).argmax() != 1:
        return sub, xuniq
    jump = np.where(same, spacing - 1, 0)
    if not (jump > 0).any():
        return sub, xuniq
    at = np.flatnonzero(jump > 0)
    counts = jump[at]
    total = int(counts.sum())
    if total > 10 * len(g) + 1000:
        return sub, xuniq  # not a regular series after all
    rep = np.repeat(at, counts)
    offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    new_p = p[rep] + offs
    new_g = g[rep]
    all_p = np.union1d(per, new_p)
    new_xuniq = pd.DatetimeIndex(to_dates(all_p))
    xcode_old = np.searchsorted(all_p, p)
    xcode_new = np.searchsorted(all_p, new_p)
    gid = np.concatenate((g, new_g))
    xcode = np.concatenate((xcode_old, xcode_new))
    order = np.lexsort((xcode, gid))
    k = len(new_g)
    out = {"gid": gid[order], "xcode": xcode[order]}
    for key in ("y", "y_sum", "y_sd", "n"):
        out[key] = np.concatenate((sub[key], np.full(k, np.nan)))[order]
    out["y_len"] = np.concatenate((sub["y_len"], np.zeros(k)))[order]
    out["zero_n"] = np.concatenate((sub["zero_n"], np.zeros(k, dtype=bool)))[order]
    inserted = np.concatenate((np.zeros(len(g), dtype=bool), np.ones(k, dtype=bool)))[order]
    if "label" in sub:
        lab = pd.Series(np.concatenate((sub["label"], np.full(k, None, dtype=object)))[order])
        out["label"] = lab.groupby(out["gid"]).ffill().to_numpy()
    out["inserted"] = inserted
    return out, new_xuniq


# --------------------------------------------------------------------- phases etc.


def _locate(values, xuniq: pd.Index, what: str, memo: dict) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the sorted unique x of the given x values (insertion points), and
    whether each value is exactly an x of the data. ``memo`` caches per call of ``chart``
    (the same dates are often given for many groups)."""
    vals = list(values)
    try:
        key = (what, tuple(vals))
        if key in memo:
            return memo[key]
    except TypeError:  # unhashable values
        key = None
    if not vals:
        out = (np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))
    else:
        try:
            if isinstance(xuniq, pd.DatetimeIndex):
                arr = pd.DatetimeIndex(pd.to_datetime(vals)).astype(xuniq.dtype).to_numpy()
            elif pd.api.types.is_numeric_dtype(xuniq.dtype):
                arr = pd.to_numeric(pd.Series(vals)).to_numpy()
            else:
                arr = np.asarray(pd.Index(vals).astype(xuniq.dtype))
        except (ValueError, TypeError) as exc:
            raise ChartError(
                f"{what} values [{_show_list(vals)}] cannot be compared with the x values"
                f"{_x_kind_hint(xuniq)}"
            ) from exc
        xv = xuniq.to_numpy()
        pos = np.searchsorted(xv, arr, side="left")
        ok = pos < len(xv)
        exact = np.zeros(len(pos), dtype=bool)
        exact[ok] = xv[pos[ok]] == arr[ok]
        out = (pos, exact)
    if key is not None:
        memo[key] = out
    return out


def _x_kind_hint(xuniq: pd.Index) -> str:
    """What the x values are, for a message about values that do not compare with them."""
    if isinstance(xuniq, pd.DatetimeIndex):
        tz = f" in time zone {xuniq.tz}" if xuniq.tz is not None else " without a time zone"
        return f" (x holds dates{tz}: give dates the same way)"
    if pd.api.types.is_numeric_dtype(xuniq.dtype):
        return " (x holds numbers)"
    return ""


def _group_key_to_gid(
    key, labels: pd.DataFrame, by_cols: list[str], what: str, memo: dict
) -> int | None:
    """The group code of a ``phases``/``exclude``/``cl`` dict key (a value, or a tuple
    for several ``by`` columns), matched exactly or else as text; None (with a
    warning) when no group has it."""
    if not by_cols:
        if key in ("", None):
            return 0
        raise ChartError(f"{what} is a dict but the chart has no groups (by=None); give a list")
    kt = key if isinstance(key, tuple) else (key,)
    if len(kt) != len(by_cols):
        raise ChartError(f"{what} key {_show(key)} must give a value for each of {by_cols}")
    if "groups" not in memo:
        exact: dict = {}
        text: dict = {}
        cols = [labels[c].tolist() for c in by_cols]
        for i, row in enumerate(zip(*cols, strict=True)):
            exact.setdefault(row, i)
            text.setdefault(tuple(str(v) for v in row), i)
        memo["groups"] = (exact, text)
    exact, text = memo["groups"]
    try:
        found = exact.get(kt)
    except TypeError:  # an unhashable key
        found = None
    if found is None:
        found = text.get(tuple(str(v) for v in kt))
    if found is None:
        warnings.warn(
            f"{what}: no group {_show(key)} in the data (by={by_cols}); that entry was ignored",
            ChartWarning,
            stacklevel=4,
        )
    return found


def _phases(phases, g, xc, xuniq, label, labels, by_cols, memo) -> np.ndarray:
    npts = len(g)
    if phases is None:
        return np.ones(npts, dtype=np.int64)
    new = np.zeros(npts, dtype=bool)
    same = np.zeros(npts, dtype=bool)
    same[1:] = g[1:] == g[:-1]
    if isinstance(phases, str):
        lab = pd.Series(label).astype(str).to_numpy()
        new[1:] = lab[1:] != lab[:-1]
    elif isinstance(phases, dict):
        starts_of = {}
        for key, vals in phases.items():
            gi = _group_key_to_gid(key, labels, by_cols, "phases", memo)
            if gi is None:
                continue
            starts_of[gi] = np.unique(_locate(_listify(vals), xuniq, "phases", memo)[0])
        raw = np.zeros(npts, dtype=np.int64)
        for gi, st in starts_of.items():
            sel = _group_slice(g, gi)
            raw[sel] = np.searchsorted(st, xc[sel], side="right")
        new[1:] = raw[1:] != raw[:-1]
    else:
        st = np.unique(_locate(_listify(phases), xuniq, "phases", memo)[0])
        raw = np.searchsorted(st, xc, side="right")
        new[1:] = raw[1:] != raw[:-1]
    new &= same
    cum = np.cumsum(new)
    first = np.ones(npts, dtype=bool)
    first[1:] = ~same[1:]
    base = np.maximum.accumulate(np.where(first, cum, 0))
    return (cum - base + 1).astype(np.int64)


def _group_slice(g: np.ndarray, gi: int) -> slice:
    """The rows of group ``gi`` in the group-sorted code array ``g``."""
    return slice(int(np.searchsorted(g, gi, "left")), int(np.searchsorted(g, gi, "right")))


def _listify(v) -> list:
    if isinstance(v, str | bytes) or not hasattr(v, "__iter__"):
        return [v]
    return list(v)


def _membership(spec, what, g, xc, xuniq, labels, by_cols, notes, memo) -> np.ndarray:
    """True for points whose x is listed in ``spec`` (a list, or a dict per group)."""
    npts = len(g)
    out = np.zeros(npts, dtype=bool)
    if spec is None:
        return out
    if isinstance(spec, dict):
        items = []
        for key, vals in spec.items():
            gi = _group_key_to_gid(key, labels, by_cols, what, memo)
            if gi is not None:
                items.append((gi, _listify(vals)))
    else:
        items = [(None, _listify(spec))]
    for gi, vals in items:
        pos, exact = _locate(vals, xuniq, what, memo)  # exact matches only
        if (~exact).any():
            notes.append(f"{what}: {int((~exact).sum())} value(s) are not x values of the data")
        if gi is None:
            out |= np.isin(xc, pos[exact])
        else:
            sel = _group_slice(g, gi)
            out[sel] |= np.isin(xc[sel], pos[exact])
    return out


def _fixed_cl(cl, seg_gid, labels, by_cols, multiply, nseg, memo) -> np.ndarray:
    """Per segment: the given centre line in the units of y before ``multiply``, or NaN."""
    out = np.full(nseg, np.nan)
    if cl is None:
        return out
    if isinstance(cl, dict):
        for key, v in cl.items():
            if not _is_number(v):
                where = "" if key in ("", None) else f" for group {_show(key)}"
                raise ChartError(f"cl{where} must be a number, not {_show(v)}")
            gi = _group_key_to_gid(key, labels, by_cols, "cl", memo)
            if gi is not None:
                out[seg_gid == gi] = float(v) / multiply
        return out
    if not _is_number(cl):
        raise ChartError(f"cl must be a number or a dict of numbers per group, not {_show(cl)}")
    out[:] = float(cl) / multiply
    return out


def _finite_or_nan(v: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(v), v, np.nan)


def _right_direction(y, useful, seg) -> np.ndarray:
    """Sign of the step to the next useful point of the same segment (NHSRplotthedots
    labels a point at the junction of two trends by the trend on its right); a tie or
    the last point take -1, as NHSRplotthedots does."""
    out = np.zeros(len(y), dtype=np.int8)
    idx = np.flatnonzero(useful)
    if len(idx) > 1:
        d = np.sign(np.diff(y[idx]))
        same = seg[idx][1:] == seg[idx][:-1]
        out[idx[:-1]] = np.where(same & (d > 0), 1, -1)
    return out


def _astronomical(kind, sig_dir, yplot, seg, nseg, base, screen_mr, m, yo) -> np.ndarray:
    """IHI astronomical point: outside the chart's limits; a run chart has none, so an
    individuals chart on its values (cl +/- 3 AMR/1.128 from the baseline) decides."""
    if kind != "run":
        return sig_dir
    nan = np.full(len(yplot), np.nan)
    ind = compute_limits(
        "i",
        y=yplot,
        y_sum=nan,
        n=nan,
        y_len=nan,
        y_sd=nan,
        seg=seg,
        nseg=nseg,
        base=base,
        cl_fixed=np.full(nseg, np.nan),
        screen_mr=screen_mr,
    )
    return R.sigma_signal(yo, ind.lcl * m, ind.ucl * m)


def _special_cause_text(directions, fired_seg, seg, has_value, npts) -> np.ndarray:
    bits = np.zeros(npts, dtype=np.int64)
    order = list(R.DIRECTIONAL) + [R.CROSSINGS, R.IHI_RUNS]
    for rule in order:
        if rule in directions:
            hi, lo, _ = directions[rule]
            bits |= (hi | lo).astype(np.int64) << rule
        elif rule in fired_seg:
            bits |= (fired_seg[rule][seg] & has_value).astype(np.int64) << rule
    present = np.flatnonzero(np.bincount(bits, minlength=1))
    table = np.zeros(int(present[-1]) + 1 if len(present) else 1, dtype=np.int64)
    table[present] = np.arange(len(present))
    text = ["; ".join(R.RULE_LABELS[r] for r in order if (int(u) >> r) & 1) for u in present]
    return pd.Categorical.from_codes(table[bits], categories=text)


# ------------------------------------------------------------------------ frames


def _empty_code(cat: pd.Categorical) -> int:
    cats = list(cat.categories)
    return cats.index("") if "" in cats else -2


def _int_col(v: np.ndarray) -> pd.arrays.IntegerArray:
    v = np.asarray(v, dtype=float)
    mask = ~np.isfinite(v)
    return pd.arrays.IntegerArray(np.where(mask, 0, v).astype(np.int64), mask)


def _by_frame(by_cols, labels, gid_per_row) -> dict[str, Any]:
    return {c: labels[c].take(gid_per_row).reset_index(drop=True) for c in by_cols}


def _runs_columns(stats: dict, at) -> dict[str, Any]:
    """The Anhøj statistics columns, per segment (``at`` = slice(None)) or per point
    (``at`` = the points' segment numbers)."""
    cols: dict[str, Any] = {"runs_signal": stats["runs_signal"][at]}
    for k in ("longest_run", "longest_run_max", "n_crossings", "n_crossings_min"):
        cols[k] = _int_col(stats[k][at])
    return cols


def _summary_frame(
    kind,
    points,
    by_cols,
    seg,
    seg_first,
    stats,
    code,
    target,
    direction,
    sub,
    notes,
    used,
    runs_note,
):
    """One row per segment (group and phase) from the points table, and whether any
    segment carries a serious caveat."""
    nseg = len(seg_first)
    yo, clo, lclo, uclo = (points[c].to_numpy() for c in ("y", "cl", "lcl", "ucl"))
    baseline = points["baseline"].to_numpy()
    include = points["include"].to_numpy()
    special = points["special_cause"].array
    fin = np.isfinite(yo)
    n_points = seg_count(seg, nseg)
    n_values = seg_count(seg, nseg, fin)
    n_base = seg_count(seg, nseg, baseline & fin)
    last = np.concatenate((seg_first[1:] - 1, [len(seg) - 1]))
    # last point with a value (for icons); fall back to the last point
    last_valued = np.maximum.reduceat(np.where(fin, np.arange(len(seg)), -1), seg_first)
    last_val = np.where(last_valued >= 0, last_valued, last)
    # constant limits -> the value; varying -> the last point's
    lcl_s = lclo[last_val]
    ucl_s = uclo[last_val]
    cl_s = clo[seg_first]
    variation = R.POINT_TYPES[code[last_val]]
    variation = np.where(n_values > 0, variation, "")
    assurance_t = R.assurance(target, lcl_s, ucl_s, direction)
    n_special = seg_count(seg, nseg, np.asarray(special.codes) != _empty_code(special))

    has_limits = kind != "run"
    trial = np.full(nseg, "", dtype=object)
    if has_limits:
        few_points = n_points < TRIAL_LIMIT_POINTS
        trial[few_points] = [
            f"trial limits: {k} point{'' if k == 1 else 's'} in this phase (fewer than "
            f"{TRIAL_LIMIT_POINTS}); they will change as data arrive"
            for k in n_points[few_points].astype(int).tolist()
        ]
    warning = np.full(nseg, "", dtype=object)
    serious = np.zeros(nseg, dtype=bool)

    def counted(count: np.ndarray, many: str, one: str, prefix: str = "") -> np.ndarray:
        """"3 points ..." or "1 point ...", per segment."""
        count = np.asarray(count).astype(np.int64)
        words = np.where(count == 1, one, many).astype(object)
        return prefix + count.astype(str).astype(object) + words

    def add(mask, text, flag=True):
        """Append ``text`` (one string, or one per segment) to the flagged segments."""
        nonlocal warning
        text = np.broadcast_to(np.asarray(text, dtype=object), (nseg,))
        joined = np.where(warning == "", text, warning + "; " + text)
        warning = np.where(mask, joined, warning)
        if flag:
            serious[mask] = True

    if has_limits:
        add(trial != "", trial)
        no_lim = ~(np.isfinite(lcl_s) | np.isfinite(ucl_s)) & (n_values > 0)
        if kind in MR_KINDS:
            add(
                no_lim & (n_base < 2),
                "no limits: fewer than 2 baseline values, so no moving range",
            )
        add(no_lim & (n_base == 0), "no limits: no baseline value in this phase")
        if kind in ("xbar", "s"):
            single = seg_count(seg, nseg, baseline & include & (sub["y_len"] > 1)) == 0
            add(
                no_lim & (n_base > 0) & single,
                (
                    "no limits: subgroups of one value have no within-subgroup spread "
                    "(use an i chart for single values)"
                ),
            )
        else:
            single = np.zeros(nseg, dtype=bool)
        if kind not in MR_KINDS:
            add(no_lim & (n_base == 1) & ~single, "no limits: only one baseline value")
        lo, hi = seg_min_max(yo, seg, nseg, baseline & include & fin)
        same = (n_base >= 2) & (lo == hi)
        add(
            no_lim & same,
            "no limits: every baseline value is the same, so there is no spread to set limits from",
        )
        add(
            no_lim & (n_base >= 2) & ~same & ~single,
            "no limits: the data give no estimate of spread",
        )
        flat = np.isfinite(lcl_s) & np.isfinite(ucl_s) & (lcl_s == ucl_s) & (n_values > 0)
        add(flat, "limits have no width: every baseline value is the same")
    few = (stats["n_useful"] < MIN_USEFUL_RUNS) & (n_values > 0)
    add(
        few,
        counted(
            stats["n_useful"],
            " useful points: too few for the run rules to be reliable",
            " useful point: too few for the run rules to be reliable",
            "only ",
        ),
    )
    add(n_values == 0, "no values in this phase")
    add(runs_note != "", runs_note, False)
    zero_n = seg_count(seg, nseg, sub["zero_n"])
    add(
        zero_n > 0,
        counted(
            zero_n,
            " points with a zero denominator are shown as gaps",
            " point with a zero denominator is shown as a gap",
        ),
        False,
    )
    if "inserted" in sub:
        ins = seg_count(seg, nseg, sub["inserted"])
        add(ins > 0, counted(ins, " absent periods are shown as gaps", " absent period is shown as a gap"), False)
    excl = seg_count(seg, nseg, ~include)
    add(excl > 0, counted(excl, " excluded points", " excluded point"), False)
    for note in notes:
        add(np.ones(nseg, dtype=bool), note, False)

    cols: dict[str, Any] = {c: points[c].take(seg_first).reset_index(drop=True) for c in by_cols}
    cols["phase"] = points["phase"].to_numpy()[seg_first]
    cols["n_points"] = n_points.astype(np.int64)
    cols["n_values"] = n_values.astype(np.int64)
    cols["n_baseline"] = n_base.astype(np.int64)
    cols["cl"] = cl_s
    cols["lcl"] = lcl_s
    cols["ucl"] = ucl_s
    cols["limits"] = pd.array(used, dtype="str")
    cols.update(_runs_columns(stats, slice(None)))
    cols["n_special_cause"] = n_special.astype(np.int64)
    cols["variation_type"] = pd.array(variation.astype(object), dtype="str")
    cols["assurance_type"] = pd.array(assurance_t, dtype="str")
    cols["trial_limits"] = pd.array(trial, dtype="str")
    cols["warning"] = pd.array(warning, dtype="str")
    df = pd.DataFrame(cols)
    any_warning = bool(serious.any())
    return df, any_warning


__all__ = ["chart"]
