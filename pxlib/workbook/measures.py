"""The workbook's measures: weekly shares per unit, PDSA phases, charts.

The thin glue between :mod:`pxlib.data`, the weighting and survey modules and
:func:`pxlib.spc.chart` that every notebook needs, so that notebook cells only
name what they want:

- :func:`weekly_share`: per unit and week, the share of patients for whom the
  Always Event happened, weighted to the organisation's population when margins
  are given (raking on the respondents), with the effective sample size and a
  95 % interval;
- :func:`adopted_phase_starts`: a new chart phase from the first week after each
  adopted PDSA cycle's end date;
- :func:`measure_chart`: the p chart (or run chart) of those shares, in percent.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pxlib.errors import ChartWarning, ColumnError, DataValidationError, WeightingWarning

WEEK = pd.Timedelta(days=7)


def margins_dict(margins: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The margins table (``variable``, ``level``, ``population``) as {variable: {level: total}}."""
    if margins is None or len(margins) == 0:
        return {}
    missing = [c for c in ("variable", "level", "population") if c not in margins.columns]
    if missing:
        raise ColumnError(f"the margins table has no column(s) {missing}")
    out: dict[str, dict[str, float]] = {}
    for var, level, pop in margins[["variable", "level", "population"]].itertuples(index=False):
        out.setdefault(str(var), {})[str(level)] = float(pop)
    return out


def respondent_weights(scored: pd.DataFrame, margins: pd.DataFrame | None) -> pd.Series:
    """A raking weight per respondent (index ``respondent_id``) to the population ``margins``.

    Raking (iterative proportional fitting, Deming and Stephan 1940) through
    :func:`pxlib.weighting.rake` on one row per respondent, to the margins of the
    organisation. Margin variables absent from the responses are skipped;
    respondents with a missing attribute keep the mean weight of the others.
    Without margins every weight is 1.
    """
    people = scored.drop_duplicates("respondent_id").reset_index(drop=True)
    spec = margins_dict(margins) if margins is not None else {}
    spec = {v: lv for v, lv in spec.items() if v in people.columns}
    if not spec or people.empty:
        return pd.Series(
            1.0, index=pd.Index(people["respondent_id"], name="respondent_id"), name="weight"
        )
    from pxlib.weighting import rake

    frame = people[list(spec)].astype("string")
    complete = frame.notna().all(axis=1) & np.logical_and.reduce(
        [frame[v].isin(list(levels)) for v, levels in spec.items()]
    )
    weights = pd.Series(np.nan, index=people.index)
    fitted = rake(frame[complete].astype(str), spec)
    weights[complete] = np.asarray(fitted, dtype=float)
    weights = weights.fillna(weights.mean() if complete.any() else 1.0)
    return pd.Series(
        weights.to_numpy(),
        index=pd.Index(people["respondent_id"], name="respondent_id"),
        name="weight",
    )


