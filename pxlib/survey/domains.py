"""Domain (subpopulation) estimates of a design: :class:`Domains`, from ``Design.by``.

Each domain's estimate uses the whole design with the domain indicator (zero ``z``
outside the domain), never a subset of rows, as R's ``svyby``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.distributions import norm_ppf, t_ppf
from pxlib.errors import DesignError
from pxlib.weighting._margins import show
from pxlib.weighting.diagnostics import kish_ess_by

from .ci import proportion_ci
from .columns import check_01, check_ddf, check_level, column_of, numeric_column
from .estimate import DesignWarning

if TYPE_CHECKING:
    from .design import Design


class Domains:
    """Estimates for each domain (subpopulation) of a design, as DataFrames.

    Each domain's estimate uses the whole design with the domain indicator.
    Columns: the ``by`` columns, ``n`` (respondents with a value in the domain),
    ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df`` (PSUs minus strata among
    the domain's respondents, as R's ``svyby`` on a subset; proportion intervals
    use at least 1), and for proportions ``ess`` (Kish effective sample size
    within the domain). As R's ``svyby(..., svyciprop)``, the n in the beta and
    likelihood intervals is the domain's respondents for an uncalibrated design
    and the whole design's for a calibrated one (R keeps every row there).
    """

    CHUNK = 4_000_000
    FAST = True  # False: always the dense path (used by the tests to cross-check)

    def __init__(self, design: Design, cols: list[str]):
        self.design = design
        self.cols = cols
        df = design.data
        for c in cols:
            column_of(df, c, "domain")
        try:
            grouped = df.groupby(cols, sort=True, dropna=True, observed=True)
            codes = grouped.ngroup()
            self._keys = grouped.size().index
        except TypeError as exc:
            raise DesignError(
                f"domain column(s) {cols} hold values that cannot be domain labels (such as "
                "lists, or a mix of types that cannot be sorted); give text, numbers or "
                "categories"
            ) from exc
        self._g = codes.fillna(-1).to_numpy(dtype=np.int64)

    def _frame(self) -> pd.DataFrame:
        keys = self._keys
        if isinstance(keys, pd.MultiIndex):
            return keys.to_frame(index=False)
        return pd.DataFrame({self.cols[0]: list(keys)})

    def _parts(self, y: np.ndarray, x: np.ndarray | None = None):
        d = self.design
        G = len(self._keys)
        m = (~np.isnan(y)) & (self._g >= 0)
        if x is not None:
            m &= ~np.isnan(x)
        g = np.where(m, self._g, 0)
        wm = np.where(m, d._w, 0.0)
        y0 = np.where(m, y, 0.0)
        num = np.bincount(g, weights=wm * y0, minlength=G)
        if x is None:
            den = np.bincount(g, weights=wm, minlength=G)
        else:
            den = np.bincount(g, weights=wm * np.where(m, x, 0.0), minlength=G)
        n = np.bincount(g, weights=m.astype(float), minlength=G)
        return m, g, wm, y0, num, den, n

    def _se(self, m, g, zfun) -> np.ndarray:
        """SE per domain; zfun(rows, domain index of rows) -> z for those rows."""
        d = self.design
        G = len(self._keys)
        n = len(d.data)
        rows = np.flatnonzero(m)
        z_rows = zfun(rows, g[rows])
        if self.FAST and d._psu is None:
            if not d._steps:
                return self._se_sparse(rows, g[rows], z_rows)
            if len(d._steps) == 1 and d._steps[0].X.shape[0] * G <= 2e7:
                a = d._changed_since_calibration()  # see Design._se_from_z
                if a is None:
                    return self._se_calibrated(rows, g[rows], z_rows, d._w)
                return self._se_calibrated(rows, g[rows], a[rows] * z_rows, d._w_cal)
        out = np.empty(G)
        k = max(1, self.CHUNK // max(n, 1))
        for start in range(0, G, k):
            stop = min(G, start + k)
            sel = (g[rows] >= start) & (g[rows] < stop)
            Z = np.zeros((n, stop - start))
            Z[rows[sel], g[rows][sel] - start] = z_rows[sel]
            out[start:stop] = d._se_from_z(Z)
        return out

    def _se_sparse(self, rows, grow, z) -> np.ndarray:
        """Unclustered, uncalibrated: per (stratum, domain) sums, no dense matrix."""
        d = self.design
        G = len(self._keys)
        H = len(d._strata_labels)
        u = d._w[rows] * z
        key = d._stratum[rows] * G + grow
        s1 = np.bincount(key, weights=u, minlength=H * G).reshape(H, G)
        s2 = np.bincount(key, weights=u * u, minlength=H * G).reshape(H, G)
        return self._strata_var(s1, s2)

    def _se_calibrated(self, rows, grow, z, w) -> np.ndarray:
        """Unclustered, one calibration step, without an n x domains matrix.

        With c = X B the fitted calibration part (units x domains), the residual
        scores are U_ig = w_i (z_i [g(i) = g] - c_{u(i) g}); their per-stratum
        sums and sums of squares expand into per-(stratum, domain) sums over the
        domain's rows and (stratum x unit) @ (unit x domain) products. ``w``: the
        weights the scores take (the design's, or those right after calibration with
        z already scaled, see :meth:`Design._changed_since_calibration`).
        """
        d = self.design
        st = d._steps[0]
        G = len(self._keys)
        H = len(d._strata_labels)
        K = st.X.shape[0]
        S = np.bincount(st.unit[rows] * G + grow, weights=st.d[rows] * z, minlength=K * G).reshape(
            K, G
        )
        c = np.asarray(st.X @ (st.Minv @ (st.X.T @ S)))  # units x G
        h_all = d._stratum
        hk = h_all * K + st.unit
        Q1 = np.bincount(hk, weights=w, minlength=H * K).reshape(H, K)
        Q2 = np.bincount(hk, weights=w * w, minlength=H * K).reshape(H, K)
        wr = w[rows]
        key = h_all[rows] * G + grow
        c_rows = c[st.unit[rows], grow]
        a1 = np.bincount(key, weights=wr * z, minlength=H * G).reshape(H, G)
        a2 = np.bincount(key, weights=(wr * z) ** 2, minlength=H * G).reshape(H, G)
        cross = np.bincount(key, weights=wr * wr * z * c_rows, minlength=H * G).reshape(H, G)
        s1 = a1 - Q1 @ c
        s2 = a2 - 2 * cross + Q2 @ (c * c)
        return self._strata_var(s1, s2)

    def _strata_var(self, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """SE from per-(stratum, domain) sums of PSU scores and of their squares."""
        d = self.design
        n_h = d._n_h
        lonely = n_h == 1
        if lonely.any() and d._lonely == "fail":
            raise DesignError(d._lonely_message(lonely))
        with np.errstate(divide="ignore", invalid="ignore"):
            ss = s2 - s1**2 / n_h[:, None]
            fac = np.where(lonely, 0.0, n_h / (n_h - 1)) * d._fpc_factor
        if lonely.any() and d._lonely == "adjust":
            grand = s1.sum(axis=0) / d._n_psu
            ss = np.where(lonely[:, None], s2 - 2 * grand * s1 + grand**2, ss)
            fac = np.where(lonely, 1.0, fac)
        return np.sqrt(np.maximum(fac @ np.nan_to_num(ss), 0.0))

    def _domain_df(self, m, g) -> np.ndarray:
        d = self.design
        G = len(self._keys)
        keep = m & (d._w > 0)
        psu = d._psu if d._psu is not None else np.arange(len(d.data))
        pairs = pd.DataFrame({"g": g[keep], "p": psu[keep], "h": d._stratum[keep]})
        npsu = pairs.groupby("g")["p"].nunique().reindex(range(G), fill_value=0)
        nh = pairs.groupby("g")["h"].nunique().reindex(range(G), fill_value=0)
        return (npsu - nh).to_numpy(dtype=float)

    def _names(self, mask: np.ndarray) -> str:
        """The first few domains where ``mask`` holds, as col=value."""
        frame = self._frame().loc[np.asarray(mask, dtype=bool)]
        names = [
            ", ".join(f"{c}={show(v)}" for c, v in zip(self.cols, row, strict=True))
            for row in frame.itertuples(index=False)
        ]
        return "; ".join(names[:5]) + ("; ..." if len(names) > 5 else "")

    def _explain_missing(self, m, g, df, col: str, with_ci: bool = True) -> None:
        """A DesignWarning naming the domains whose estimate, SE or interval is missing, and
        why: no respondent with a value and a positive weight there (a NaN estimate; a
        total of 0), or (means, totals, ratios) a single PSU, so no degrees of freedom
        for its interval."""
        G = len(self._keys)
        has = np.bincount(g, weights=(m & (self.design._w > 0)).astype(float), minlength=G)
        empty = has == 0
        if empty.any():
            warnings.warn(
                f"{int(empty.sum())} domain(s) have no respondent with a value of {col!r} and "
                "a positive weight, so they have no estimate (NaN; a total is 0) and no "
                f"interval: {self._names(empty)}",
                DesignWarning,
                stacklevel=3,
            )
        nodf = ~empty & (np.asarray(df) <= 0) if with_ci else np.zeros(G, dtype=bool)
        if nodf.any():
            warnings.warn(
                f"{int(nodf.sum())} domain(s) hold a single PSU (respondent or cluster), so "
                f"their interval for {col!r} has no degrees of freedom and is NaN (give ddf "
                f"to set one): {self._names(nodf)}",
                DesignWarning,
                stacklevel=3,
            )

    def _finish(self, est, se, n, df, level, extra=None, lohi=None) -> pd.DataFrame:
        level = check_level(level)
        out = self._frame()
        out["n"] = n.astype(np.int64)
        out["estimate"] = est
        out["se"] = np.where(np.isnan(est), np.nan, se)
        if lohi is None:
            with np.errstate(invalid="ignore"):
                q = np.where(
                    np.isinf(df),
                    norm_ppf(0.5 + level / 2),
                    t_ppf(0.5 + level / 2, np.maximum(df, 1)),
                )
            q = np.where(df > 0, q, np.nan)
            lohi = (est - q * se, est + q * se)
        out["ci_low"], out["ci_high"] = lohi
        out["df"] = df
        for k, v in (extra or {}).items():
            out[k] = v
        return out

    def mean(self, col: str, level: float = 0.95, ddf: float | None = None) -> pd.DataFrame:
        level, ddf = check_level(level), check_ddf(ddf)
        y = numeric_column(self.design.data, col)
        m, g, wm, y0, num, den, n = self._parts(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = num / den
        se = self._se(m, g, lambda r, gr: (y0[r] - est[gr]) / den[gr])
        df = self._domain_df(m, g) if ddf is None else np.full(len(est), ddf)
        self._explain_missing(m, g, df, col)
        return self._finish(est, se, n, df, level)

    def total(self, col: str, level: float = 0.95, ddf: float | None = None) -> pd.DataFrame:
        level, ddf = check_level(level), check_ddf(ddf)
        y = numeric_column(self.design.data, col)
        m, g, wm, y0, num, den, n = self._parts(y)
        se = self._se(m, g, lambda r, gr: y0[r])
        df = self._domain_df(m, g) if ddf is None else np.full(len(num), ddf)
        self._explain_missing(m, g, df, col)
        return self._finish(num, se, n, df, level)

    def ratio(
        self, numerator: str, denominator: str, level: float = 0.95, ddf: float | None = None
    ) -> pd.DataFrame:
        level, ddf = check_level(level), check_ddf(ddf)
        y = numeric_column(self.design.data, numerator)
        x = numeric_column(self.design.data, denominator)
        m, g, wm, y0, num, den, n = self._parts(y, x)
        x0 = np.where(m, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            R = num / den
        se = self._se(m, g, lambda r, gr: (y0[r] - R[gr] * x0[r]) / den[gr])
        df = self._domain_df(m, g) if ddf is None else np.full(len(R), ddf)
        self._explain_missing(m, g, df, f"{numerator}/{denominator}")
        return self._finish(R, se, n, df, level)

    def proportion(self, col: str, method: str = "logit", level: float = 0.95) -> pd.DataFrame:
        level = check_level(level)
        y = numeric_column(self.design.data, col)
        check_01(y, col)
        m, g, wm, y0, num, den, n = self._parts(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = num / den
        se = self._se(m, g, lambda r, gr: (y0[r] - est[gr]) / den[gr])
        df = self._domain_df(m, g)
        self._explain_missing(m, g, df, col, with_ci=False)  # intervals take df >= 1
        G = len(est)
        ess = kish_ess_by(g, wm, G)
        pos = m & (self.design._w > 0)
        n_one = np.bincount(g, weights=(pos & (y0 == 1)).astype(float), minlength=G)
        n_pos = np.bincount(g, weights=pos.astype(float), minlength=G)
        agree = (n_pos > 0) & ((n_one == 0) | (n_one == n_pos))
        est = np.where(agree, (n_one > 0).astype(float), est)
        se = np.where(agree, 0.0, se)
        if self.design._steps:
            # R's svyby on a calibrated design keeps every row (weight 0 outside the
            # domain), so the n of the beta and likelihood intervals is the design's
            npos = np.full(G, float(np.count_nonzero(self.design._w > 0)))
        else:
            npos = np.bincount(g, weights=(m & (self.design._w > 0)).astype(float), minlength=G)
        lo, hi = proportion_ci(est, se, np.maximum(df, 1.0), method, level, n=npos, ess=ess)
        return self._finish(est, se, n, df, level, {"ess": ess}, (lo, hi))
