"""Calibration (generalised regression / raking / logit) to population totals.

Method (Deville and Särndal 1992; R ``survey::calibrate``): find g-weights
``g_i = F(x_i' lambda)`` such that the calibrated weights ``w_i = d_i g_i`` reproduce
the population totals T of the auxiliary variables x:

    sum_i d_i F(x_i' lambda) x_i = T,

by Newton's method, ``lambda <- lambda + J^{-1} (T - sum_i d_i F(x_i' lambda) x_i)``
with ``J = sum_i d_i F'(x_i' lambda) x_i x_i'``. Distances:

* ``linear``:  F(u) = 1 + u (closed form when unbounded; weights may be negative);
* ``raking``:  F(u) = exp(u) (the same weights as raking);
* ``logit``:   F(u) = [L(U-1) + U(1-L) e^{Au}] / [(U-1) + (1-L) e^{Au}],
  A = (U-L)/((1-L)(U-1)), which keeps L < g < U (needs finite bounds).

With ``bounds=(L, U)`` the linear and raking distances are truncated to [L, U]
(as R does). Stopping rule: max |misfit| / (1 + |T|) < ``tol`` (R uses 1e-7; pxlib
defaults to 1e-10); failing in ``max_iter`` iterations raises ConvergenceError.

x: an intercept (total = population size), then treatment-coded dummies of each
categorical margin (levels 2..L), then numeric variables given as
``{variable: total}``. When every margin is categorical, respondents are first
collapsed to their populated cells, so the cost does not grow with n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pxlib.errors import ColumnError, ConvergenceError, WeightingError

from ._margins import (
    Prepared,
    check_base_weights,
    check_frame,
    check_number,
    column,
    make_cells,
    model_matrix,
    prepare,
    resolve_base,
    show,
)

METHODS = ("linear", "raking", "logit")


@dataclass(frozen=True)
class CalFit:
    weights: np.ndarray
    unit: np.ndarray  # index of each row's calibration unit (cell or row)
    X: np.ndarray  # units x p model matrix
    base: np.ndarray
    totals: np.ndarray
    iterations: int


def _split_margins(margins) -> tuple[dict | pd.DataFrame | None, dict[str, float]]:
    if isinstance(margins, pd.DataFrame):
        return margins, {}
    if not isinstance(margins, dict) or not margins:
        raise WeightingError(
            "margins must be a non-empty dict: {variable: {level: population}} for categorical "
            "variables, {variable: total} for numeric ones (or a long margins table)"
        )
    cat, num = {}, {}
    for k, v in margins.items():
        if isinstance(v, dict | pd.Series):
            cat[k] = v
        else:
            num[k] = check_number(v, f"the total of calibration variable {show(k)}")
    return (cat or None), num


def _F(method: str, u: np.ndarray, bounds: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """g = F(u) and dF/du for a calibration distance."""
    lo, hi = bounds
    if method == "linear":
        g = 1.0 + u
        dg = np.ones_like(u)
    elif method == "raking":
        g = np.exp(np.clip(u, -700, 700))
        dg = g.copy()
    else:
        a = (hi - lo) / ((1.0 - lo) * (hi - 1.0))
        e = np.exp(np.clip(a * u, -700, 700))
        den = (hi - 1.0) + (1.0 - lo) * e
        g = (lo * (hi - 1.0) + hi * (1.0 - lo) * e) / den
        dg = a * (hi - 1.0) * (1.0 - lo) * (hi - lo) * (e / den) / den
        return g, dg
    if np.isfinite(lo) or np.isfinite(hi):
        out = (g < lo) | (g > hi)
        g = np.clip(g, lo, hi)
        dg = np.where(out, 0.0, dg)
    return g, dg


def solve_calibration(
    X: np.ndarray,
    D: np.ndarray,
    T: np.ndarray,
    method: str,
    bounds: tuple[float, float],
    tol: float,
    max_iter: int,
    names: list[str],
) -> tuple[np.ndarray, int]:
    """g-weights per unit (row of X with design weight D) meeting totals T."""
    p = X.shape[1]
    lam = np.zeros(p)
    scale = 1.0 + np.abs(T)
    unbounded = not (np.isfinite(bounds[0]) or np.isfinite(bounds[1]))
    if method == "linear" and unbounded:
        M = X.T @ (D[:, None] * X)
        try:
            lam = np.linalg.solve(M, T - X.T @ D)
        except np.linalg.LinAlgError:
            lam = np.linalg.lstsq(M, T - X.T @ D, rcond=None)[0]
        g = 1.0 + X @ lam
        mis = T - X.T @ (D * g)
        rel = np.abs(mis) / scale
        if not np.all(rel < max(tol, 1e-6)):  # collinear variables with conflicting totals
            worst = int(np.nanargmax(np.where(np.isfinite(rel), rel, np.inf)))
            raise ConvergenceError(
                f"linear calibration cannot meet the totals: the total of {names[worst]!r} is "
                f"still {mis[worst]:.4g} from its target; some calibration variables are "
                "collinear (one is a combination of the others) with totals that disagree"
            )
        return g, 1
    g, dg = _F(method, X @ lam, bounds)
    mis = T - X.T @ (D * g)
    for it in range(1, max_iter + 1):
        J = X.T @ ((D * dg)[:, None] * X)
        try:
            step = np.linalg.solve(J, mis)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(J, mis, rcond=None)[0]
        norm0 = np.max(np.abs(mis) / scale)
        t = 1.0
        for _ in range(30):
            g_new, dg_new = _F(method, X @ (lam + t * step), bounds)
            with np.errstate(over="ignore", invalid="ignore"):
                mis_new = T - X.T @ (D * g_new)
            if np.max(np.abs(mis_new) / scale) <= norm0 or t < 1e-6:
                break
            t /= 2
        lam = lam + t * step
        g, dg, mis = g_new, dg_new, mis_new
        if np.max(np.abs(mis) / scale) < tol:
            return g, it
    worst = int(np.argmax(np.abs(mis) / scale))
    raise ConvergenceError(
        f"calibration ({method}, bounds {bounds}) did not converge in {max_iter} "
        f"iterations: total of {names[worst]!r} is still {mis[worst]:.4g} from its target; "
        "the bounds may be too tight for these margins"
    )


def calibrate_fit(
    df: pd.DataFrame,
    margins: pd.DataFrame | dict,
    base_weights: str | pd.Series | ArrayLike | None = None,
    method: str = "linear",
    bounds: tuple[float, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 50,
    total: float | None = None,
    allow_zero: bool = False,
) -> CalFit:
    """Calibrate and return the fit (weights, units and model matrix)."""
    if method not in METHODS:
        raise WeightingError(f"calibration method must be one of {METHODS}, not {show(method)}")
    check_frame(df)
    check_number(tol, "tol", positive=True)
    max_iter = check_number(max_iter, "max_iter", integer=True, minimum=1)
    base = check_base_weights(resolve_base(df, base_weights), len(df), allow_zero)
    if total is not None:
        total = check_number(total, "total", positive=True)
    if bounds is None:
        bounds = (-np.inf, np.inf)
    try:
        lo, hi = (float(b) for b in bounds)
        if isinstance(bounds, str) or np.isnan(lo) or np.isnan(hi):
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise WeightingError(
            f"calibration bounds must be two numbers (lower, upper) with lower < 1 < upper, "
            f"not {show(bounds) if isinstance(bounds, tuple | list | str) else type(bounds).__name__}"
        ) from exc
    if not lo < 1.0 < hi:
        raise WeightingError(f"calibration bounds must satisfy lower < 1 < upper, got {bounds}")
    if method == "logit" and not (np.isfinite(lo) and np.isfinite(hi)):
        raise WeightingError("logit calibration needs finite bounds, e.g. bounds=(0.3, 3)")
    cat, num = _split_margins(margins)
    names: list[str] = []
    prep: Prepared | None
    pop: float | None
    if cat is not None:
        prep = prepare(df, cat, base, total)
        sizes = [len(lv) for lv in prep.levels]
        pop = prep.total
    else:
        prep, sizes, pop = None, [], total
    if num:
        for v in num:
            if v not in df.columns:
                raise ColumnError(f"calibration variable {v!r} has no column in the data")
            col = column(df, v, "calibration variable")
            if (
                not pd.api.types.is_numeric_dtype(col)
                or pd.api.types.is_bool_dtype(col)
                or pd.api.types.is_complex_dtype(col)
            ):
                raise WeightingError(
                    f"calibration variable {v!r}: a single total was given but the column "
                    "is not numeric; give {level: population} for a categorical variable"
                )
            if col.isna().any():
                raise WeightingError(f"calibration variable {v!r} has missing values")
            inf = np.isinf(col.to_numpy(dtype=float))
            if inf.any():
                raise WeightingError(
                    f"calibration variable {v!r}: {int(inf.sum())} row(s) have an infinite "
                    f"value (first at position {int(np.flatnonzero(inf)[0])})"
                )
        n = len(df)
        unit = np.arange(n)
        cols: list[np.ndarray] = []
        total_parts: list[np.ndarray] = []
        if prep is not None:
            Xcat = model_matrix(prep.codes, sizes)
            cols.append(Xcat)
            total_parts.append(_cat_totals(prep, sizes, pop))
            names += _cat_names(prep, sizes)
        elif pop is not None:
            cols.append(np.ones((n, 1)))
            total_parts.append(np.array([pop]))
            names.append("(population size)")
        cols.append(np.column_stack([df[v].to_numpy(dtype=float) for v in num]))
        total_parts.append(np.array(list(num.values())))
        names += list(num)
        X = np.hstack(cols)
        T = np.concatenate(total_parts)
        D = base
    else:
        assert prep is not None  # no numeric totals, so _split_margins gave categorical ones
        cells = make_cells(prep.codes, sizes)
        unit = cells.row_cell
        X = model_matrix(cells.level_codes, sizes)
        T = _cat_totals(prep, sizes, pop)
        names = _cat_names(prep, sizes)
        D = np.bincount(unit, weights=base, minlength=X.shape[0])
    keep = np.any(X != 0, axis=0)
    X, T = X[:, keep], T[keep]
    names = [nm for nm, k in zip(names, keep, strict=True) if k]
    g, it = solve_calibration(X, D, T, method, (lo, hi), tol, max_iter, names)
    w = base * g[unit]
    if not np.all(np.isfinite(w)):
        raise ConvergenceError(
            f"calibration ({method}) gave {int((~np.isfinite(w)).sum())} non-finite weight(s); "
            "the totals are far from what the sample can reach"
        )
    return CalFit(w, unit, X, base, T, it)


def _cat_totals(prep, sizes, pop) -> np.ndarray:
    T = [pop]
    for t in prep.targets:
        T.extend(t[1:])
    return np.asarray(T, dtype=float)


def _cat_names(prep, sizes) -> list[str]:
    out = ["(population size)"]
    for v, lv in zip(prep.names, prep.levels, strict=True):
        out.extend(f"{v}={x}" for x in lv[1:])
    return out


def calibrate(
    df: pd.DataFrame,
    margins: pd.DataFrame | dict,
    base_weights: str | pd.Series | ArrayLike | None = None,
    method: str = "linear",
    bounds: tuple[float, float] | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 50,
    total: float | None = None,
    allow_zero: bool = False,
) -> pd.Series:
    """Calibrate weights to population totals (see the module docstring).

    ``margins``: ``{variable: {level: population}}`` for categorical variables
    (counts or shares) and ``{variable: total}`` for numeric ones.
    ``bounds=(L, U)`` bounds the g-weights w/d. Returns a Series aligned with
    ``df.index``.
    """
    fit = calibrate_fit(df, margins, base_weights, method, bounds, tol, max_iter, total, allow_zero)
    return pd.Series(fit.weights, index=df.index, name="weight")
