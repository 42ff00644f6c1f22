"""The synthetic sample's survey answers: respondents drawn for every trust, unit and week,
and their answers, with the share planted among each unit's eligible patients
(:func:`unit_share`, :func:`eligible_intercept`) and no unplanted special cause.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pxlib.data.sample_plan import (
    AGE_BANDS,
    AGE_EFFECT,
    AGE_ELIGIBLE,
    AGE_RESPONDENTS,
    BALANCING_ID,
    COMMENTS,
    DEPRIVATION,
    DEPRIVATION_RESPONDENTS,
    ETHNICITIES,
    ETHNICITY_SHARES,
    FIRST_WEEK,
    N_WEEKS,
    OUTCOME_ID,
    SENSITIVE_COMMENTS,
    SEX_RESPONDENTS,
    SEXES,
    TRUSTS,
    UnitPlan,
)


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def unit_share(plan: UnitPlan, week: np.ndarray) -> np.ndarray:
    """The planted share of the unit's eligible patients for whom it happens, by week (1-based)."""
    share = np.full(week.shape, plan.base, dtype=float)
    if plan.after is not None and plan.change_week is not None:
        share = np.where(week >= plan.change_week, plan.after, share)
    return share


def eligible_intercept(share: np.ndarray) -> np.ndarray:
    """The log-odds a with sum_age AGE_ELIGIBLE[age] * expit(a + AGE_EFFECT[age]) = share.

    So that ``share`` is the planted share among the unit's eligible patients, whatever
    age mix answers (Newton's method; the function is increasing in a).
    """
    share = np.asarray(share, dtype=float)
    a = _logit(share)
    for _ in range(50):
        p = _expit(a[..., None] + AGE_EFFECT)
        gap = p @ AGE_ELIGIBLE - share
        a = a - gap / ((p * (1 - p)) @ AGE_ELIGIBLE)
        if np.max(np.abs(gap), initial=0.0) < 1e-13:
            break
    return a


def respondent_share(share: float) -> float:
    """The share expected among respondents (their age mix) for a planted ``share``."""
    a = eligible_intercept(np.array([share]))
    return float(_expit(a[:, None] + AGE_EFFECT)[0] @ AGE_RESPONDENTS)


def draw_respondents(rng: np.random.Generator) -> pd.DataFrame:
    """Respondent table and answer rows for every trust, unit and week."""
    people: list[pd.DataFrame] = []
    for trust in TRUSTS:
        for plan in trust.units:
            weeks = np.arange(1, N_WEEKS + 1)
            lo, hi = plan.respondents
            counts = rng.integers(lo, hi + 1, size=N_WEEKS)
            counts[rng.random(N_WEEKS) < 0.06] = 0  # missing weeks: no survey done
            if plan.unit == "Fir Ward":
                counts[30:33] = 0  # a three-week gap (staff shortage)
            week_of = np.repeat(weeks, counts)
            k = len(week_of)
            age = rng.choice(len(AGE_BANDS), size=k, p=AGE_RESPONDENTS)
            p = _expit(eligible_intercept(unit_share(plan, week_of)) + AGE_EFFECT[age])
            people.append(
                pd.DataFrame(
                    {
                        "org_code": trust.code,
                        "unit": plan.unit,
                        "week_no": week_of,
                        "day": rng.integers(0, 7, size=k),
                        "age_band": np.asarray(AGE_BANDS)[age],
                        "sex": np.asarray(SEXES)[rng.choice(2, size=k, p=SEX_RESPONDENTS)],
                        "ethnicity": np.asarray(ETHNICITIES)[
                            rng.choice(5, size=k, p=ETHNICITY_SHARES)
                        ],
                        "deprivation_quintile": np.asarray(DEPRIVATION)[
                            rng.choice(5, size=k, p=DEPRIVATION_RESPONDENTS)
                        ],
                        "p_outcome": p,
                        "p_pr1": _expit(
                            _logit(np.clip(unit_share(plan, week_of) + 0.05, 0.05, 0.99))
                        ),
                        "p_pr2": np.clip(unit_share(plan, week_of) - 0.1, 0.05, 0.95),
                        "p_bl1": np.where(
                            (plan.pattern == "improves") & (week_of >= (plan.change_week or 99)),
                            0.27,
                            0.22,
                        ),
                    }
                )
            )
    return pd.concat(people, ignore_index=True)


