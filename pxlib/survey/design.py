"""The survey design object and design-based estimates.

A :class:`Design` holds the respondents, their weights, optional strata, one
stage of clusters (PSUs) and a finite population correction, plus the history
of how the weights were made. It is immutable: ``rake``, ``calibrate``,
``poststratify``, ``trim`` and ``nonresponse_adjust`` return new designs.

Variance: Taylor linearisation, on the residuals of each calibration step
(:mod:`pxlib.survey.variance` holds the formula and its sources). Estimates of the
whole population are methods of :class:`Design`; domain estimates (``by``, in
:mod:`pxlib.survey.domains`) use the full design with the domain indicator (zero
``z`` outside the domain), never a subset of rows. The result objects are in
:mod:`pxlib.survey.estimate`, the checks of columns and arguments in
:mod:`pxlib.survey.columns`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pxlib.distributions import norm_ppf, t_ppf
from pxlib.errors import ColumnError, DesignError, WeightingError
from pxlib.weighting._margins import check_base_weights, show
from pxlib.weighting.adjust import nonresponse_adjust as _nr_adjust
from pxlib.weighting.adjust import poststratify_fit
from pxlib.weighting.adjust import trim as _trim
from pxlib.weighting.calibration import calibrate_fit
from pxlib.weighting.diagnostics import kish_ess, weight_summary
from pxlib.weighting.raking import rake_fit

from .ci import proportion_ci
from .columns import check_01, check_ddf, check_level, column_of, numeric_column
from .domains import Domains
from .estimate import DesignWarning, Estimate
from .variance import CalStep, LinearisedVariance, dot, make_step

__all__ = ["CalStep", "Design", "DesignWarning", "Domains", "Estimate", "make_step"]


class Design(LinearisedVariance):
    """A survey design: weights, strata, one stage of clusters, fpc, history.

    ``Design(df, weights="pw", strata=None, clusters=None, fpc=None)``; every
    argument naming data is a column name (weights may also be an array or a
    Series aligned with ``df``; None means weight 1). ``lonely_psu``: what to do
    with a stratum holding a single PSU: ``"fail"`` (default, as R), ``"certainty"``
    (it adds no variance) or ``"adjust"`` (centred at the mean of all PSUs).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        weights=None,
        strata: str | None = None,
        clusters: str | None = None,
        fpc=None,
        *,
        lonely_psu: str = "fail",
    ):
        if not isinstance(df, pd.DataFrame):
            raise DesignError("Design needs a pandas DataFrame of respondents")
        if lonely_psu not in ("fail", "certainty", "adjust"):
            raise DesignError(f"lonely_psu must be fail, certainty or adjust, not {lonely_psu!r}")
        self._df = df.copy(deep=False)
        n = len(df)
        try:
            if isinstance(weights, str):
                wcol = column_of(df, weights, "weights")
                if not (pd.api.types.is_numeric_dtype(wcol) or pd.api.types.is_bool_dtype(wcol)):
                    raise DesignError(f"weights column {weights!r} is not numeric")
                w = wcol.to_numpy(dtype=float, na_value=np.nan)
            elif isinstance(weights, pd.Series):
                if weights.index.equals(df.index):
                    w = weights.to_numpy(dtype=float, na_value=np.nan)
                elif not weights.index.is_unique:
                    raise DesignError(
                        "design weights: the Series' index has duplicate labels, so it cannot "
                        "be matched with the data's rows; give an array in row order"
                    )
                else:
                    lost = ~df.index.isin(weights.index)
                    if lost.any():
                        raise DesignError(
                            f"design weights: {int(lost.sum())} of the data's rows have no "
                            f"weight in the Series (first: row {show(df.index[lost][0])}); "
                            "its index does not match the data's"
                        )
                    w = weights.reindex(df.index).to_numpy(dtype=float, na_value=np.nan)
            else:
                w = weights
            self._w = check_base_weights(w, n, True, "design weights")
        except (WeightingError, ValueError, TypeError) as exc:
            if isinstance(exc, DesignError | ColumnError):
                raise
            if isinstance(exc, WeightingError):
                raise DesignError(str(exc)) from exc
            raise DesignError("design weights must be numbers; some values are not") from exc
        self._w.setflags(write=False)
        self._spec = dict(
            weights=(weights if isinstance(weights, str) else "1" if weights is None else "given"),
            strata=strata,
            clusters=clusters,
            fpc=fpc,
            lonely_psu=lonely_psu,
        )
        self._lonely = lonely_psu
        # strata
        if strata is None:
            self._stratum = np.zeros(n, dtype=np.int64)
            self._strata_labels = [None]
        else:
            s = column_of(df, strata, "strata")
            if s.isna().any():
                raise DesignError(f"strata column {strata!r} has {int(s.isna().sum())} missing")
            codes, labels = pd.factorize(s, sort=True)
            self._stratum = codes.astype(np.int64)
            self._strata_labels = list(labels)
        H = len(self._strata_labels)
        # PSUs, nested in strata
        if clusters is None:
            self._psu = None
            psu_stratum = self._stratum
        else:
            c = column_of(df, clusters, "clusters")
            if c.isna().any():
                raise DesignError(f"clusters column {clusters!r} has missing values")
            ccode = pd.factorize(c)[0].astype(np.int64)
            key = self._stratum * (int(ccode.max()) + 1) + ccode
            ukey, psu = np.unique(key, return_inverse=True)
            self._psu = psu.ravel()
            psu_stratum = ukey // (int(ccode.max()) + 1)
        self._psu_stratum = np.asarray(psu_stratum, dtype=np.int64)
        self._n_psu = self._psu_stratum.size
        self._n_h = np.bincount(self._psu_stratum, minlength=H).astype(float)
        # finite population correction
        self._fpc_factor = np.ones(H)
        if fpc is not None:
            try:
                if isinstance(fpc, str):
                    fcol = column_of(df, fpc, "fpc")
                    if not pd.api.types.is_numeric_dtype(fcol):
                        raise ValueError(f"column {fpc!r} is not numeric")
                    f = fcol.to_numpy(dtype=float, na_value=np.nan)
                else:
                    f = np.broadcast_to(np.asarray(fpc, dtype=float), (n,))
            except (ValueError, TypeError) as exc:
                if isinstance(exc, ColumnError):
                    raise
                raise DesignError(
                    "fpc must be a numeric column name, one number, or one number per row "
                    f"({n} rows): population sizes or sampling fractions"
                ) from exc
            if not np.all(np.isfinite(f)) or (f <= 0).any():
                raise DesignError("fpc must be positive: population sizes, or sampling fractions")
            fh = np.full(H, np.nan)
            fh[self._stratum] = f
            chk = np.zeros(H)
            np.maximum.at(chk, self._stratum, np.abs(f - fh[self._stratum]))
            if (chk > 1e-9 * np.abs(fh)).any():
                raise DesignError("fpc must be constant within each stratum")
            frac = np.where(fh <= 1, fh, self._n_h / fh)
            if (frac > 1 + 1e-12).any():
                raise DesignError("fpc: more PSUs sampled than the population holds in a stratum")
            self._fpc_factor = 1.0 - frac
        self._steps: tuple[CalStep, ...] = ()
        # the weights right after the last calibration step (None: no step yet)
        self._w_cal: np.ndarray | None = None
        self._history: tuple[dict, ...] = (
            {"step": "design", "detail": self._describe(), **self._wsummary(self._w)},
        )

    # ------------------------------------------------------------------ basics
    def _describe(self) -> str:
        s = self._spec
        parts = [f"weights={s['weights']}"]
        for k in ("strata", "clusters", "fpc"):
            if s[k] is not None:
                parts.append(f"{k}={s[k]}")
        return ", ".join(parts)

    @staticmethod
    def _wsummary(w: np.ndarray) -> dict:
        row = weight_summary(w).iloc[0].to_dict()
        return {k: row.get(k, np.nan) for k in ("total", "min", "max", "ratio", "ess", "deff")}

    def _new(self, w: np.ndarray, step: CalStep | None, entry: dict) -> Design:
        out = object.__new__(Design)
        out.__dict__.update(self.__dict__)
        w = np.asarray(w, dtype=float).copy()
        w.setflags(write=False)
        out._w = w
        out._steps = self._steps + ((step,) if step is not None else ())
        if step is not None:
            out._w_cal = w
        out._history = self._history + ({**entry, **self._wsummary(w)},)
        return out

    @property
    def data(self) -> pd.DataFrame:
        return self._df

    @property
    def weights(self) -> pd.Series:
        """The current weights, aligned with the data's index."""
        return pd.Series(self._w, index=self._df.index, name="weight")

    @property
    def history(self) -> pd.DataFrame:
        """How the weights were made: one row per step, with a weight summary."""
        return pd.DataFrame(list(self._history))

    @property
    def degf(self) -> float:
        """Design degrees of freedom: PSUs minus strata (positive-weight rows)."""
        cached = self.__dict__.get("_degf_cache")
        if cached is not None and cached[0] is self._w:
            return cached[1]
        val = float(self._count_df(self._w > 0))
        self.__dict__["_degf_cache"] = (self._w, val)
        return val

    def _wfacts(self) -> tuple[bool, int, float, float]:
        """(all weights positive, count positive, sum w, Kish ESS), cached per weights."""
        cached = self.__dict__.get("_wfacts_cache")
        if cached is not None and cached[0] is self._w:
            return cached[1]
        pos = self._w > 0
        npos = int(np.count_nonzero(pos))
        val = (npos == self._w.size, npos, float(self._w.sum()), kish_ess(self._w))
        self.__dict__["_wfacts_cache"] = (self._w, val)
        return val

    def _count_df(self, mask: np.ndarray) -> int:
        if self._psu is None:
            n_psu = int(np.count_nonzero(mask))
        else:
            n_psu = int(np.count_nonzero(np.bincount(self._psu[mask], minlength=self._n_psu)))
        H = len(self._strata_labels)
        n_strata = (
            1 if H == 1 else int(np.count_nonzero(np.bincount(self._stratum[mask], minlength=H)))
        )
        return n_psu - (n_strata if mask.any() else 0)

    def summary(self) -> pd.DataFrame:
        """One-row summary of the weights (min, max, ratio, ESS, deff...)."""
        return weight_summary(self._w)

    def __len__(self) -> int:
        return len(self._df)

    def __repr__(self) -> str:
        return f"Design(n={len(self)}, {self._describe()}, steps={len(self._history) - 1})"

    # --------------------------------------------------------------- weighting
    def rake(
        self,
        margins: pd.DataFrame | dict,
        tol: float = 1e-6,
        max_iter: int = 100,
        *,
        variance: str = "calibration",
        total: float | None = None,
        allow_zero: bool = True,
    ) -> Design:
        """Rake to categorical margins (see :func:`pxlib.weighting.rake`).

        ``variance="calibration"`` (default): SEs from the residuals of the
        regression on the margins' model matrix weighted by the weights before
        raking, exactly as ``calibrate(method="raking")`` (the Deville-Särndal
        linearisation). ``variance="r_rake"``: R ``rake()``'s approximation
        (repeated post-stratification of the linearised values, which converges
        to their projection on the margins with equal weights).
        """
        if variance not in ("calibration", "r_rake"):
            raise DesignError(f"variance must be 'calibration' or 'r_rake', not {variance!r}")
        fit = rake_fit(self._df, margins, self._w, tol, max_iter, total, allow_zero)
        from pxlib.weighting._margins import model_matrix

        X = model_matrix(fit.cells.level_codes, fit.cells.sizes)
        X = X[:, np.any(X != 0, axis=0)]
        reg = self._w if variance == "calibration" else np.ones_like(self._w)
        step = make_step(fit.cells.row_cell, X, reg)
        entry = {
            "step": "rake",
            "detail": f"margins {fit.names}, {fit.iterations} sweeps, gap {fit.gap:.2g}",
        }
        return self._new(fit.weights, step, entry)

    def calibrate(
        self,
        margins: pd.DataFrame | dict,
        method: str = "linear",
        bounds: tuple[float, float] | None = None,
        *,
        tol: float = 1e-10,
        max_iter: int = 50,
        total: float | None = None,
        allow_zero: bool = True,
    ) -> Design:
        """Calibrate to totals (see :func:`pxlib.weighting.calibrate`).

        Zero design weights stay 0 (``allow_zero``), as after a non-response
        adjustment.
        """
        fit = calibrate_fit(
            self._df, margins, self._w, method, bounds, tol, max_iter, total, allow_zero
        )
        step = make_step(fit.unit, fit.X, self._w)
        entry = {
            "step": "calibrate",
            "detail": f"{method}, bounds {bounds}, {fit.iterations} iterations",
        }
        return self._new(fit.weights, step, entry)

    def poststratify(
        self, cells: str | Sequence[str], totals: dict | pd.Series | pd.DataFrame
    ) -> Design:
        """Post-stratify (see :func:`pxlib.weighting.poststratify`)."""
        fit = poststratify_fit(self._df, cells, totals, self._w, True)
        step = make_step(fit.unit, fit.X, self._w)
        return self._new(fit.weights, step, {"step": "poststratify", "detail": f"{cells}"})

    def trim(
        self, lower: float | None = None, upper: float | None = None, strict: bool = False
    ) -> Design:
        """Trim weights, sharing out the difference (see :func:`pxlib.weighting.trim`).

        The design keeps its calibration: SEs after the trim use the residuals of
        (w_trim / w_cal) z from the last calibration step's model, times w_cal, as R's
        ``svyrecvar`` does after ``trimWeights()`` on a raked, calibrated or
        post-stratified design (:meth:`_changed_since_calibration`)."""
        w = _trim(self._w, lower, upper, strict=strict).to_numpy()
        return self._new(w, None, {"step": "trim", "detail": f"[{lower}, {upper}]"})

    def nonresponse_adjust(self, responded: str, classes: str | Sequence[str]) -> Design:
        """Weighting-class non-response adjustment; non-respondents get weight 0."""
        w = _nr_adjust(self._df, responded, classes, self._w).to_numpy()
        return self._new(w, None, {"step": "nonresponse_adjust", "detail": f"{classes}"})

    # --------------------------------------------------------------- estimates
    def _interval(self, est, se, level, ddf):
        level = check_level(level)
        ddf = check_ddf(ddf)
        df = self.degf if ddf is None else ddf
        q = norm_ppf(0.5 + level / 2) if np.isinf(df) else t_ppf(0.5 + level / 2, df)
        return est - q * se, est + q * se, df

    def total(self, col: str, level: float = 0.95, ddf: float | None = None) -> Estimate:
        """Weighted total sum w y (missing y left out); SE by linearisation, z = y.

        The interval uses t quantiles with the design df; ``ddf=np.inf`` gives R's
        normal interval.
        """
        y = numeric_column(self._df, col)
        m = ~np.isnan(y)
        if not (m & (self._w > 0)).any():
            raise DesignError(f"column {col!r}: no respondent with a value and a positive weight")
        y0 = np.where(m, y, 0.0)
        est = float(dot(self._w, y0))
        se = float(self._se_from_z(y0))
        lo, hi, df = self._interval(est, se, level, ddf)
        return Estimate(est, se, lo, hi, level, df, "wald", int(m.sum()), f"total({col})")

    def _mean_parts(self, col: str, y: np.ndarray | None = None) -> tuple[float, np.ndarray, int]:
        if y is None:
            y = numeric_column(self._df, col)
        m = ~np.isnan(y)
        full = bool(m.all())
        wm = self._w if full else np.where(m, self._w, 0.0)
        W = self._wfacts()[2] if full else wm.sum()
        if W <= 0:
            raise DesignError(f"column {col!r}: no respondent with a value and a positive weight")
        y0 = y if full else np.where(m, y, 0.0)
        est = float(dot(wm, y0) / W)
        z = y0 - est
        z /= W
        if not full:
            z[~m] = 0.0
        return est, z, (y.size if full else int(m.sum()))

    def mean(self, col: str, level: float = 0.95, ddf: float | None = None) -> Estimate:
        """Weighted mean sum w y / sum w; z = (y - mean) / sum w."""
        est, z, n = self._mean_parts(col)
        se = float(self._se_from_z(z))
        lo, hi, df = self._interval(est, se, level, ddf)
        return Estimate(est, se, lo, hi, level, df, "wald", n, f"mean({col})")

    def ratio(
        self, numerator: str, denominator: str, level: float = 0.95, ddf: float | None = None
    ) -> Estimate:
        """Ratio of totals R = Y/X; z = (y - R x) / X (rows with both values)."""
        y = numeric_column(self._df, numerator)
        x = numeric_column(self._df, denominator)
        m = ~(np.isnan(y) | np.isnan(x))
        y0, x0 = np.where(m, y, 0.0), np.where(m, x, 0.0)
        X = float(dot(self._w, x0))
        if X == 0:
            raise DesignError(f"ratio: the weighted total of {denominator!r} is 0")
        R = float(dot(self._w, y0) / X)
        se = float(self._se_from_z((y0 - R * x0) / X))
        lo, hi, df = self._interval(R, se, level, ddf)
        return Estimate(
            R, se, lo, hi, level, df, "wald", int(m.sum()), f"ratio({numerator}/{denominator})"
        )

    def proportion(self, col: str, method: str = "logit", level: float = 0.95) -> Estimate:
        """Proportion of a 0/1 (or boolean) column with a ``svyciprop`` interval.

        Methods: logit, likelihood, beta, asin, mean, xlogit, wilson (see
        :mod:`pxlib.survey.ci`); quantiles use the design df.
        """
        y = numeric_column(self._df, col)
        check_01(y, col)
        level = check_level(level)
        est, z, n = self._mean_parts(col, y)
        all_pos, npos, _, ess = self._wfacts()
        if all_pos and n == y.size:
            ones, n_keep = int(np.count_nonzero(y == 1)), n
        else:
            keep = (self._w > 0) & ~np.isnan(y)
            ones, n_keep = int(np.count_nonzero(y[keep] == 1)), int(np.count_nonzero(keep))
            ess = kish_ess(self._w[keep])
        if ones in (0, n_keep):
            # everyone agrees: exact 0 or 1, no rounding residue in p or its SE
            est, se = float(ones > 0), 0.0
        else:
            se = float(self._se_from_z(z))
        lo, hi = proportion_ci(est, se, self.degf, method, level, n=npos, ess=ess)
        return Estimate(
            est, se, float(lo), float(hi), level, self.degf, method, n, f"proportion({col})"
        )

    def by(self, cols: str | Sequence[str]) -> Domains:
        """Domain estimates: ``d.by("unit").mean("y")`` gives one row per domain."""
        return Domains(self, [cols] if isinstance(cols, str) else list(cols))
