"""Funnel plots: ``pxlib.spc.funnel``.

One point per unit (trust, ward...) at its denominator, against limits that
narrow as the denominator grows (Spiegelhalter 2005, *Funnel plots for comparing
institutional performance*):

- p: cl = sum(y)/sum(n); sigma_i = sqrt(cl(1 - cl)/n_i); limits clipped to [0, 1].
- u: cl = sum(y)/sum(n); sigma_i = sqrt(cl/n_i); lower limit >= 0.
- overdispersion (Laney; qicharts2's pp/up chart with a categorical x): z_i =
  (y_i - cl)/sigma_i and sigma_z = sd(z) (n - 1 divisor), limits cl +/- k sigma_i
  sigma_z. Use it when units differ by more than chance allows, as with large
  denominators, so that only the truly unusual units stand out.

3-sigma limits decide ``signal`` (strictly outside); 2-sigma lines are warnings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ChartWarning, ColumnError
from pxlib.spc.chart import _check_finite, _numeric, _show, _show_list
from pxlib.spc.result import FunnelResult
from pxlib.spc.spec import ChartSpec, _check_multiply, in_percent


def funnel(
    data: pd.DataFrame,
    unit: str,
    y: str,
    n: str,
    *,
    kind: str = "p",
    overdispersion: bool = False,
    multiply: float = 1.0,
    y_label: str | None = None,
) -> FunnelResult:
    """Funnel analysis of ``y`` events out of ``n`` per ``unit`` (rows of a unit are
    summed): cl = sum(y)/sum(n), limits cl +/- k sigma_i sigma_z with the p or u sigma_i
    of the module docstring (Spiegelhalter 2005; Laney 2002 for ``overdispersion``,
    sigma_z = sd(z)). Returns a :class:`FunnelResult` whose ``points`` has, per unit (sorted),
    the unit column, y, n, cl, lcl, ucl (3-sigma), lcl_2s, ucl_2s (2-sigma), z and
    signal (outside the 3-sigma limits)."""
    if not isinstance(data, pd.DataFrame):
        raise ChartError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    for role, col in (("unit", unit), ("y", y), ("n", n)):
        if col not in data.columns:
            raise ColumnError(f"{role} column '{col}' is not in the data")
        if isinstance(data[col], pd.DataFrame):
            raise ColumnError(f"{role} column '{col}' appears more than once in the data")
    if kind not in ("p", "u"):
        raise ChartError(f"funnel kind must be 'p' or 'u', not {_show(kind)}")
    _check_multiply(multiply)
    m = float(multiply)
    spec = ChartSpec(kind=kind, rules=(), multiply=m, percent=in_percent(kind, m), y_label=y_label)
    yv = _numeric(data, y, "y")
    nv = _numeric(data, n, "n")
    _check_finite(yv, data.index, "y", y)
    _check_finite(nv, data.index, "n", n)
    units = data[unit]
    ok = np.isfinite(yv) & np.isfinite(nv) & units.notna().to_numpy()
    try:
        code, uniq = pd.factorize(units[ok], sort=True)
    except TypeError as exc:
        raise ChartError(
            f"unit column '{unit}' holds values that cannot be unit labels (such as lists); "
            "give text or numbers"
        ) from exc
    ysum = np.bincount(code, weights=yv[ok], minlength=len(uniq))
    nsum = np.bincount(code, weights=nv[ok], minlength=len(uniq))
    for mask, what in (
        (ysum < 0, f"'{y}' is negative"),
        (nsum <= 0, f"'{n}' is not positive"),
        ((ysum > nsum) if kind == "p" else np.zeros(len(uniq), bool), f"'{y}' exceeds '{n}'"),
    ):
        if mask.any():
            k = int(mask.sum())
            raise ChartError(
                f"funnel: {what} for unit{'' if k == 1 else 's'} {_show_list(uniq[mask])} "
                f"({k} unit{'' if k == 1 else 's'})"
            )
    if len(uniq) == 0:
        raise ChartError(f"funnel: no unit has both '{y}' and '{n}'")
    if overdispersion and len(uniq) < 2:
        warnings.warn(
            "funnel: overdispersion needs at least 2 units to estimate sigma_z; "
            "there is 1, so it has no limits",
            ChartWarning,
            stacklevel=2,
        )
    cl = ysum.sum() / nsum.sum()
    p = ysum / nsum
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (p - cl) / _sigma(cl, nsum, kind)
    sigma_z = 1.0
    if overdispersion:
        zf = z[np.isfinite(z)]
        sigma_z = float(np.std(zf, ddof=1)) if len(zf) > 1 else float("nan")
    lcl, ucl = funnel_limits(cl, nsum, kind=kind, sigma_z=sigma_z, sigmas=3.0)
    lcl_2s, ucl_2s = funnel_limits(cl, nsum, kind=kind, sigma_z=sigma_z, sigmas=2.0)
    points = pd.DataFrame(
        {
            unit: uniq,
            "y": p * m,
            "n": nsum,
            "cl": cl * m,
            "lcl": lcl * m,
            "ucl": ucl * m,
            "lcl_2s": lcl_2s * m,
            "ucl_2s": ucl_2s * m,
            "z": z,
            "signal": (p > ucl) | (p < lcl),
        }
    )
    return FunnelResult(
        points=points,
        spec=spec,
        unit=unit,
        overdispersion=bool(overdispersion),
        cl=float(cl * m),
        sigma_z=sigma_z,
    )


def _sigma(c, n, kind: str):
    """Binomial sqrt(c(1 - c)/n) (p) or Poisson sqrt(c/n) (u) sigma at denominators n."""
    return np.sqrt(c * (1 - c) / n) if kind == "p" else np.sqrt(c / n)


def _limit(cl, sigma, k, kind):
    v = cl + k * sigma
    if kind == "p":
        v = np.clip(v, 0.0, 1.0)
    else:
        v = np.maximum(v, 0.0)
    return v


def funnel_limits(
    cl: float,
    n,
    *,
    kind: str = "p",
    sigma_z: float = 1.0,
    sigmas: float = 3.0,
    multiply: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper funnel limits at denominators ``n`` (for drawing the curves):
    c -/+ ``sigmas`` sigma_z sqrt(c(1 - c)/n) for p, sqrt(c/n) for u, with c =
    cl/multiply, cut at [0, 1] (p) or 0 (u) (Spiegelhalter 2005), times ``multiply``."""
    c = cl / multiply
    n = np.asarray(n, dtype=float)
    sigma = _sigma(c, n, kind)
    lo = _limit(c, sigma * sigma_z, -sigmas, kind)
    hi = _limit(c, sigma * sigma_z, sigmas, kind)
    return lo * multiply, hi * multiply
