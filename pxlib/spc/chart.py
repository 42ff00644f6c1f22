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
stays near its nominal level (tested by simulation in ``tests/spc/test_spc_weighted.py``).

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

``signals``: one row per rule that fired at a point: point (row position in
``points``), rule, direction, run, run_length (see :mod:`pxlib.spc.signals`).

``summary``: one row per group and phase: the ``by`` columns, phase, n_points,
n_values, n_baseline, cl, lcl, ucl (the phase's limits when constant, else those
of its last point), limits ("normal" or "exact": how they were set; empty for a run
chart), runs_signal, longest_run, longest_run_max, n_crossings,
n_crossings_min, n_special_cause, variation_type (the point type of the phase's
last value), assurance_type, trial_limits (text when the phase has fewer than 13
points) and warning (every stated caveat, "; "-joined).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartWarning
from pxlib.spc import validate as V
from pxlib.spc.aggregate import read_columns, subgroups
from pxlib.spc.limits import compute_limits
from pxlib.spc.phases import segments
from pxlib.spc.result import SPCResult
from pxlib.spc.signals import apply_rules
from pxlib.spc.spec import chart_spec
from pxlib.spc.summary import limits_used, points_frame, summary_frame

# old private names, kept for code that imported them from here
_check_finite = V.check_finite
_check_multiply = V.check_multiply
_float_values = V.float_values
_numeric = V.numeric


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
    (:mod:`pxlib.spc.rules`). See the module docstring for every option.

    The steps, one module each (as NHSRplotthedots' ``ptd_*`` pipeline): validate the
    options (:mod:`~pxlib.spc.validate`), read and combine the rows
    (:mod:`~pxlib.spc.aggregate`), number phases and segments (:mod:`~pxlib.spc.phases`),
    compute the lines (:mod:`~pxlib.spc.limits`), apply the rules
    (:mod:`~pxlib.spc.signals`), assemble the tables (:mod:`~pxlib.spc.summary`)."""
    kind = V.check_kind(kind)
    by_cols = V.as_list(by)
    rule_set = V.check_rules(rules, kind)
    V.check_columns(data, x, y, n, by_cols, phases)
    V.check_settings(kind, n, multiply, freeze, shift, trend, centre_line, agg)
    spec = chart_spec(
        kind, rule_set, improvement, target, multiply, y_label, limits, shift, trend, n is not None
    )
    notes: list[str] = []
    cols = read_columns(data, x, y, n, by_cols, phases, kind, notes)
    sub, xuniq = subgroups(cols, x, kind, agg, fill_gaps)
    sg = segments(
        sub,
        xuniq,
        cols.labels,
        by_cols,
        phases=phases,
        freeze=freeze,
        exclude=exclude,
        cl=cl,
        multiply=multiply,
        notes=notes,
    )
    lines = compute_limits(
        kind,
        y=sub["y"],
        y_sum=sub["y_sum"],
        n=sub["n"],
        y_len=sub["y_len"],
        y_sd=sub["y_sd"],
        seg=sg.seg,
        nseg=sg.nseg,
        base=sg.baseline & sg.include,
        cl_fixed=sg.cl_fixed,
        screen_mr=screen_mr,
        limits=limits,
    )
    m = float(multiply)
    yo = lines.y * m
    drawn = {"cl": lines.cl * m}
    for col in ("lcl", "ucl", "lcl_2s", "ucl_2s"):
        drawn[col] = _finite_or_nan(getattr(lines, col) * m)
    verdict = apply_rules(
        kind,
        rule_set,
        yo,
        drawn,
        lines,
        sub["n"],
        sg,
        direction=spec.direction,
        shift=shift,
        trend=trend,
        centre_line=centre_line,
        screen_mr=screen_mr,
        multiply=m,
    )
    points = points_frame(by_cols, cols.labels, sub, xuniq, yo, drawn, sg, verdict)
    used, runs_note = limits_used(kind, verdict, lines.cl, sg)
    summary, any_warning = summary_frame(
        kind,
        points,
        by_cols,
        sg.seg,
        sg.first,
        verdict.stats,
        verdict.code,
        spec.target,
        spec.direction,
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
    return SPCResult(points=points, summary=summary, spec=spec, by=by_cols, signals=verdict.signals)


def _finite_or_nan(v: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(v), v, np.nan)


__all__ = ["chart"]