def _wilson(p: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (Wilson 1927) for a proportion p from an (effective) sample size n."""
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def scored_with_sites(
    data, measure_type: str | None = "outcome", question_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """``data.scored(...)`` with the unit's ``site_code`` and ``site_name`` added (from units.csv)."""
    scored = data.scored(measure_type=measure_type, question_ids=question_ids)
    units = getattr(data, "units", None)
    if units is not None and len(units) and {"unit", "site_code"} <= set(units.columns):
        cols = [c for c in ("unit", "site_code", "site_name") if c in units.columns]
        scored = scored.merge(units[cols].drop_duplicates("unit"), on="unit", how="left")
    return scored


def weekly_share(
    data,
    *,
    measure_type: str | None = "outcome",
    question_ids: Sequence[str] | None = None,
    by: Sequence[str] = ("unit", "week"),
    weighted: bool = True,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Per ``by`` group (unit and week by default): the share for whom it happened.

    ``data`` is a :class:`pxlib.data.WorkbookData`. ``by`` may name any column of
    the scored responses (``unit``, ``week``, ``age_band``, ...) and the unit's
    ``site_code``/``site_name``; ``start``/``end`` keep answers in those weeks.
    Columns: the ``by`` columns (plus ``question_id`` when several questions are
    chosen), ``n_respondents`` (answers counted: don't-know and blank answers
    leave the denominator), ``n_happened``, ``share`` (weighted when ``weighted``
    and the organisation has margins: the whole organisation raked to its
    margins, each group a domain estimate, :func:`pxlib.survey.summaries.always_event_share`),
    ``ess`` (Kish effective sample size), ``ci_low``, ``ci_high`` (95 % Wilson),
    ``weighted``, and ``y`` = share × ess, ``n`` = ess for a p chart.
    """
    scored = scored_with_sites(data, measure_type, question_ids)
    if start is not None:
        scored = scored[scored["week"] >= pd.Timestamp(start)]
    if end is not None:
        scored = scored[scored["week"] <= pd.Timestamp(end)]
    by = list(by)
    if scored["question_id"].nunique() > 1 and "question_id" not in by:
        by = ["question_id", *by]
    missing = [c for c in by if c not in scored.columns]
    if missing:
        raise ColumnError(f"the scored responses have no column(s) {missing}")
    use_margins = weighted and data.margins is not None and len(data.margins) > 0
    try:
        from pxlib.survey.summaries import always_event_share
    except ImportError:  # pragma: no cover - the survey module ships with pxlib
        always_event_share = None
    if always_event_share is not None and len(scored):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeightingWarning)
            agg = always_event_share(
                scored, by=tuple(by), margins=data.margins if use_margins else None
            )
        agg = agg.drop(columns=[c for c in ("se",) if c in agg.columns])
    else:
        agg = _weekly_share_simple(scored, by, data.margins if use_margins else None)
    agg["weighted"] = agg["weighted"].astype(bool) & use_margins
    agg["n_happened"] = agg["n_happened"].astype(int)
    agg["y"] = agg["share"] * agg["ess"]
    agg["n"] = agg["ess"]
    return agg.reset_index(drop=True)


def _weekly_share_simple(scored: pd.DataFrame, by: list[str], margins) -> pd.DataFrame:
    """Fallback of :func:`weekly_share`: raked weights, ratio estimate, Wilson on the ESS."""
    w = respondent_weights(scored, margins)
    scored = scored[scored["happened"].notna()].copy()
    scored["_w"] = scored["respondent_id"].map(w).astype(float).fillna(1.0)
    scored["_w2"] = scored["_w"] ** 2
    scored["_wh"] = scored["_w"] * scored["happened"]
    scored["_k"] = 1
    agg = (
        scored.groupby(by, sort=True, observed=True)
        .agg(
            n_respondents=("_k", "sum"),
            n_happened=("happened", "sum"),
            sw=("_w", "sum"),
            sw2=("_w2", "sum"),
            swh=("_wh", "sum"),
        )
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        agg["share"] = agg["swh"] / agg["sw"]
        agg["ess"] = agg["sw"] ** 2 / agg["sw2"]
    lo, hi = _wilson(agg["share"].to_numpy(float), agg["ess"].to_numpy(float))
    agg["ci_low"], agg["ci_high"] = lo, hi
    agg["weighted"] = margins is not None and len(margins) > 0
    return agg.drop(columns=["sw", "sw2", "swh"])


def adopted_phase_starts(
    pdsa_log: pd.DataFrame,
    weeks: pd.DataFrame | pd.Series | None = None,
    *,
    by: str = "unit",
    adopt: Sequence[str] = ("adopt",),
) -> dict:
    """Where new chart phases begin: the first week after each adopted PDSA cycle's end date.

    A cycle whose ``decision`` is ``adopt`` ends on ``end_date``; its change is in
    place from the Monday after the week holding that date (a cycle ending on a
    Friday 2 January starts the phase on Monday 5 January). With ``weeks`` (a
    table with ``by`` and ``week`` columns, e.g. from :func:`weekly_share`) each
    start moves to the unit's first charted week on or after it and starts
    after the unit's last week are dropped. Returns {unit: [week, ...]}, the form
    :func:`pxlib.spc.chart` takes as ``phases``. Cycles without an end date are
    still running and start nothing.
    """
    for col in (by, "end_date", "decision"):
        if col not in pdsa_log.columns:
            raise ColumnError(f"the PDSA log has no column {col!r}")
    wanted = {a.strip().lower() for a in adopt}
    log = pdsa_log[pdsa_log["decision"].astype("string").str.strip().str.lower().isin(wanted)]
    end = pd.to_datetime(log["end_date"], errors="coerce")
    log = log.assign(_end=end)[end.notna()]
    monday = log["_end"].dt.normalize() - pd.to_timedelta(log["_end"].dt.day_of_week, unit="D")
    log = log.assign(_start=monday + WEEK)
    grid = None
    if weeks is not None:
        grid = weeks[[by, "week"]] if isinstance(weeks, pd.DataFrame) else None
    out: dict = {}
    for unit, g in log.groupby(by, sort=True):
        starts = sorted(set(g["_start"]))
        if grid is not None:
            own = np.sort(pd.to_datetime(grid.loc[grid[by] == unit, "week"]).unique())
            if len(own) == 0:
                continue
            pos = np.searchsorted(own, np.asarray(starts, dtype="datetime64[ns]"), side="left")
            starts = sorted({pd.Timestamp(own[p]) for p in pos if 0 < p < len(own)})
        if starts:
            out[unit] = [pd.Timestamp(s) for s in starts]
    return out


def measure_chart(
    weekly: pd.DataFrame,
    *,
    kind: str = "p",
    by: str | Sequence[str] | None = "unit",
    phases=None,
    freeze: int | None = None,
    target: float | None = None,
    improvement: str = "increase",
    rules=None,
    y_label: str = "Patients for whom it happened (%)",
    x: str = "week",
):
    """A chart of weekly shares in percent (``y``/``n`` from :func:`weekly_share`).

    ``kind`` "p" (control chart on the effective sample sizes) or "run" (median
    centre line). ``target`` is a proportion (0.95) and is charted as 95 %. The
    engine's caveat warnings (trial limits, gaps) stay in ``summary['warning']``
    rather than being printed.
    """
    from pxlib.spc import chart

    y_col, n_col = "y", "n"
    missing = [c for c in (x, y_col, n_col) if c not in weekly.columns]
    if missing:
        raise ColumnError(
            f"the weekly table has no column(s) {missing}; make it with weekly_share()"
        )
    if weekly.empty:
        raise DataValidationError(
            "no weekly values to chart: the organisation has no survey answers"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        return chart(
            weekly,
            x,
            y_col,
            n_col,
            kind=kind,
            by=by,
            phases=phases,
            freeze=freeze,
            multiply=100,
            improvement=improvement,
            target=None if target is None else 100 * target,
            rules=rules,
            y_label=y_label,
        )
