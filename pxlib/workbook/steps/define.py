"""Notebook 02 (define): the current share, sample sizes, the criteria's evidence, records.

:func:`current_share`, :func:`sampling_table` and :func:`sampling_alt` (precision
and detection per sample size), :func:`criteria_evidence` (what the data say for
each Always Event criterion), :func:`weighting_variables`,
:func:`expected_per_week`, :func:`unit_status` (the one-page plan's status) and
:func:`define_record` (the batch index's record).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.errors import DataValidationError
from pxlib.workbook import measures
from pxlib.workbook.steps.insight import question_shares
from pxlib.workbook.steps.measurement import reliability

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData
    from pxlib.workbook.aims import AimCheck

SAMPLING_HEADERS = {
    "n_per_week": "Patients a week",
    "plus_minus": "One week: ± (95% CI)",
    "median_weeks": "Weeks until half the teams see the change",
    "weeks_80": "Weeks until 80% see it",
    "detected_share": "Teams seeing it within the weeks simulated",
    "false_alarm_share": "False alarms before the change",
}


def current_share(
    data: WorkbookData, unit: str, *, weeks: int = 12, weighted: bool = True
) -> float:
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
    data: WorkbookData,
    check: AimCheck,
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


def weighting_variables(data: WorkbookData, unit: str, *, weighted: bool = True) -> list[str]:
    """The variables of ``unit``'s eligible-patient margins its shares are raked to
    (empty when unweighted), for the operational definition."""
    if not weighted:
        return []
    eligible = measures.eligible_margins(getattr(data, "margins", None))
    own = eligible[eligible["unit"].astype(str) == unit]
    return list(dict.fromkeys(own["variable"].astype(str)))


def expected_per_week(
    data: WorkbookData, unit: str, *, weeks_per_margin: float = 52.0
) -> float | None:
    """Patients expected to leave ``unit`` a week: its eligible-patient margin total
    (one variable's levels summed, the largest if they differ) ÷ ``weeks_per_margin``
    (margins count a year of discharges by default); None without such margins."""
    eligible = measures.eligible_margins(getattr(data, "margins", None))
    own = eligible[eligible["unit"].astype(str) == unit]
    if own.empty:
        return None
    total = own.groupby("variable")["population"].sum().max()
    return float(total) / weeks_per_margin


def unit_status(
    data: WorkbookData, unit: str, *, target: float | str = 0.95, weighted: bool = True
) -> pd.Series | None:
    """The unit's reading (a row of :func:`pxlib.workbook.reading.read_units`), or None
    when it has no survey answers yet: what the one-page plan prints as its status."""
    try:
        rel = reliability(data, target=target, weighted=weighted, units=[unit])
    except DataValidationError:
        return None
    rows = rel.readings[rel.readings["unit"] == unit]
    return rows.iloc[0] if len(rows) else None


def define_record(unit: str, check: AimCheck, advice: dict, target: float) -> dict:
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
