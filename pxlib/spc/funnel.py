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

import math

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ColumnError
from pxlib.spc.result import FunnelResult


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
    summed). Returns a :class:`FunnelResult` whose ``points`` has, per unit (sorted),
    the unit column, y, n, cl, lcl, ucl (3-sigma), lcl_2s, ucl_2s (2-sigma), z and
    signal (outside the 3-sigma limits)."""
    if not isinstance(data, pd.DataFrame):
        raise ChartError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    for role, col in (("unit", unit), ("y", y), ("n", n)):
        if col not in data.columns:
            raise ColumnError(f"{role} column '{col}' is not in the data")
    if kind not in ("p", "u"):
        raise ChartError(f"funnel kind must be 'p' or 'u', not {kind!r}")
    if not (isinstance(multiply, int | float) and math.isfinite(multiply) and multiply > 0):
        raise ChartError(f"multiply must be a positive number, not {multiply!r}")
    yv = pd.to_numeric(data[y], errors="coerce").astype("Float64").to_numpy(float, na_value=np.nan)
    nv = pd.to_numeric(data[n], errors="coerce").astype("Float64").to_numpy(float, na_value=np.nan)
    units = data[unit]
    ok = np.isfinite(yv) & np.isfinite(nv) & units.notna().to_numpy()
    code, uniq = pd.factorize(units[ok], sort=True)
    ysum = np.bincount(code, weights=yv[ok], minlength=len(uniq))
    nsum = np.bincount(code, weights=nv[ok], minlength=len(uniq))
    for mask, what in (
        (ysum < 0, f"'{y}' is negative"),
        (nsum <= 0, f"'{n}' is not positive"),
        ((ysum > nsum) if kind == "p" else np.zeros(len(uniq), bool), f"'{y}' exceeds '{n}'"),
    ):
        if mask.any():
            bad = list(uniq[mask][:5])
            raise ChartError(f"funnel: {what} for unit(s) {bad!r} ({int(mask.sum())} units)")
    if len(uniq) == 0:
        raise ChartError("funnel: no unit has both y and n")
    cl = ysum.sum() / nsum.sum()
    p = ysum / nsum
    sigma = np.sqrt(cl * (1 - cl) / nsum) if kind == "p" else np.sqrt(cl / nsum)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (p - cl) / sigma
    sigma_z = 1.0
    if overdispersion:
        zf = z[np.isfinite(z)]
        sigma_z = float(np.std(zf, ddof=1)) if len(zf) > 1 else float("nan")
    lines = {k: _limit(cl, sigma * sigma_z, k, kind) for k in (-3, 3, -2, 2)}
    m = float(multiply)
    points = pd.DataFrame(
        {
            unit: uniq,
            "y": p * m,
            "n": nsum,
            "cl": cl * m,
            "lcl": lines[-3] * m,
            "ucl": lines[3] * m,
            "lcl_2s": lines[-2] * m,
            "ucl_2s": lines[2] * m,
            "z": z,
            "signal": (p > lines[3]) | (p < lines[-3]),
        }
    )
    return FunnelResult(
        points=points,
        kind=kind,
        unit=unit,
        overdispersion=bool(overdispersion),
        multiply=m,
        y_label=y_label,
        percent=kind == "p" and m in (1.0, 100.0),
        cl=float(cl * m),
        sigma_z=sigma_z,
    )


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
    """Lower and upper funnel limits at denominators ``n`` (for drawing the curves)."""
    c = cl / multiply
    n = np.asarray(n, dtype=float)
    sigma = np.sqrt(c * (1 - c) / n) if kind == "p" else np.sqrt(c / n)
    lo = _limit(c, sigma * sigma_z, -sigmas, kind)
    hi = _limit(c, sigma * sigma_z, sigmas, kind)
    return lo * multiply, hi * multiply
