"""Notebook 01 (what matters): the organisation's FFT and GPPS results, shares by group.

:func:`fft_for`, :func:`fft_by_ward`, :func:`fft_monthly_chart`, :func:`gpps_for`,
:func:`share_by_group` (who it happens for least), :func:`question_shares` (every
question, for the shortlist), :func:`weakest_text` and :func:`insight_records`
(the batch index's records).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.disclosure import small_numbers
from pxlib.errors import ChartWarning, DataValidationError, PxlibWarning
from pxlib.survey.ci import wilson_interval
from pxlib.workbook import measures
from pxlib.workbook.equality import ATTRIBUTES

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData
    from pxlib.spc.result import SPCResult


def fft_for(data: WorkbookData, months: int = 12) -> pd.DataFrame:
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
    lo, hi = wilson_interval(
        out["prop_positive"].to_numpy(float), out["total_responses"].to_numpy(float)
    )
    out["ci_low"], out["ci_high"] = lo, hi
    cols = ["ward", "total_responses", "prop_positive", "prop_negative", "ci_low", "ci_high"]
    return out[cols].sort_values("prop_positive", kind="stable").reset_index(drop=True)


def fft_monthly_chart(fft: pd.DataFrame) -> tuple[SPCResult, pd.DataFrame]:
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


def gpps_for(data: WorkbookData, question: str = "q28") -> pd.DataFrame:
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
    data: WorkbookData,
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


def question_shares(data: WorkbookData, *, weighted: bool = True) -> pd.DataFrame:
    """The organisation's share per question (all questions), for the shortlist."""
    return measures.weekly_share(data, measure_type=None, by=("org_code",), weighted=weighted)


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


def insight_records(
    data: WorkbookData,
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