def _no_false_alarms(
    happened: np.ndarray,
    counted: np.ndarray,
    people: pd.DataFrame,
    redraw: np.random.Generator,
    max_tries: int = 50,
) -> np.ndarray:
    """Redraw the outcome of unit-weeks outside 3-sigma limits around their planted share.

    A week whose share of counted answers lies more than 3 standard errors from the
    share its respondents are planted to have (the mean of their probabilities) would
    be a special cause nobody planted; its answers are drawn again from ``redraw`` (a
    stream of its own, so every other draw of the sample is unchanged) until it is not.
    Every signal in the sample is thus a planted one.
    """
    happened = happened.copy()
    week = people.groupby(["org_code", "unit", "week_no"], sort=False).ngroup().to_numpy()
    prob = people["p_outcome"].to_numpy()
    for _ in range(max_tries):
        n = np.bincount(week, weights=counted)
        hits = np.bincount(week, weights=counted & happened)
        expected = np.bincount(week, weights=counted * prob)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = expected / n
            gap = np.abs(hits / n - p) / np.sqrt(p * (1 - p) / n)
        off = np.flatnonzero((n > 0) & (gap > 3))
        if off.size == 0:
            break
        rows = np.flatnonzero(np.isin(week, off))
        happened[rows] = redraw.random(rows.size) < prob[rows]
    return happened


def draw_answers(
    rng: np.random.Generator, people: pd.DataFrame, redraw: np.random.Generator
) -> pd.DataFrame:
    k = len(people)
    happened = rng.random(k) < people["p_outcome"].to_numpy()
    other = np.array(["Most of the time", "Sometimes", "Never"])[
        rng.choice(3, size=k, p=[0.6, 0.3, 0.1])
    ]
    dont_know = rng.random(k) < 0.03
    happened = _no_false_alarms(happened, ~dont_know, people, redraw)
    outcome = np.where(happened, "Always", other)
    outcome = np.where(dont_know, "Don't know", outcome)
    pr1 = np.where(rng.random(k) < people["p_pr1"].to_numpy(), "Yes", "No")
    pr1 = np.where(rng.random(k) < 0.05, "Not applicable", pr1)
    pr2 = np.where(rng.random(k) < people["p_pr2"].to_numpy(), "Yes", "No")
    pr2 = np.where(rng.random(k) < 0.04, "Don't know", pr2)
    bl1 = np.where(rng.random(k) < people["p_bl1"].to_numpy(), "Yes", "No")
    bl1 = np.where(rng.random(k) < 0.02, "", bl1)  # a few left blank

    comment = np.where(
        rng.random(k) < 0.15, np.asarray(COMMENTS)[rng.integers(0, len(COMMENTS), size=k)], ""
    )
    # Plant the sensitive comments at fixed, documented places: the first respondents of
    # week 5 in ZA1 Ash Ward and ZA3 Oak Ward.
    for org, unit in (("ZA1", "Ash Ward"), ("ZA3", "Oak Ward")):
        rows = np.flatnonzero(
            (people["org_code"] == org).to_numpy()
            & (people["unit"] == unit).to_numpy()
            & (people["week_no"] == 5).to_numpy()
        )[: len(SENSITIVE_COMMENTS)]
        comment[rows] = np.asarray(SENSITIVE_COMMENTS)[: len(rows)]

    people = people.assign(
        respondent_id=[f"P{i + 1:06d}" for i in range(k)],
        response_date=(
            FIRST_WEEK + pd.to_timedelta((people["week_no"] - 1) * 7 + people["day"], unit="D")
        ).dt.strftime("%Y-%m-%d"),
    )
    frames: list[pd.DataFrame] = []
    for qid, answer, com in (
        (OUTCOME_ID, outcome, comment),
        ("PR1", pr1, ""),
        ("PR2", pr2, ""),
        (BALANCING_ID, bl1, ""),
    ):
        frames.append(people.assign(question_id=qid, answer=answer, comment=com, _q=len(frames)))
    long = pd.concat(frames, ignore_index=True).sort_values(["respondent_id", "_q"], kind="stable")
    long["response_id"] = [f"R{i + 1:07d}" for i in range(len(long))]
    columns = [
        "response_id",
        "respondent_id",
        "org_code",
        "unit",
        "response_date",
        "question_id",
        "answer",
        "age_band",
        "sex",
        "ethnicity",
        "deprivation_quintile",
        "comment",
    ]
    return long[columns].reset_index(drop=True)
