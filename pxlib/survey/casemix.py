"""Case-mix adjusted comparison of units (trusts, wards) from respondent-level data.

:func:`casemix_adjust` compares each unit's share of positive answers with what its own
patients would be expected to report, by **indirect standardisation**:

1. A logistic regression of the binary outcome on the case-mix covariates, fitted to every
   unit's respondents together (binomial family, logit link, fitted by IRLS:
   :mod:`pxlib.survey.logistic`; the unit is not in the model): logit P(y_i = 1) = b0 +
   sum_k b_k x_ik. Categorical covariates enter as indicators against their most common level (a missing value is a level of its
   own, "(missing)"); ``continuous`` ones as numbers. Respondents are collapsed to their
   covariate cells first (a binomial GLM on cell counts has the same likelihood), so
   national files fit in well under a second.
2. Expected positives of unit u: E_u = sum over its respondents of the fitted p_i. With an
   intercept, maximum likelihood gives sum_i p_i = sum_i y_i (the intercept's score
   equation), so the units' expected counts add up to their observed total.
3. Adjusted score, with the national rate p = sum O / sum n of the respondents given:
   ``method="ratio"`` (default) A_u = (O_u / E_u) x p, the indirectly standardised rate
   (Breslow and Day 1987, *Statistical methods in cancer research* vol. II, ch. 2);
   ``method="difference"`` A_u = p + (O_u - E_u) / n_u, observed minus expected on the
   proportion scale. The ratio can exceed 1 for a unit whose patients are expected to
   score low and nearly all answered positively.
4. Expected range at the unit's n (a funnel): exact binomial limits for p and n with
   Spiegelhalter's interpolation (Spiegelhalter 2005, *Funnel plots for comparing
   institutional performance*, Statistics in Medicine 24:1185, appendix A.1.1): for
   R ~ Bin(n, p), r_q = the smallest r with P(R <= r) >= q, a = (P(R <= r_q) - q) /
   (P(R <= r_q) - P(R <= r_q - 1)), limit = (r_q - a) / n, cut at [0, 1]; q = 0.025, 0.975
   (95 %) and 0.001, 0.999 (99.8 %). They are the limits of a unit of average case mix;
   the (small) change in spread its own case mix makes is ignored. Discreteness makes them
   a little asymmetric at small n (up to 1/n; Manktelow and Seaton 2012, PLoS ONE
   7:e45723, compare such interpolations); at large n they approach p +/- z sqrt(p(1-p)/n).
5. ``reading``: "above expected range" / "below expected range" when the adjusted score is
   outside the 99.8 % range (``flag_at=0.95``: the 95 % range), else "within expected range".

This is the method of this workbook, not NCPES's official one: the official case-mix
variables and expected-range method are unconfirmed (``national-data.md`` section 3);
academic analyses of CPES adjusted for age, gender, ethnicity and cancer type [P-BMJO].
:func:`casemix_figure` draws the funnel; :func:`casemix_alt_text` describes it in words.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from pxlib.distributions import binom_cdf, binom_ppf
from pxlib.errors import ColumnError, DataValidationError, DesignError
from pxlib.escape import html_text
from pxlib.fmt import count, literal, literals, percent
from pxlib.spc import icons
from pxlib.spc.theme import NHS_DARK_GREY, NHS_MID_GREY, TEMPLATE
from pxlib.survey.design import DesignWarning
from pxlib.survey.logistic import fit_logistic

__all__ = [
    "CASEMIX_COLUMNS",
    "CasemixResult",
    "binomial_limits",
    "casemix_adjust",
    "casemix_alt_text",
    "casemix_figure",
]

#: the columns of :attr:`CasemixResult.units`, in order
CASEMIX_COLUMNS = (
    "unit",
    "n",
    "observed",
    "expected",
    "observed_rate",
    "expected_rate",
    "ratio",
    "adjusted",
    "lower95",
    "upper95",
    "lower998",
    "upper998",
    "reading",
)
MISSING_LEVEL = "(missing)"
ABOVE, BELOW, WITHIN = "above expected range", "below expected range", "within expected range"
_METHODS = ("ratio", "difference")


@dataclass(frozen=True)
class CasemixResult:
    """A case-mix adjusted comparison: ``units`` (:data:`CASEMIX_COLUMNS`, one row per unit),
    the national rate, the model's ``coefficients`` (term, coef, se, odds_ratio), and how it
    was made."""

    units: pd.DataFrame
    national_rate: float
    coefficients: pd.DataFrame
    outcome: str
    covariates: tuple[str, ...]
    method: str
    flag_at: float
    n_respondents: int
    n_missing_outcome: int
    converged: bool

    def figure(self, **kwargs: Any) -> go.Figure:
        """:func:`casemix_figure` of this result."""
        return casemix_figure(self, **kwargs)

    def alt_text(self, what: str | None = None, reference: str = "national rate") -> str:
        """:func:`casemix_alt_text` of this result."""
        return casemix_alt_text(self, what=what, reference=reference)


def binomial_limits(p: float, n: ArrayLike, q: float) -> np.ndarray:
    """The q-quantile funnel limit of a proportion at denominators ``n`` for true rate ``p``:
    exact binomial with Spiegelhalter's (2005, appendix A.1.1) interpolation (module
    docstring, step 4), cut at [0, 1]."""
    n = np.asarray(n, dtype=float)
    if not 0 < p < 1:
        return np.full(n.shape, float(p))
    r = binom_ppf(q, n, p)
    at = binom_cdf(r, n, p)
    below = binom_cdf(r - 1, n, p)
    alpha = (at - q) / (at - below)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def _check(data: pd.DataFrame, unit: str, outcome: str, covariates: Sequence[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    for role, col in (
        ("unit", unit),
        ("outcome", outcome),
        *(("covariate", c) for c in covariates),
    ):
        if col not in data.columns:
            raise ColumnError(f"{role} column {literal(col)} is not in the data")
    if unit in covariates or outcome in covariates or unit == outcome:
        raise DesignError("the unit and outcome columns cannot also be case-mix covariates")
    if len(set(covariates)) != len(covariates):
        raise DesignError(f"a covariate is named twice in {literals(covariates)}")


def _outcome(values: pd.Series, name: str) -> np.ndarray:
    """The outcome as 0.0 / 1.0, NaN where missing; any other value is an error."""
    y = pd.to_numeric(values.astype("object").replace({True: 1, False: 0}), errors="coerce")
    bad = (values.notna() & y.isna()) | (y.notna() & ~y.isin([0, 1]))
    if bad.any():
        rows = list(values.index[bad.to_numpy()][:5])
        raise DataValidationError(
            f"outcome column {literal(name)} must hold 0/1 or True/False; {int(bad.sum())} "
            f"value(s) do not (rows {literals(rows)})"
        )
    return y.to_numpy(dtype=float)


def _design(frame: pd.DataFrame, covariates: Sequence[str], continuous: Sequence[str]):
    """(cell of each respondent, design matrix of the cells, term names)."""
    keys, levels = [], {}
    for c in covariates:
        if c in continuous:
            x = pd.to_numeric(frame[c], errors="coerce")
            if not np.isfinite(x.to_numpy(dtype=float)).all():
                raise DataValidationError(
                    f"continuous covariate {literal(c)} has missing or non-numeric values"
                )
            keys.append(x.to_numpy(dtype=float))
            continue
        text = frame[c].astype("object").where(frame[c].notna(), MISSING_LEVEL).astype(str)
        counts = text.value_counts()
        order = sorted(counts.index, key=lambda v: (-counts[v], v))  # reference: most common
        levels[c] = order
        keys.append(pd.Categorical(text, categories=order).codes)
    if not keys:
        return np.zeros(len(frame), dtype=np.int64), np.ones((1, 1)), ["(intercept)"]
    _, cell = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
    cell = np.asarray(cell).ravel()
    first = np.unique(cell, return_index=True)[1]
    columns, terms = [np.ones(len(first))], ["(intercept)"]
    for c, key in zip(covariates, keys, strict=True):
        at = key[first]
        if c in continuous:
            columns.append(at)
            terms.append(c)
            continue
        for j, level in enumerate(levels[c][1:], start=1):
            columns.append((at == j).astype(float))
            terms.append(f"{c}={level}")
    return cell, np.column_stack(columns), terms


def _fit(successes: np.ndarray, trials: np.ndarray, x: np.ndarray, terms: list[str]):
    """(fitted probability of each cell, coefficients table, converged): the logistic
    model of step 1 (:func:`pxlib.survey.logistic.fit_logistic`)."""
    fit = fit_logistic(successes, trials, x)
    if fit.separated:
        warnings.warn(
            "case-mix model: a covariate level has only positive or only negative answers, so "
            "its coefficient is not estimable; its respondents' expected values are their "
            "observed ones",
            DesignWarning,
            stacklevel=3,
        )
    p = np.clip(fit.fitted, 0.0, 1.0)
    coef = pd.DataFrame(
        {"term": terms, "coef": fit.params, "se": fit.bse, "odds_ratio": np.exp(fit.params)}
    )
    return p, coef, fit.converged


def casemix_adjust(
    data: pd.DataFrame,
    unit: str,
    outcome: str,
    covariates: Sequence[str],
    *,
    continuous: Sequence[str] = (),
    method: str = "ratio",
    flag_at: float = 0.998,
) -> CasemixResult:
    """Case-mix adjusted scores of each ``unit`` against the national rate, with expected
    ranges (the module docstring gives every formula and its source).

    ``data`` has one row per respondent: the unit, a binary ``outcome`` (0/1 or True/False;
    missing: left out and counted) and the case-mix ``covariates`` (categorical unless named
    in ``continuous``). ``method`` is "ratio" (O/E x national rate) or "difference" (national
    rate + (O - E)/n); ``flag_at`` (0.95 or 0.998) is the range that decides ``reading``.
    Returns a :class:`CasemixResult`.
    """
    covariates = tuple(covariates)
    continuous = tuple(continuous)
    _check(data, unit, outcome, covariates)
    if method not in _METHODS:
        raise DesignError(f"method must be 'ratio' or 'difference', not {literal(method)}")
    if flag_at not in (0.95, 0.998):
        raise DesignError(f"flag_at must be 0.95 or 0.998, not {literal(flag_at)}")
    unknown = [c for c in continuous if c not in covariates]
    if unknown:
        raise DesignError(f"continuous covariates {literals(unknown)} are not in covariates")
    if data[unit].isna().any():
        rows = list(data.index[data[unit].isna().to_numpy()][:5])
        raise DataValidationError(f"unit column {literal(unit)} is blank in rows {literals(rows)}")
    y = _outcome(data[outcome], outcome)
    answered = ~np.isnan(y)
    frame = data.loc[answered]
    y = y[answered]
    if len(frame) == 0:
        raise DesignError(f"no respondent has an answer in {literal(outcome)}")
    cell, x, terms = _design(frame, covariates, continuous)
    trials = np.bincount(cell).astype(float)
    successes = np.bincount(cell, weights=y)
    p_cell, coef, converged = _fit(successes, trials, x, terms)
    p_resp = p_cell[cell]

    codes, names = pd.factorize(frame[unit], sort=True)
    n = np.bincount(codes).astype(float)
    observed = np.bincount(codes, weights=y)
    expected = np.bincount(codes, weights=p_resp)
    rate = float(y.sum() / len(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = observed / expected
    adjusted = ratio * rate if method == "ratio" else rate + (observed - expected) / n
    limits = {q: binomial_limits(rate, n, q) for q in (0.025, 0.975, 0.001, 0.999)}
    lo, hi = (limits[0.025], limits[0.975]) if flag_at == 0.95 else (limits[0.001], limits[0.999])
    reading = np.select([adjusted > hi, adjusted < lo], [ABOVE, BELOW], default=WITHIN)
    units = pd.DataFrame(
        {
            "unit": names,
            "n": n.astype(np.int64),
            "observed": observed,
            "expected": expected,
            "observed_rate": observed / n,
            "expected_rate": expected / n,
            "ratio": ratio,
            "adjusted": adjusted,
            "lower95": limits[0.025],
            "upper95": limits[0.975],
            "lower998": limits[0.001],
            "upper998": limits[0.999],
            "reading": reading,
        },
        columns=list(CASEMIX_COLUMNS),
    )
    return CasemixResult(
        units=units,
        national_rate=rate,
        coefficients=coef,
        outcome=outcome,
        covariates=covariates,
        method=method,
        flag_at=flag_at,
        n_respondents=int(len(y)),
        n_missing_outcome=int((~answered).sum()),
        converged=converged,
    )


# --- words and figure ---------------------------------------------------------------------


def _names(values: Sequence[object], k: int = 5) -> str:
    shown = [str(v) for v in values[:k]]
    more = f" and {len(values) - k} more" if len(values) > k else ""
    return ", ".join(shown) + more


def casemix_alt_text(
    result: CasemixResult, what: str | None = None, reference: str = "national rate"
) -> str:
    """The funnel in words: what is compared, the reference rate (``reference`` names it:
    the respondents' overall rate), the adjustment, and which units lie above, below or
    within their expected range (plain text, not escaped)."""
    units = result.units
    what = what or f"scores for {result.outcome}"
    level = "99.8 %" if result.flag_at == 0.998 else "95 %"
    adjusted_for = ", ".join(result.covariates) or "nothing (no covariates)"
    parts = [
        f"Funnel plot of case-mix adjusted {what} for {count(len(units), 'unit')}, "
        f"adjusted for {adjusted_for}, against the {reference} of "
        f"{percent(result.national_rate, 1)}; the expected ranges narrow as the number of "
        "respondents grows."
    ]
    for reading, word in ((ABOVE, "above"), (BELOW, "below")):
        names = units.loc[units["reading"] == reading, "unit"].tolist()
        if names:
            parts.append(
                f"{count(len(names), 'unit')} {'is' if len(names) == 1 else 'are'} {word} the "
                f"{level} expected range: {_names(names)}."
            )
    within = int((units["reading"] == WITHIN).sum())
    verb = "is" if within == 1 else "are"
    parts.append(f"{count(within, 'unit')} {verb} within the {level} expected range.")
    return " ".join(parts)


def casemix_figure(
    result: CasemixResult,
    *,
    improvement: str = "increase",
    title: str | None = None,
    y_title: str | None = None,
    width: int = 900,
    height: int = 480,
    reference: str = "national rate",
    x_title: str = "Respondents (n)",
) -> go.Figure:
    """The funnel of adjusted scores: each unit at its number of respondents, the national
    rate, and the 95 % (dotted) and 99.8 % (solid) expected ranges as curves. Units outside
    the range of ``flag_at`` are named and coloured as improvement or concern by
    ``improvement`` ("increase": higher is better; "decrease"; "neutral": purple);
    ``reference`` names the centre line (the respondents' overall rate) and ``x_title``
    what the x axis counts. Every label is escaped (:func:`pxlib.escape.html_text`)."""
    if improvement not in ("increase", "decrease", "neutral"):
        raise DesignError(
            f"improvement must be 'increase', 'decrease' or 'neutral', not {literal(improvement)}"
        )
    units = result.units
    n = units["n"].to_numpy(dtype=float)
    lo_n, hi_n = max(1.0, n.min() * 0.85), n.max() * 1.1
    grid = np.unique(np.round(np.geomspace(lo_n, hi_n, 120)))
    rate = result.national_rate

    def line(y, name, dash, show=True, colour=NHS_MID_GREY) -> dict:
        return {
            "type": "scatter",
            "x": grid,
            "y": y,
            "mode": "lines",
            "name": name,
            "legendgroup": name,
            "showlegend": show,
            "line": {"color": colour, "dash": dash, "width": 1.5 if dash == "solid" else 1},
            "hoverinfo": "skip",
        }

    reference_name = html_text(reference[:1].upper() + reference[1:])
    traces = [line(np.full(len(grid), rate), reference_name, "solid", colour=NHS_DARK_GREY)]
    for (qlo, qhi), name, dash in (
        ((0.001, 0.999), "99.8 % expected range", "solid"),
        ((0.025, 0.975), "95 % expected range", "dot"),
    ):
        traces.append(line(binomial_limits(rate, grid, qhi), name, dash))
        traces.append(line(binomial_limits(rate, grid, qlo), name, dash, show=False))
    better = {"increase": ABOVE, "decrease": BELOW}.get(improvement)
    hover = (
        "<b>%{text}</b><br>adjusted: %{y:.1%}<br>observed: %{customdata[0]:.1%}, expected "
        "from case mix: %{customdata[1]:.1%}<br>respondents: %{x:,}<br>"
        "99.8 % expected range at this n: %{customdata[2]:.1%} to %{customdata[3]:.1%}"
        "<extra></extra>"
    )
    #: each reading's legend name (None: said from the direction of improvement)
    series: tuple[tuple[str, str | None], ...] = (
        (WITHIN, "Within the expected range"),
        (ABOVE, None),
        (BELOW, None),
    )
    for reading, legend in series:
        sel = (units["reading"] == reading).to_numpy()
        if not sel.any():
            continue
        if reading == WITHIN:
            colour, symbol, size = icons.COMMON, "circle", 7
        elif better is None:
            colour, size = icons.NEUTRAL, 9
            symbol = "triangle-up" if reading == ABOVE else "triangle-down"
        else:
            good = reading == better
            colour, symbol, size = (
                (icons.IMPROVEMENT, "diamond", 9) if good else (icons.CONCERN, "square", 9)
            )
        if legend is None:
            legend = ("Above" if reading == ABOVE else "Below") + " the expected range"
            legend += "" if better is None else (": better" if reading == better else ": worse")
        labels = [html_text(u) for u in units.loc[sel, "unit"]]
        traces.append(
            {
                "type": "scatter",
                "x": n[sel],
                "y": units.loc[sel, "adjusted"].to_numpy(dtype=float),
                "text": labels,
                "customdata": units.loc[
                    sel, ["observed_rate", "expected_rate", "lower998", "upper998"]
                ].to_numpy(dtype=float),
                "mode": "markers" if reading == WITHIN else "markers+text",
                "textposition": "top center" if reading == ABOVE else "bottom center",
                "marker": {"color": colour, "symbol": symbol, "size": size},
                "name": legend,
                "hovertemplate": hover,
            }
        )
    level = "99.8 %" if result.flag_at == 0.998 else "95 %"
    adjusted_for = ", ".join(result.covariates) or "no covariates"
    text = title if title is not None else f"Case-mix adjusted {result.outcome}"
    layout = {
        "template": TEMPLATE,
        "title": {
            "text": html_text(text),
            "subtitle": {
                "text": html_text(
                    f"Adjusted for {adjusted_for}; units outside the {level} expected range "
                    "are named"
                )
            },
        },
        "width": width,
        "height": height,
        "margin": {"t": 90, "b": 40, "l": 64, "r": 24},
        "xaxis": {
            "title": {"text": html_text(x_title)},
            "type": "log" if hi_n / lo_n > 50 else "linear",
        },
        "yaxis": {"title": {"text": html_text(y_title or "Adjusted score")}, "tickformat": ".0%"},
        "legend": {"orientation": "h", "y": -0.16, "yanchor": "top", "x": 0},
        "hovermode": "closest",
    }
    return go.Figure(data=traces, layout=layout)
