"""Process audits recorded by staff, charted and read as the survey measures are.

An Always Event's process measures say whether the team reliably does what makes
it happen: "% of discharges where teach-back was done" is counted by staff on the
ward, not asked of patients. ``audits.csv`` (schema
:data:`pxlib.data.journey_schemas.AUDITS`) holds, per unit, audit date and
measure, the ``opportunities`` audited and in how many the step was ``done``.

- :func:`audit_weekly`: per measure, unit and ISO week (Monday), the pooled share
  p = Σ done / Σ opportunities over the week's audits, with a 95 % Wilson
  interval (Wilson 1927), in the columns of
  :func:`pxlib.workbook.measures.weekly_share` (``y`` = done, ``n`` =
  opportunities), so every display helper takes it unchanged;
- :func:`audit_chart` / :func:`audit_charts`: one p chart per measure (every unit
  of it in one call), with the survey measures' frozen baselines, confirmed
  phases and **reading** (:func:`pxlib.workbook.steps.read_weekly`, hence
  :func:`pxlib.workbook.reading.read_units`): the same verdict words, captions and
  next steps. p-chart limits p̄ ± 3·√(p̄(1 − p̄)/nᵢ) (Montgomery, *Introduction
  to Statistical Quality Control*, ch. 7; exact binomial limits where few
  failures are expected, as for the survey measures).

**Small numbers.** An audit week rests on its opportunities, i.e. on patients,
so it takes the one small-number rule of :mod:`pxlib.disclosure`: the
opportunities are the ``n_respondents`` that :func:`pxlib.workbook.display.spc_view`
and the reading hide a week or a phase by (fewer than ``min_respondents``
opportunities: not shown).

Without audits the functions return None (or an empty dict) and
:func:`pxlib.workbook.gather.missing_file` says which file to add, with its columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.data.schemas import FILE_NAMES
from pxlib.errors import DataValidationError
from pxlib.survey.ci import wilson_interval
from pxlib.workbook import steps
from pxlib.workbook.measures import SHARE_COLUMNS

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData

#: the columns of :func:`audit_weekly`, in order
WEEKLY_COLUMNS = (
    "org_code",
    "measure_id",
    "measure_name",
    "unit",
    "week",
    "opportunities",
    "done",
    *SHARE_COLUMNS,
    "y",
    "n",
)


def audit_weekly(data: WorkbookData) -> pd.DataFrame:
    """Per measure, unit and week: the audits pooled, in :func:`weekly_share`'s columns.

    ``opportunities`` and ``done`` are the week's sums over its audit dates;
    ``share`` = done / opportunities; ``ci_low``/``ci_high`` the 95 % Wilson
    interval; ``n_respondents`` = ``ess`` = ``n`` = opportunities (every
    opportunity counts once: no weights, ``weighted`` False) and ``n_happened`` =
    ``y`` = done. Weeks with no opportunity are left out (a gap on the chart,
    never a zero). Empty (with these columns) when there are no audits.
    """
    audits = getattr(data, "audits", None)
    if audits is None or audits.empty:
        return pd.DataFrame(columns=list(WEEKLY_COLUMNS))
    frame = audits.copy()
    if "measure_name" not in frame.columns:
        frame["measure_name"] = ""
    frame["measure_name"] = frame["measure_name"].astype("string").fillna("")
    keys = ["org_code", "measure_id", "unit", "week"]
    out = frame.groupby(keys, as_index=False, sort=True).agg(
        measure_name=("measure_name", "first"),
        opportunities=("opportunities", "sum"),
        done=("done", "sum"),
    )
    out = out[out["opportunities"] > 0].reset_index(drop=True)
    n = out["opportunities"].to_numpy(float)
    share = out["done"].to_numpy(float) / n
    out["n_respondents"] = out["opportunities"].astype(int)
    out["n_happened"] = out["done"].astype(int)
    out["share"] = share
    out["ci_low"], out["ci_high"] = wilson_interval(share, n)
    out["ess"] = n
    out["weighted"] = False
    out["y"] = out["done"].astype(float)
    out["n"] = n
    return out[list(WEEKLY_COLUMNS)]


def measure_label(weekly: pd.DataFrame, measure_id: str) -> str:
    """'TB1: Teach-back done before discharge' (the id alone when the file names none)."""
    names = weekly.loc[weekly["measure_id"] == measure_id, "measure_name"].astype(str)
    name = next((v for v in names if v.strip()), "")
    return f"{measure_id}: {name}" if name else str(measure_id)


def audit_charts(
    data: WorkbookData,
    *,
    target: float | str = 0.95,
    kind: str = "p",
    rules: str | Sequence[str] | None = None,
    improvement: str = "increase",
    phases: str = "confirmed",
    limits: str = "auto",
    min_respondents: int | None = None,
) -> dict[str, steps.Reliability]:
    """{measure id: its chart and readings}, one :class:`~pxlib.workbook.steps.Reliability` per measure.

    Each measure is charted and read as the survey outcome is
    (:func:`pxlib.workbook.steps.read_weekly` with the PDSA log): every unit of
    the measure in one chart (``by`` = unit), baselines frozen before the
    unit's first PDSA cycle, phases that the data confirm (``phases`` =
    "confirmed", or "adopted"), the reading of each unit against ``target``
    (0.95, 95 or "95%"). ``min_respondents`` is the small-number rule on the
    opportunities audited. Empty when there are no audits.
    """
    weekly = audit_weekly(data)
    out: dict[str, steps.Reliability] = {}
    for measure_id, own in weekly.groupby("measure_id", sort=True):
        own = own.reset_index(drop=True)
        plan, result, readings = steps.read_weekly(
            own,
            data.pdsa_log,
            target=target,
            kind=kind,
            rules=rules,
            improvement=improvement,
            phases=phases,
            limits=limits,
            y_label=f"{measure_label(own, measure_id)} (% of opportunities)",
            min_respondents=min_respondents,
        )
        readings.insert(0, "measure_id", measure_id)
        out[str(measure_id)] = steps.Reliability(
            weekly=own, plan=plan, result=result, readings=readings
        )
    return out


def audit_chart(
    data: WorkbookData, measure_id: str | None = None, **options: Any
) -> steps.Reliability | None:
    """The chart and readings of one audited measure (:func:`audit_charts`), or None without audits.

    ``measure_id`` may be left out when the data hold one measure only; with
    several, name one (the error lists them). ``options`` are those of
    :func:`audit_charts`.
    """
    weekly = audit_weekly(data)
    if weekly.empty:
        return None
    ids = sorted(weekly["measure_id"].astype(str).unique())
    if measure_id is None:
        if len(ids) > 1:
            raise DataValidationError(
                f"{FILE_NAMES['audits']} holds {fmt.count(len(ids), 'measure')} "
                f"({fmt.literals(ids)}): choose one with measure_id"
            )
        measure_id = ids[0]
    if measure_id not in ids:
        raise DataValidationError(
            f"measure {fmt.literal(measure_id)} is not in {FILE_NAMES['audits']} "
            f"(measures: {fmt.literals(ids)})"
        )
    return audit_charts(data, **options)[measure_id]


def audit_summary(charts: dict[str, steps.Reliability]) -> pd.DataFrame:
    """One row per measure and unit: what the audits show, from each unit's reading.

    Columns: ``measure_id``, ``measure``, ``unit``, ``weeks`` (weeks audited),
    ``opportunities`` (over all weeks), ``verdict``, ``estimate`` (current
    phase, %, hidden by the small-number rule as in the reading), ``reason``,
    ``next_step``.
    """
    rows = []
    for measure_id, aud in charts.items():
        weekly = aud.weekly
        totals = weekly.groupby("unit").agg(
            weeks=("week", "nunique"), opportunities=("opportunities", "sum")
        )
        for r in aud.readings.itertuples(index=False):
            rows.append(
                {
                    "measure_id": measure_id,
                    "measure": measure_label(weekly, measure_id),
                    "unit": r.unit,
                    "weeks": int(totals.loc[r.unit, "weeks"]),
                    "opportunities": int(totals.loc[r.unit, "opportunities"]),
                    "verdict": r.verdict,
                    "estimate": float(r.estimate) if np.isfinite(r.estimate) else np.nan,
                    "reason": r.reason,
                    "next_step": r.next_step,
                }
            )
    cols = [
        "measure_id",
        "measure",
        "unit",
        "weeks",
        "opportunities",
        "verdict",
        "estimate",
        "reason",
        "next_step",
    ]
    return pd.DataFrame(rows, columns=cols)
