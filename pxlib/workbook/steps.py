"""What each workbook step computes, as single calls for the notebooks.

- insight (01): :func:`organisation_label`, :func:`fft_for`, :func:`fft_by_ward`,
  :func:`fft_monthly_chart`, :func:`gpps_for`, :func:`share_by_group`,
  :func:`question_shares`;
- reliability (03): :func:`reliability` (weekly shares, frozen baselines and
  confirmed phases, the chart and each unit's reading in one call),
  :func:`read_weekly`, :func:`results_records`;
- spread and sustain (04): :func:`quarter_bounds`, :func:`quarter_funnel`,
  :func:`adoption_table`, :func:`sustain`, :func:`sustain_status`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.errors import ChartWarning, DataValidationError, PxlibWarning
from pxlib.escape import md_text
from pxlib.survey.ci import wilson_interval
from pxlib.workbook import baseline as _baseline
from pxlib.workbook import measures
from pxlib.workbook import reading as _reading
from pxlib.workbook.equality import ATTRIBUTES


def organisation_label(data) -> str:
    """'<organisation name> (<code>)', or the code alone when the name is unknown."""
    code = data.trust_code or "all organisations"
    try:
        row = data.organisation
    except KeyError:
        row = None
    name = str(row["org_name"]) if row is not None and "org_name" in row.index else ""
    return f"{name} ({code})" if name else str(code)


# --- 01 insight --------------------------------------------------------------------------


def fft_for(data, months: int = 12) -> pd.DataFrame:
    """The organisation's FFT rows (its own code or its sites/wards) in the last ``months`` months."""
    fft = data.fft
    if fft is None or fft.empty:
        return fft
    code = data.trust_code
    if code is not None:
        own = (fft["Org code"].astype(str) == code) | (fft["Parent org code"].astype(str) == code)
        if "Site code" in fft.columns:
            own |= fft["Site code"].astype(str).str.startswith(code)
        fft = fft[own]
    if len(fft) and months:
        last = pd.Timestamp(fft["period"].max())
        fft = fft[fft["period"] > last - pd.DateOffset(months=months)]
    return fft.reset_index(drop=True)


def fft_by_ward(fft: pd.DataFrame) -> pd.DataFrame:
    """FFT % positive and % negative per ward over the rows given, with a 95 % Wilson interval.

    Columns: ``ward``, ``total_responses``, ``prop_positive``, ``prop_negative``,
    ``ci_low``, ``ci_high`` (of % positive), sorted weakest first.
    """
    from pxlib.survey.summaries import fft_scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PxlibWarning)
        scores = fft_scores(fft, by=["Ward name"])
    out = scores.rename(columns={"Ward name": "ward"})
    lo, hi = wilson_interval(out["prop_positive"].to_numpy(float), out["total_responses"].to_numpy(float))
    out["ci_low"], out["ci_high"] = lo, hi
    cols = ["ward", "total_responses", "prop_positive", "prop_negative", "ci_low", "ci_high"]
    return out[cols].sort_values("prop_positive", kind="stable").reset_index(drop=True)


