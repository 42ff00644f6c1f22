"""Equality: does the improvement reach every group of patients?

For each unit, the share for whom the Always Event happened is estimated per
level of each recorded patient attribute (age band, sex, ethnic group,
deprivation quintile, and disability, interpreter need and carers where the
responses record them), in two periods: before the unit's latest phase (its
change) and since. Each share has its 95 % interval (the measures' own
estimator, weighted when the unit's measures are), and the change per group is

    change = share_since − share_before,   se = √(se_before² + se_since²),

with se read back from each interval (half its width ÷ 1.96), a normal
approximation. A group *is reached* when the interval of the change lies above
zero, *not clearly reached* when it contains zero, and *worse* when it lies below.
Groups with fewer answers than the small-number rule allows
(:func:`pxlib.disclosure.small_numbers`) in either period are not shown and say so.
Units without a phase change get the shares by group over the whole period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.workbook import measures

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData
    from pxlib.workbook.steps import Reliability

#: respondent attributes compared, in the order shown: (name in a table, name in a sentence)
ATTRIBUTES = {
    "age_band": ("Age band", "age"),
    "sex": ("Sex", "sex"),
    "ethnicity": ("Ethnic group", "ethnic group"),
    "deprivation_quintile": ("Deprivation quintile (1 = most deprived)", "deprivation quintile"),
    "disability": ("Disability", "disability"),
    "interpreter": ("Needs an interpreter", "interpreter needed"),
    "carer": ("Is a carer", "carer"),
}
_SENTENCE_NAME = {table: words for table, words in ATTRIBUTES.values()}


def attribute_words(variables: Iterable[str]) -> str:
    """Respondent attributes in a sentence: ``("age_band", "sex")`` -> "age and sex"."""
    return fmt.join(ATTRIBUTES.get(v, (v, str(v).replace("_", " ")))[1] for v in variables)


Z95 = 1.959963984540054
READINGS = ("reached", "not clearly reached", "worse", "too few to tell")
COLUMNS = [
    "unit",
    "attribute",
    "level",
    "n_before",
    "share_before",
    "n_since",
    "share_since",
    "ci_low",
    "ci_high",
    "change",
    "change_low",
    "change_high",
    "reading",
    "compared",
]


def _windows(rel) -> dict[str, tuple]:
    """{unit: (last week before its latest phase, first week of it)} or (None, None)."""
    weeks = {}
    for unit in rel.weekly["unit"].unique():
        starts = rel.plan.phases.get(unit) or []
        if starts:
            start = pd.Timestamp(starts[-1])
            weeks[unit] = (start - pd.Timedelta(days=7), start)
        else:
            weeks[unit] = (None, None)
    return weeks


def _shares(data, attribute: str, start, end, weighted: bool) -> pd.DataFrame:
    table = measures.weekly_share(
        data, by=("unit", attribute), weighted=weighted, start=start, end=end
    )
    return table.rename(columns={attribute: "level"})[
        ["unit", "level", "n_respondents", "share", "ci_low", "ci_high"]
    ]


def by_group(
    data: WorkbookData,
    rel: Reliability,
    *,
    units: Sequence[str] | None = None,
    weighted: bool = True,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """The share by patient group before and since each unit's latest phase, and the reading.

    ``rel`` is notebook 03's :class:`pxlib.workbook.steps.Reliability` (its phase
    plan gives each unit's change). Columns: :data:`COLUMNS`; ``share_before`` and
    the change columns are NaN for a unit without a phase, ``reading`` one of
    :data:`READINGS` (blank without a phase), ``compared`` whether the unit has a
    phase to compare with. Figures resting on too few answers are blanked.
    """
    present = [a for a in ATTRIBUTES if a in data.responses.columns]
    present = [a for a in present if data.responses[a].fillna("").astype(str).ne("").any()]
    windows = _windows(rel)
    if units is not None:
        windows = {u: w for u, w in windows.items() if u in set(units)}
    rule = small_numbers(min_respondents)
    frames = []
    for (before_end, since_start), members in _grouped(windows).items():
        for attribute in present:
            since = _shares(data, attribute, since_start, None, weighted)
            since = since[since["unit"].isin(members)]
            if before_end is not None:
                before = _shares(data, attribute, None, before_end, weighted)
                before = before[before["unit"].isin(members)]
            else:
                before = since.iloc[0:0]
            merged = since.merge(
                before, on=["unit", "level"], how="outer", suffixes=("_since", "_before")
            )
            merged.insert(1, "attribute", ATTRIBUTES[attribute][0])
            merged["compared"] = before_end is not None
            frames.append(merged)
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return (
        _read(table, rule)
        .sort_values(["unit", "attribute", "level"], kind="stable")[COLUMNS]
        .reset_index(drop=True)
    )


def _grouped(windows: dict[str, tuple]) -> dict[tuple, list[str]]:
    out: dict[tuple, list[str]] = {}
    for unit, window in windows.items():
        out.setdefault(window, []).append(unit)
    return out


def _read(table: pd.DataFrame, rule) -> pd.DataFrame:
    """Change, its interval and the reading per row; blank what rests on too few answers."""
    t = table.rename(
        columns={
            "n_respondents_before": "n_before",
            "n_respondents_since": "n_since",
            "share_since": "share_since",
            "ci_low_since": "ci_low",
            "ci_high_since": "ci_high",
        }
    )
    t["n_before"] = t["n_before"].fillna(0).astype(int)
    t["n_since"] = t["n_since"].fillna(0).astype(int)
    se_before = (t["ci_high_before"] - t["ci_low_before"]) / (2 * Z95)
    se_since = (t["ci_high"] - t["ci_low"]) / (2 * Z95)
    t["change"] = t["share_since"] - t["share_before"]
    half = Z95 * np.sqrt(se_before**2 + se_since**2)
    t["change_low"], t["change_high"] = t["change"] - half, t["change"] + half
    few_since = rule.hides(t["n_since"]) | t["n_since"].eq(0).to_numpy()
    few_before = (rule.hides(t["n_before"]) | t["n_before"].eq(0).to_numpy()) & t[
        "compared"
    ].to_numpy()
    reading = np.select(
        [few_since | few_before, t["change_low"] > 0, t["change_high"] < 0],
        ["too few to tell", "reached", "worse"],
        "not clearly reached",
    )
    t["reading"] = np.where(t["compared"], reading, np.where(few_since, "too few to tell", ""))
    hide_since = few_since
    hide_change = few_since | few_before | ~t["compared"].to_numpy()
    t.loc[hide_since, ["share_since", "ci_low", "ci_high"]] = np.nan
    t.loc[hide_change, ["change", "change_low", "change_high"]] = np.nan
    t.loc[few_before | ~t["compared"].to_numpy(), "share_before"] = np.nan
    return t


def reach_sentence(table: pd.DataFrame, unit: str) -> str:
    """One plain sentence on whether the improvement reaches each group of ``unit``."""
    rows = table[table["unit"] == unit]
    shown = rows.dropna(subset=["share_since"])
    if rows.empty:
        return f"{unit}: no answers record the patients' groups, so equality cannot be checked."
    if shown.empty:
        return f"{unit}: too few answers in every group to tell."
    if not rows["compared"].any():
        low = shown.nsmallest(1, "share_since").iloc[0]
        return (
            f"{unit} has no change to compare yet; over the whole period it happens least "
            f"for {_SENTENCE_NAME[low['attribute']]} {low['level']} "
            f"({fmt.percent(low['share_since'])})."
        )
    not_reached = rows[rows["reading"].isin(["not clearly reached", "worse"])]
    few = rows[rows["reading"] == "too few to tell"]
    if not_reached.empty:
        told = [f"Since its change, {unit} improved for every group with enough answers to tell"]
    else:
        named = "; ".join(
            f"{_SENTENCE_NAME[r.attribute]} {r.level} ({fmt.percent(r.share_before)} to "
            f"{fmt.percent(r.share_since)}{', lower' if r.reading == 'worse' else ''})"
            for r in not_reached.itertuples(index=False)
        )
        told = [f"Since its change, {unit} has not clearly improved for: {named}"]
    if len(few):
        told.append(f"{fmt.count(len(few), 'group')} had too few answers to tell")
    return ". ".join(told) + "."
