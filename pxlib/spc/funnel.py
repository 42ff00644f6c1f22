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

3-sigma limits decide ``signal`` (strictly outside); 2-sigma lines are warnings. The
limits are :func:`pxlib.spc.limits.funnel_limits` (importable from here too).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ChartWarning, ColumnError
from pxlib.fmt import literal as _show
from pxlib.fmt import literals as _show_list
from pxlib.spc.limits import funnel_limits, funnel_sigma
from pxlib.spc.result import FunnelResult
from pxlib.spc.spec import ChartSpec, in_percent
from pxlib.spc.validate import check_finite, check_multiply, numeric


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
    check_multiply(multiply)
    m = float(multiply)
    spec = ChartSpec(kind=kind, rules=(), multiply=m, percent=in_percent(kind, m), y_label=y_label)
    yv = numeric(data, y, "y")
    nv = numeric(data, n, "n")
    check_finite(yv, data.index, "y", y)
    check_finite(nv, data.index, "n", n)
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
        z = (p - cl) / funnel_sigma(cl, nsum, kind)
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


__all__ = ["funnel", "funnel_limits"]