def fft_monthly_chart(fft: pd.DataFrame):
    """A p chart (small multiples, one per ward) of monthly FFT % positive."""
    from pxlib.spc import chart
    from pxlib.survey.summaries import fft_scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PxlibWarning)
        scores = fft_scores(fft, by=["Ward name", "period"])
    scores = scores.rename(columns={"Ward name": "ward"})
    scores = scores[scores["total_responses"] > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        result = chart(
            scores,
            "period",
            "n_positive",
            "total_responses",
            kind="p",
            by="ward",
            multiply=100,
            improvement="increase",
            y_label="FFT: % positive",
        )
    respondents = scores[["ward", "period", "total_responses"]].rename(
        columns={"period": "month", "total_responses": "n_respondents"}
    )
    return result, respondents


def gpps_for(data, question: str = "q28") -> pd.DataFrame:
    """GP Patient Survey results of the organisation's catchment practices for one question.

    Columns: ``practice_code``, ``practice_name``, ``received``, ``base``,
    ``share`` (the published weighted %, as a proportion; missing where
    suppressed), ``ci_low``, ``ci_high`` (Wilson on the weighted base, an
    approximation: the published base is weighted) and ``suppressed``.
    """
    gpps = data.gpps
    if gpps is None or gpps.empty:
        return pd.DataFrame(
            columns=[
                "practice_code",
                "practice_name",
                "received",
                "base",
                "share",
                "ci_low",
                "ci_high",
                "suppressed",
            ]
        )
    codes = set(data.catchment_practices["org_code"])
    rows = gpps[gpps["practice_code"].isin(codes)] if codes else gpps.iloc[0:0]
    base_col, pct_col = f"{question}base", f"{question}_12pct"
    if base_col not in rows.columns or pct_col not in rows.columns:
        raise DataValidationError(f"the GP Patient Survey file has no {base_col}/{pct_col} columns")
    out = pd.DataFrame(
        {
            "practice_code": rows["practice_code"].to_numpy(),
            "practice_name": rows["practice_name"].to_numpy() if "practice_name" in rows else "",
            "received": pd.to_numeric(rows["received"], errors="coerce").to_numpy(),
            "base": pd.to_numeric(rows[base_col], errors="coerce").to_numpy(float),
            "share": pd.to_numeric(rows[pct_col], errors="coerce").to_numpy(float),
        }
    )
    flag = f"{pct_col}_suppressed"
    sup = rows[flag].to_numpy(bool) if flag in rows.columns else np.zeros(len(rows), bool)
    out["suppressed"] = sup | out["share"].isna().to_numpy()
    out.loc[out["suppressed"], ["share", "base"]] = np.nan
    lo, hi = wilson_interval(out["share"].to_numpy(float), out["base"].to_numpy(float))
    out["ci_low"], out["ci_high"] = lo, hi
    return out.sort_values("share", kind="stable", na_position="last").reset_index(drop=True)


GROUP_NAMES = {
    name: ATTRIBUTES[name][0] for name in ("age_band", "sex", "deprivation_quintile", "ethnicity")
}


def share_by_group(
    data,
    groups: Sequence[str] = ("age_band", "sex", "deprivation_quintile", "ethnicity"),
    *,
    measure_type: str = "outcome",
    weighted: bool = True,
) -> pd.DataFrame:
    """The (weighted) share per level of each respondent attribute: who it happens for least.

    Long table: ``group`` (the attribute), ``level``, ``n_respondents``,
    ``share``, ``ci_low``, ``ci_high``, ``weighted``.
    """
    frames = []
    for g in groups:
        t = measures.weekly_share(data, measure_type=measure_type, by=(g,), weighted=weighted)
        if t.empty:
            continue
        t = t.rename(columns={g: "level"})
        t.insert(0, "group", GROUP_NAMES.get(g, g))
        t["level"] = t["level"].astype(str)
        frames.append(
            t[["group", "level", "n_respondents", "share", "ci_low", "ci_high", "weighted"]]
        )
    if not frames:
        return pd.DataFrame(
            columns=["group", "level", "n_respondents", "share", "ci_low", "ci_high", "weighted"]
        )
    return pd.concat(frames, ignore_index=True)


def question_shares(data, *, weighted: bool = True) -> pd.DataFrame:
    """The organisation's share per question (all questions), for the shortlist."""
    return measures.weekly_share(data, measure_type=None, by=("org_code",), weighted=weighted)


# --- 03 reliability ------------------------------------------------------------------------


@dataclass
class Reliability:
    """Everything notebook 03 shows: weekly shares, the phase plan, the chart, the readings.

    ``readings`` (one row per unit, :func:`pxlib.workbook.reading.read_units`) is
    the one source of every verdict, caption and icon, and ``result`` is the
    chart made to agree with it (:func:`pxlib.workbook.reading.consistent_result`);
    ``verdicts`` is the same
    table under its older name, and ``phases`` the plan's {unit: [phase starts]}.
    """

    weekly: pd.DataFrame
    plan: _baseline.PhasePlan
    result: object
    readings: pd.DataFrame

    @property
    def verdicts(self) -> pd.DataFrame:
        return self.readings

    @property
    def phases(self) -> dict:
        return self.plan.phases


def reliability(
    data,
    *,
    target: float | str = 0.95,
    kind: str = "p",
    rules=None,
    weighted: bool = True,
    measure_type: str = "outcome",
    units: Sequence[str] | None = None,
    start=None,
    end=None,
    improvement: str = "increase",
    phases: str = "confirmed",
    limits: str = "auto",
    min_respondents: int | None = None,
) -> Reliability:
    """Weekly shares per unit, baselines and confirmed phases, the chart and each unit's reading.

    ``target`` may be 0.95, 95 or "95%" (the chart is in percent). ``phases``:
    "confirmed" (an adopted cycle starts a phase only when the data confirm a
    sustained change against the frozen baseline, :mod:`pxlib.workbook.baseline`)
    or "adopted" (every adopted cycle starts a phase, as before). ``limits``:
    "auto" (exact binomial limits where few failures are expected a week),
    "exact" or "normal"; run charts have none. ``units`` limits the units.
    """
    weekly = measures.weekly_share(
        data, measure_type=measure_type, weighted=weighted, start=start, end=end
    )
    if units:
        weekly = weekly[weekly["unit"].isin(list(units))].reset_index(drop=True)
    if weekly.empty:
        who = data.trust_code or "the data"
        raise DataValidationError(
            f"{who}: no answers in the local survey (responses file) for the units and weeks "
            "chosen, so there is nothing to chart yet; collect answers with the form written by "
            "notebook 02, or check trust_code and data_dir"
        )
    plan, result, readings = read_weekly(
        weekly,
        data.pdsa_log,
        target=target,
        kind=kind,
        rules=rules,
        improvement=improvement,
        phases=phases,
        limits=limits,
        min_respondents=min_respondents,
    )
    return Reliability(weekly=weekly, plan=plan, result=result, readings=readings)


def read_weekly(
    weekly: pd.DataFrame,
    pdsa_log: pd.DataFrame | None,
    *,
    target: float | str | None = 0.95,
    kind: str = "p",
    rules=None,
    improvement: str = "increase",
    phases: str = "confirmed",
    limits: str = "auto",
    y_label: str = "Patients for whom it happened (%)",
    min_respondents: int | None = None,
):
    """(plan, chart, readings) of a weekly table with ``unit``, ``week``, ``y``, ``n``
    (and ``n_respondents``, for the small-number rule).

    The baselines and phases (:func:`pxlib.workbook.baseline.plan_phases`), one
    chart of every unit, each unit's reading (:func:`pxlib.workbook.reading.read_units`)
    and the chart made to agree with the readings
    (:func:`pxlib.workbook.reading.consistent_result`), which is the one returned.
    """
    chart_kw = dict(
        kind=kind,
        rules=rules,
        multiply=100,
        target=None if target is None else 100 * _reading.target_share(target),
        y_label=y_label,
    )
    if kind == "p":
        chart_kw["limits"] = limits
    plan = _baseline.plan_phases(weekly, pdsa_log, mode=phases, improvement=improvement, **chart_kw)
    result = _baseline.chart_units(
        weekly, freeze=plan.freeze, phases=plan.phases, improvement=improvement, **chart_kw
    )
    counts = weekly[["unit", "week", "n_respondents"]] if "n_respondents" in weekly else None
    readings = _reading.read_units(
        result, plan=plan, respondents=counts, min_respondents=min_respondents
    )
    return plan, _reading.consistent_result(result, readings), readings


def unit_status(data, unit: str, *, target: float | str = 0.95, weighted: bool = True):
    """The unit's reading (a row of :func:`pxlib.workbook.reading.read_units`), or None
    when it has no survey answers yet: what the one-page plan prints as its status."""
    try:
        rel = reliability(data, target=target, weighted=weighted, units=[unit])
    except DataValidationError:
        return None
    rows = rel.readings[rel.readings["unit"] == unit]
    return rows.iloc[0] if len(rows) else None


def plan_text(rel: Reliability) -> str:
    """Markdown: each unit's baseline and what became of its adopted PDSA cycles."""

    lines = []
    base = rel.plan.baselines
    cycles = rel.plan.cycles
    for row in base.itertuples(index=False) if len(base) else []:
        text = (
            f"- **{md_text(row.unit)}**: baseline {row.baseline_from:%d %b %Y} to "
            f"{row.baseline_to:%d %b %Y}, {row.baseline_weeks} weeks with answers: "
            f"{md_text(row.baseline_reason)}"
        )
        own = cycles[cycles["unit"] == row.unit] if len(cycles) else cycles
        for c in own.itertuples(index=False):
            when = f" from {c.effect_from:%d %b %Y}" if pd.notna(c.effect_from) else ""
            what = {
                "confirmed": f"a new phase{when}: the data confirm a sustained change",
                "no change yet": "no new phase: no sustained change yet",
                "too early to tell": "no new phase yet: too early to tell",
                "before the data": "ended before the first week with answers: not judged",
                "adopted": f"a new phase{when} (every adopted cycle starts one)",
            }[c.status]
            text += f"; adopted cycle {md_text(c.cycle_id)}: {what}"
        lines.append(text + ".")
    if not lines and rel.phases:
        lines = [
            f"- **{md_text(u)}**: new phases from "
            + ", ".join(f"{d:%d %b %Y}" for d in starts)
            + " (every adopted PDSA cycle)."
            for u, starts in rel.phases.items()
        ]
    head = "**Baselines and phases** (change is judged against each unit's frozen baseline):"
    return head + "\n\n" + ("\n".join(lines) if lines else "No phases: every week is one phase.")


#: weeks of history in the index's sparkline of each unit
RECENT_SPARK_WEEKS = 26


def _recent_values(weekly: pd.DataFrame, latest_week, rule) -> tuple[pd.Timestamp, list]:
    """(first week, weekly percentages) of the last RECENT_SPARK_WEEKS weeks; None where not shown."""
    last = pd.Timestamp(latest_week)
    weeks = pd.date_range(end=last, periods=RECENT_SPARK_WEEKS, freq="7D")
    shown = weekly[~rule.hides(weekly["n_respondents"])] if len(weekly) else weekly
    by_week = dict(zip(pd.to_datetime(shown["week"]), 100 * shown["share"], strict=True))
    values = [by_week.get(w) for w in weeks]
    return weeks[0], [
        None if v is None or not np.isfinite(v) else round(float(v), 1) for v in values
    ]


def results_records(
    readings: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    weekly: pd.DataFrame | None = None,
    extra: dict | None = None,
    improvement: str = "increase",
) -> list[dict]:
    """One record per unit for :func:`pxlib.report.record_results`, from its reading.

    Keys: ``unit``, ``verdict``, ``signal``, ``since``, ``variation_type``,
    ``assurance_type``, ``latest_week``, ``latest_value`` and
    ``n_respondents`` (answers that week; both null when the small-number rule
    of :mod:`pxlib.disclosure` hides them), ``estimate``, ``ci_low``,
    ``ci_high`` (the current phase's share and its one-sided 95 % bounds),
    ``reason`` and ``next_step``,
    ``recent_values`` (the charted weekly percentage of the last
    :data:`RECENT_SPARK_WEEKS` weeks to the latest, ``None`` where a week had
    no answers or too few to show) from ``recent_from``, ``value_format``
    ("percent") and ``improvement``, for the index's sparkline and icons,
    plus ``extra`` columns of ``readings`` ({record key: column}).
    """
    rule = small_numbers(min_respondents)
    records = []
    for row in readings.itertuples(index=False):
        latest = float(row.latest_value) if pd.notna(row.latest_value) else None
        n_latest = None
        if weekly is not None and latest is not None:
            hit = weekly[(weekly["unit"] == row.unit) & (weekly["week"] == row.latest_week)]
            if len(hit):
                n_latest = int(hit["n_respondents"].iloc[0])
        if n_latest is None or not rule.shows(n_latest):
            latest = n_latest = None

        def _round(v):
            return None if v is None or not np.isfinite(v) else round(float(v), 1)

        rec = {
            "unit": row.unit,
            "verdict": row.verdict,
            "signal": row.signal,
            "since": None if pd.isna(row.since) else row.since,
            "variation_type": row.variation_type,
            "assurance_type": row.assurance_type,
            "latest_week": row.latest_week,
            "n_respondents": n_latest,
            "latest_value": _round(latest),
            "estimate": _round(row.estimate),
            "ci_low": _round(row.ci_low),
            "ci_high": _round(row.ci_high),
            "reason": row.reason,
            "next_step": row.next_step,
            "value_format": "percent",
            "improvement": improvement,
        }
        if weekly is not None and pd.notna(row.latest_week):
            rec["recent_from"], rec["recent_values"] = _recent_values(
                weekly[weekly["unit"] == row.unit], row.latest_week, rule
            )
        for key, col in (extra or {}).items():
            rec[key] = getattr(row, col)
        records.append(rec)
    return records


# --- 04 spread and sustain -------------------------------------------------------------------


def quarter_bounds(weeks: pd.Series, quarter: str = "") -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """(first Monday, last Monday, label) of ``quarter`` ("2026Q2"), or of the latest quarter with data."""
    weeks = pd.to_datetime(pd.Series(weeks)).dropna()
    if weeks.empty:
        raise DataValidationError("no weeks with data")
    period = pd.Period(quarter, freq="Q") if quarter else pd.Timestamp(weeks.max()).to_period("Q")
    inside = weeks[(weeks >= period.start_time) & (weeks <= period.end_time)]
    if inside.empty:
        raise DataValidationError(f"no survey weeks in {period}: choose another quarter")
    return pd.Timestamp(inside.min()), pd.Timestamp(inside.max()), str(period)


def quarter_funnel(data, *, quarter: str = "", weighted: bool = True):
    """Funnel plot input and result for the weighted share per unit over one quarter.

    Returns ``(funnel_result, table, label)``; ``table`` has the unit's
    ``n_respondents``, ``share``, ``ess``, ``y``, ``n`` for the quarter.
    """
    from pxlib.spc import funnel

    weekly = measures.weekly_share(data, weighted=weighted)
    start, end, label = quarter_bounds(weekly["week"], quarter)
    table = measures.weekly_share(data, by=("unit",), weighted=weighted, start=start, end=end)
    table = table[table["n"] > 0].reset_index(drop=True)
    result = funnel(
        table,
        "unit",
        "y",
        "n",
        kind="p",
        multiply=100,
        y_label=f"Patients for whom it happened (%), {label}",
    )
    return result, table, label


def adoption_table(data, rel: Reliability, *, weighted: bool = True) -> pd.DataFrame:
    """Which units adopted a change (a PDSA cycle decided 'adopt') and how they do since.

    One row per unit: ``unit``, ``site``, ``adopted`` (yes/no), ``cycle``,
    ``change_idea``, ``since`` (first week of the new phase), ``weeks_since``,
    ``n_respondents``, ``share_since`` with ``ci_low``/``ci_high`` (weighted),
    and the unit's ``verdict``.
    """
    log = data.pdsa_log
    adopted = log[log["decision"].astype("string").str.strip().str.lower() == "adopt"]
    units = sorted(rel.weekly["unit"].unique())
    site = {}
    if len(data.units) and "site_name" in data.units.columns:
        site = dict(zip(data.units["unit"], data.units["site_name"], strict=False))
    rows = []
    for unit in units:
        starts = rel.phases.get(unit, [])
        cycles = adopted[adopted["unit"] == unit].sort_values("end_date")
        row = {
            "unit": unit,
            "site": site.get(unit, ""),
            "adopted": "yes" if len(cycles) else "no",
            "cycle": ", ".join(cycles["cycle_id"].astype(str)),
            "change_idea": str(cycles["change_idea"].iloc[-1]) if len(cycles) else "",
            "since": starts[0] if starts else pd.NaT,
        }
        if starts:
            since = measures.weekly_share(data, by=("unit",), weighted=weighted, start=starts[0])
            since = since[since["unit"] == unit]
            weeks = rel.weekly[(rel.weekly["unit"] == unit) & (rel.weekly["week"] >= starts[0])]
            row["weeks_since"] = int(weeks["week"].nunique())
            if len(since):
                s = since.iloc[0]
                row.update(
                    n_respondents=int(s["n_respondents"]),
                    share_since=float(s["share"]),
                    ci_low=float(s["ci_low"]),
                    ci_high=float(s["ci_high"]),
                )
        verdict = rel.verdicts.loc[rel.verdicts["unit"] == unit, "verdict"]
        row["verdict"] = verdict.iloc[0] if len(verdict) else ""
        rows.append(row)
    cols = [
        "unit",
        "site",
        "adopted",
        "cycle",
        "change_idea",
        "since",
        "weeks_since",
        "n_respondents",
        "share_since",
        "ci_low",
        "ci_high",
        "verdict",
    ]
    return pd.DataFrame(rows).reindex(columns=cols)


def sustain(rel: Reliability, *, freeze_weeks: int = 20, rules=None) -> Reliability | None:
    """Sustain charts: each reliable unit's current phase with limits frozen from its first weeks.

    The reliable phase's first ``freeze_weeks`` weeks (fewer when the phase is
    shorter) fix the centre line and limits; later weeks are judged against
    them, so a fall shows as special-cause concern instead of dragging the
    limits down with it. Returns the sustain chart with each unit's reading of
    it, or None when no unit is reliable.
    """
    reliable = rel.readings.loc[rel.readings["verdict"] == "reliable", "unit"].tolist()
    if not reliable:
        return None
    weekly = rel.weekly[rel.weekly["unit"].isin(reliable)].copy()
    keep = np.ones(len(weekly), bool)
    for unit in reliable:
        starts = rel.phases.get(unit, [])
        if starts:
            keep &= ~((weekly["unit"] == unit) & (weekly["week"] < starts[-1])).to_numpy()
    weekly = weekly[keep]
    spec = rel.result.spec
    kw = dict(
        kind=spec.kind,
        rules=rules,
        multiply=spec.multiply,
        target=spec.target,
        improvement=spec.improvement,
        y_label="Sustain: patients for whom it happened (%)",
    )
    if spec.kind == "p":
        kw["limits"] = spec.limits
    plan = _baseline.PhasePlan(mode="sustain", freeze={u: freeze_weeks for u in reliable})
    result = _baseline.chart_units(weekly, freeze=plan.freeze, phases={}, **kw)
    readings = _reading.read_units(result, plan=plan)
    shown = _reading.consistent_result(result, readings)
    return Reliability(weekly=weekly, plan=plan, result=shown, readings=readings)


SUSTAIN_ADVICE = {
    "deteriorating": (
        "The gains are slipping against what the reliable process gave: find out what "
        "changed and restart PDSA testing."
    ),
    "holding": (
        "The gains are holding on the frozen limits: keep the changes in standard work and "
        "keep measuring weekly until the step-down rule allows monthly measurement."
    ),
}


def sustain_status(sustained: Reliability) -> pd.DataFrame:
    """Per unit on its sustain chart: ``holding`` or ``deteriorating``, from its reading.

    Columns: ``unit``, ``weeks_after_baseline``, ``status``, ``evidence``, ``advice``.
    """
    pts = sustained.result.points
    after = pts[~pts["baseline"].astype(bool) & np.isfinite(pts["y"].to_numpy(float))]
    weeks = after.groupby("unit").size()
    r = sustained.readings
    status = np.where(r["signal"].isin(["concern", "both"]), "deteriorating", "holding")
    return pd.DataFrame(
        {
            "unit": r["unit"],
            "weeks_after_baseline": r["unit"].map(weeks).fillna(0).astype(int),
            "status": status,
            "evidence": r["evidence"],
            "advice": [SUSTAIN_ADVICE[s] for s in status],
        }
    )


def about_data(data) -> str:
    """A Markdown line saying whose data these are, how many respondents, units and weeks."""
    label = organisation_label(data)
    resp = data.responses
    parts = [f"**Organisation:** {md_text(label)}."]
    if resp is not None and len(resp):
        n_people = resp["respondent_id"].nunique() if "respondent_id" in resp.columns else len(resp)
        weeks = pd.to_datetime(resp["response_date"])
        parts.append(
            f"**Local survey:** {n_people:,} respondents in {resp['unit'].nunique()} units, "
            f"{weeks.min():%d %b %Y} to {weeks.max():%d %b %Y}."
        )
    else:
        parts.append("**Local survey:** no answers yet.")
    if "(synthetic)" in label or "synthetic" in str(getattr(data, "data_dir", "")).lower():
        parts.append("*These are SYNTHETIC sample data for training: no real patient or service.*")
    elif str(getattr(data, "data_dir", "")).replace("\\", "/").rstrip("/").endswith("data/sample"):
        parts.append("*These are SYNTHETIC sample data for training: no real patient or service.*")
    return " ".join(parts)


def default_unit(data) -> str:
    """The unit a team most likely starts with: most PDSA cycles logged, then most answers."""
    units = units_of(data)
    if not units:
        raise DataValidationError("the organisation has no units with survey answers")
    resp = data.responses
    answers = (
        resp.groupby("unit")["respondent_id"].nunique() if len(resp) else pd.Series(dtype=float)
    )
    log = data.pdsa_log
    cycles = log.groupby("unit").size() if len(log) else pd.Series(dtype=float)
    ranked = sorted(units, key=lambda u: (-cycles.get(u, 0), -answers.get(u, 0), u))
    return ranked[0]


def units_of(data, weekly: pd.DataFrame | None = None) -> list[str]:
    """The organisation's units with survey answers (sorted), else those in units.csv."""
    if weekly is not None and len(weekly):
        return sorted(weekly["unit"].unique())
    if data.responses is not None and len(data.responses):
        return sorted(data.responses["unit"].unique())
    return sorted(data.units["unit"].unique()) if len(data.units) else []


def verdict_lines(verdicts: pd.DataFrame) -> list[str]:
    """'<unit>: <verdict>' per unit, for a short printed summary."""
    return [f"{r.unit}: {r.verdict}" for r in verdicts.itertuples(index=False)]


def family_chart(
    data,
    measure_type: str,
    *,
    phases: dict | None = None,
    kind: str = "p",
    weighted: bool = True,
    rules=None,
):
    """Weekly chart of the process or balancing questions per unit (and question).

    Balancing measures count something that should not rise (lower is
    better); process measures should rise. Returns ``(result, weekly)`` or
    ``(None, empty)`` when the question bank has no such measure.
    """
    bank = data.question_bank
    qids = list(dict.fromkeys(bank.loc[bank["measure_type"] == measure_type, "question_id"]))
    if not qids:
        return None, pd.DataFrame()
    weekly = measures.weekly_share(data, question_ids=qids, weighted=weighted)
    if weekly.empty:
        return None, weekly
    if "question_id" not in weekly.columns:
        weekly.insert(0, "question_id", qids[0])
    wording = bank.drop_duplicates("question_id").set_index("question_id")["wording"]
    label = "; ".join(f"{q}: {wording.get(q, '')}" for q in qids)
    by = ["question_id", "unit"] if len(qids) > 1 else ["unit"]
    ph = None
    if phases:
        if len(by) == 2:
            ph = {(q, u): v for u, v in phases.items() for q in qids}
        else:
            ph = phases
    result = measures.measure_chart(
        weekly,
        kind=kind,
        by=by,
        phases=ph,
        target=None,
        rules=rules,
        improvement="decrease" if measure_type == "balancing" else "increase",
        y_label=f"{measure_type.capitalize()} measure (%): {label}",
    )
    return result, weekly


PDSA_HEADERS = {
    "cycle_id": "Cycle",
    "unit": "Unit",
    "start_date": "Started",
    "end_date": "Ended",
    "change_idea": "Change idea",
    "prediction": "Prediction",
    "what_happened": "What happened",
    "decision": "Decision",
}


def pdsa_table(data) -> pd.DataFrame:
    """The organisation's PDSA log for display (a cycle with no decision is 'still running')."""
    log = data.pdsa_log
    cols = [c for c in PDSA_HEADERS if c in log.columns]
    out = log[cols].copy()
    if "decision" in out.columns:
        out["decision"] = out["decision"].astype("string").fillna("still running")
    sort = [c for c in ("unit", "start_date") if c in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True) if sort else out


def site_chart(
    data,
    *,
    target: float | str = 0.95,
    kind: str = "p",
    rules=None,
    weighted: bool = True,
    improvement: str = "increase",
    limits: str = "auto",
) -> Reliability | None:
    """Weekly share per site (all units of a site together), read as units are.

    Returns a :class:`Reliability` whose ``unit`` column holds the site name
    (so every display helper works unchanged), or None without site names.
    Sites have no PDSA cycles of their own: their baselines are frozen as for
    a unit with none.
    """
    weekly = measures.weekly_share(data, by=("site_name", "week"), weighted=weighted)
    if weekly.empty:
        return None
    weekly = weekly.assign(unit=weekly["site_name"].astype(str))
    plan, result, readings = read_weekly(
        weekly,
        None,
        target=target,
        kind=kind,
        rules=rules,
        improvement=improvement,
        limits=limits,
        y_label="Patients for whom it happened (%), by site",
    )
    return Reliability(weekly=weekly, plan=plan, result=result, readings=readings)


def spread_records(
    rel: Reliability,
    adoption: pd.DataFrame,
    status: pd.DataFrame | None,
    *,
    min_respondents: int | None = None,
) -> list[dict]:
    """Per unit: the :func:`results_records` keys plus ``adopted`` and ``sustain_status``."""
    records = results_records(rel.readings, weekly=rel.weekly, min_respondents=min_respondents)
    adopted = dict(zip(adoption["unit"], adoption["adopted"], strict=False))
    sustain_ = {} if status is None else dict(zip(status["unit"], status["status"], strict=False))
    for rec in records:
        rec["adopted"] = adopted.get(rec["unit"], "no")
        rec["sustain_status"] = sustain_.get(rec["unit"], "")
    return records


def weakest_text(groups: pd.DataFrame, *, min_respondents: int | None = None) -> str:
    """Words naming the lowest shown level of each group (for alt text and summaries)."""
    shown = groups[~small_numbers(min_respondents).hides(groups["n_respondents"])]
    if shown.empty:
        return "Too few answers to compare groups."
    parts = []
    for g, rows in shown.groupby("group", sort=False):
        low = rows.loc[rows["share"].idxmin()]
        parts.append(f"{g}: lowest for {low['level']} ({low['share']:.0%})")
    return "; ".join(parts) + "."


def themes_text(counts: pd.DataFrame, *, min_respondents: int | None = None, top: int = 3) -> str:
    """Words naming the most mentioned themes that may be shown."""
    shown = counts[~small_numbers(min_respondents).hides(counts["n_mentions"])].head(top)
    if shown.empty:
        return "no theme is mentioned often enough to show."
    return "; ".join(f"{r.theme} ({r.share:.0%})" for r in shown.itertuples(index=False)) + "."


def insight_records(
    data,
    problems_by_unit: pd.DataFrame,
    ranked: pd.DataFrame,
    *,
    weighted: bool = True,
    min_respondents: int | None = None,
) -> list[dict]:
    """Per unit for the batch index: answers, share over the whole period, the theme most
    raised as a problem (``problems_by_unit`` from
    :func:`pxlib.workbook.themes.count_theme_polarity` with ``by="unit"``; praise never
    counts), and the team's leading candidate (:func:`pxlib.workbook.codesign.rank_candidates`)."""
    per_unit = measures.weekly_share(data, by=("unit",), weighted=weighted)
    top_candidate = str(ranked["statement"].iloc[0]) if len(ranked) else ""
    rule = small_numbers(min_respondents)
    raised = problems_by_unit[
        (problems_by_unit["n_negative"] > 0) & ~rule.hides(problems_by_unit["n_negative"])
    ]
    records = []
    for row in per_unit.itertuples(index=False):
        shown = rule.shows(row.n_respondents)
        top = raised.loc[raised["unit"] == row.unit, "theme"]
        records.append(
            {
                "unit": row.unit,
                "n_respondents": int(row.n_respondents) if shown else None,
                "latest_value": round(100 * float(row.share), 1) if shown else None,
                "top_theme": str(top.iloc[0]) if len(top) else "",
                "top_candidate": top_candidate,
            }
        )
    return records


# --- 02 define ---------------------------------------------------------------------------------

SAMPLING_HEADERS = {
    "n_per_week": "Patients a week",
    "plus_minus": "One week: ± (95% CI)",
    "median_weeks": "Weeks until half the teams see the change",
    "weeks_80": "Weeks until 80% see it",
    "detected_share": "Teams seeing it within the weeks simulated",
    "false_alarm_share": "False alarms before the change",
}


def current_share(data, unit: str, *, weeks: int = 12, weighted: bool = True) -> float:
    """The unit's (weighted) share over its last ``weeks`` weeks with answers (0.5 when none)."""
    weekly = measures.weekly_share(data, weighted=weighted)
    own = weekly[weekly["unit"] == unit]
    if own.empty:
        return 0.5
    last = sorted(own["week"].unique())[-weeks:]
    recent = measures.weekly_share(data, by=("unit",), weighted=weighted, start=last[0])
    share = recent.loc[recent["unit"] == unit, "share"]
    value = float(share.iloc[0]) if len(share) else 0.5
    return float(min(max(value, 0.01), 0.98))


def sampling_table(widths: pd.DataFrame, detect: pd.DataFrame) -> pd.DataFrame:
    """CI width and detection per sample size in one table (for display)."""
    return widths[["n_per_week", "plus_minus"]].merge(detect, on="n_per_week", how="left")


def sampling_alt(widths: pd.DataFrame, detect: pd.DataFrame) -> str:
    t = sampling_table(widths, detect)
    parts = [
        f"{int(r.n_per_week)} a week: ±{100 * r.plus_minus:.0f} points, "
        + (
            f"80% of teams see the change within {r.weeks_80:.0f} weeks"
            if pd.notna(r.weeks_80)
            else "fewer than 80% of teams see the change in the weeks simulated"
        )
        for r in t.itertuples(index=False)
    ]
    return (
        "Line chart of precision and detection time against patients asked a week. "
        + "; ".join(parts)
        + "."
    )


def criteria_evidence(
    data,
    check,
    *,
    unit: str,
    weighted: bool = True,
    min_respondents: int | None = None,
    problems: pd.DataFrame | None = None,
) -> dict:
    """What the data say for each of the four criteria (text for the checklist).

    *Important*: the themes most raised as problems in comments (``problems``
    from :func:`pxlib.workbook.themes.count_theme_polarity`; praise never
    counts) and, with ``votes.csv``, the patients' and carers' votes for the
    team's leading candidate. *Evidence-based*: the unit's current share.
    """
    from pxlib.workbook import codesign, themes

    out = {}
    if problems is None and data.responses is not None and "comment" in data.responses.columns:
        problems = themes.count_theme_polarity(themes.comments_per_respondent(data.responses))
    important = []
    if problems is not None and len(problems):
        rule = small_numbers(min_respondents)
        shown = problems[(problems["n_negative"] > 0) & ~rule.hides(problems["n_negative"])]
        if len(shown):
            important.append(
                "Most raised as problems in comments: "
                + "; ".join(
                    f"{r.theme} ({fmt.count(r.n_negative, 'comment')} of {fmt.number(r.n_comments)})"
                    for r in shown.head(2).itertuples(index=False)
                )
                + "."
            )
    ranked = codesign.rank_candidates(data, question_shares(data, weighted=weighted), unit=unit)
    if len(ranked):
        top = ranked.iloc[0]
        important.append(
            f"The team's leading candidate “{top['statement']}”: "
            + top[codesign.CRITERIA[0]].split(": ", 1)[-1]
        )
    out["Important to patients and families"] = " ".join(important) + (
        " Confirm with patients in co-design." if important else ""
    )
    share = current_share(data, unit, weighted=weighted)
    out["Evidence-based"] = (
        f"In {unit} it happens for about {fmt.percent(share)} of patients now (last 12 weeks): "
        "room to improve. Add published evidence the team knows."
    )
    out["Measurable"] = (
        "Aim has a percentage and a date."
        if check.measurable and check.dated
        else "Aim is not yet measurable and dated: " + " ".join(check.problems)
    )
    out["Affordable and sustainable"] = (
        "For the team to judge: staff time per patient, who does it on every shift."
    )
    return out


def weighting_variables(data, unit: str, *, weighted: bool = True) -> list[str]:
    """The variables of ``unit``'s eligible-patient margins its shares are raked to
    (empty when unweighted), for the operational definition."""
    if not weighted:
        return []
    eligible = measures.eligible_margins(getattr(data, "margins", None))
    own = eligible[eligible["unit"].astype(str) == unit]
    return list(dict.fromkeys(own["variable"].astype(str)))


def expected_per_week(data, unit: str, *, weeks_per_margin: float = 52.0) -> float | None:
    """Patients expected to leave ``unit`` a week: its eligible-patient margin total
    (one variable's levels summed, the largest if they differ) ÷ ``weeks_per_margin``
    (margins count a year of discharges by default); None without such margins."""
    eligible = measures.eligible_margins(getattr(data, "margins", None))
    own = eligible[eligible["unit"].astype(str) == unit]
    if own.empty:
        return None
    total = own.groupby("variable")["population"].sum().max()
    return float(total) / weeks_per_margin


def output_path(output_dir, trust_code: str, unit: str, what: str):
    """``<output_dir>/<trust>_<unit>_<what>.html`` with a file-safe unit name (the index links it)."""
    from pxlib.report.results import unit_file

    return unit_file(output_dir, trust_code, unit, what)


def define_record(unit: str, check, advice: dict, target: float) -> dict:
    """The batch-index record of notebook 02."""
    return {
        "unit": unit,
        "aim_measurable": check.measurable,
        "aim_dated": check.dated,
        "aim_problems": len(check.problems),
        "target": target,
        "by_when": check.by_when,
        "recommended_patients_a_week": advice["n_per_week"],
        "weeks_to_see_change_80": advice["weeks_80"],
    }
