"""The synthetic sample data: every input of the workbook for six fictional trusts.

``pxlib sample --seed N --out DIR`` (or :func:`write_sample`) writes the files of
:data:`pxlib.data.schemas.FILE_NAMES` and a README that states the ground truth
planted in them. All organisation codes start with Z, a shape no real NHS
organisation has; every name is invented. The same seed gives byte-identical
files.

Planted patterns (the README repeats them with the exact weeks):

- units that improve after an adopted PDSA cycle (a shift the run-chart rules
  must detect), one unit that deteriorates, one stable unit reliably above 95 %;
- a small unit with fewer than 10 respondents most weeks (small-number suppression);
- margins of each unit's eligible patients (``describes=eligible``: its patients
  over the year by age band and sex), against which each
  unit's planted share is set, and each trust's catchment population
  (``describes=catchment``), which is for national comparisons only;
- respondents skewed to older ages against the unit's eligible patients, and older
  patients report the Always Event more often, so the unweighted percentage is a
  few points above the planted one and weighting brings it back;
- missing weeks (gaps, not zeros);
- no unplanted signals: a unit-week more than 3 standard errors from its planted
  share is drawn again, so every special cause in the sample is a planted one;
- free-text comments, a few of which contain a phone number, an NHS-number-like
  digit string, an email address or a staff name: things that must never reach a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data import sample_journey
from pxlib.data.schemas import FFT_ANSWER_COLUMNS, FILE_NAMES

DEFAULT_SEED = 20251
FIRST_WEEK = pd.Timestamp("2025-09-01")  # a Monday
N_WEEKS = 52
FFT_FIRST_MONTH = pd.Timestamp("2024-09-01")
FFT_MONTHS = 24
GPPS_YEAR = 2026

AGE_BANDS = ("16-34", "35-54", "55-74", "75+")
# The trust's catchment population (all adults in its area): for national comparisons only.
AGE_POPULATION = np.array([0.31, 0.33, 0.24, 0.12])
# A unit's eligible patients (the patients leaving it over the year): older than the catchment.
AGE_ELIGIBLE = np.array([0.20, 0.26, 0.31, 0.23])
# Respondents: older still (older patients answer more).
AGE_RESPONDENTS = np.array([0.11, 0.21, 0.37, 0.31])
# Log-odds shift of the Always Event happening by age band: younger patients report it less.
AGE_EFFECT = np.array([-1.2, -0.5, 0.2, 0.6])
SEXES = ("female", "male")
SEX_POPULATION = np.array([0.51, 0.49])
SEX_ELIGIBLE = np.array([0.53, 0.47])
SEX_RESPONDENTS = np.array([0.57, 0.43])
DEPRIVATION = ("1", "2", "3", "4", "5")  # quintile 1 = most deprived; a category, not a number
DEPRIVATION_POPULATION = np.array([0.22, 0.21, 0.20, 0.19, 0.18])
DEPRIVATION_RESPONDENTS = np.array([0.14, 0.17, 0.20, 0.23, 0.26])
ETHNICITIES = ("White", "Asian", "Black", "Mixed", "Other")
ETHNICITY_SHARES = np.array([0.78, 0.11, 0.05, 0.03, 0.03])

OUTCOME_ID, PROCESS_IDS, BALANCING_ID = "AE1", ("PR1", "PR2"), "BL1"


@dataclass(frozen=True)
class UnitPlan:
    """How one unit's Always Event percentage behaves over the 52 weeks."""

    unit: str
    site: str
    base: float  # share of eligible patients for whom the Always Event happens, before any change
    after: float | None = None  # share after the change
    change_week: int | None = None  # first week (1-based) of the new level
    pattern: str = "stable"  # stable | improves | deteriorates | reliable | small
    respondents: tuple[int, int] = (10, 25)
    eligible: int = 2400  # eligible patients over the year (the unit's margins)


@dataclass(frozen=True)
class TrustPlan:
    code: str
    name: str
    icb: str
    population: int
    units: tuple[UnitPlan, ...]


TRUSTS: tuple[TrustPlan, ...] = (
    TrustPlan(
        "ZA1",
        "Zephyr Valley Hospitals NHS Trust",
        "ZQ1",
        420_000,
        (
            UnitPlan("Ash Ward", "ZA101", 0.66, 0.90, 19, "improves", eligible=2600),
            UnitPlan("Beech Ward", "ZA101", 0.80, eligible=3100),
            UnitPlan("Cedar Ward", "ZA102", 0.74, eligible=2200),
        ),
    ),
    TrustPlan(
        "ZA2",
        "Zenith Coast University Hospitals NHS Trust",
        "ZQ1",
        560_000,
        (
            UnitPlan("Elm Ward", "ZA201", 0.91, 0.70, 33, "deteriorates", eligible=2900),
            UnitPlan("Fir Ward", "ZA201", 0.82, eligible=2400),
        ),
    ),
    TrustPlan(
        "ZA3",
        "Zeal Moor Community and Acute NHS Trust",
        "ZQ1",
        310_000,
        (
            UnitPlan("Oak Ward", "ZA301", 0.985, pattern="reliable", eligible=1900),
            UnitPlan("Pine Ward", "ZA301", 0.85, eligible=2300),
            UnitPlan("Rowan Clinic", "ZA302", 0.79, eligible=1500),
            UnitPlan("Holly Ward", "ZA302", 0.77, eligible=2000),
        ),
    ),
    TrustPlan(
        "ZA4",
        "Zinnia Fields NHS Foundation Trust",
        "ZQ2",
        280_000,
        (
            UnitPlan(
                "Birch Unit", "ZA401", 0.83, pattern="small", respondents=(2, 9), eligible=600
            ),
            UnitPlan("Larch Ward", "ZA401", 0.72, 0.91, 27, "improves", eligible=2500),
        ),
    ),
    TrustPlan(
        "ZA5",
        "Zodiac Bay Hospitals NHS Trust",
        "ZQ2",
        650_000,
        (
            UnitPlan("Maple Ward", "ZA501", 0.78, eligible=2700),
            UnitPlan("Willow Ward", "ZA501", 0.70, 0.88, 31, "improves", eligible=2800),
            UnitPlan("Yew Ward", "ZA502", 0.84, eligible=2100),
            UnitPlan("Hazel Ward", "ZA502", 0.81, eligible=2400),
            UnitPlan("Day Surgery", "ZA503", 0.88, eligible=4800),
        ),
    ),
    TrustPlan(
        "ZA6",
        "Zest Hills Mental Health and Community NHS Trust",
        "ZQ2",
        240_000,
        (
            UnitPlan("Aspen Team", "ZA601", 0.76, eligible=1600),
            UnitPlan("Linden Team", "ZA601", 0.81, eligible=1800),
        ),
    ),
)

# (trust, unit, cycle id, first week, last week, change idea, prediction, what happened, decision)
PDSA_CYCLES: tuple[tuple, ...] = (
    (
        "ZA1",
        "Ash Ward",
        "ZA1-1",
        8,
        11,
        "Teach-back: five patients tell the plan back in their own words (one nurse, weekdays)",
        "More patients will say staff explained what happens next",
        "Worked, but took too long when the ward was busy",
        "adapt",
    ),
    (
        "ZA1",
        "Ash Ward",
        "ZA1-2",
        12,
        15,
        "Teach-back by every day-shift nurse for a month",
        "At least 80% of discharges will have teach-back done",
        "Patients felt listened to; often missed at weekends",
        "adapt",
    ),
    (
        "ZA1",
        "Ash Ward",
        "ZA1-3",
        16,
        18,
        "Teach-back on every shift, weekends included, with a prompt card",
        "At least 85% of discharges will have teach-back done, weekends too",
        "Held at weekends after a prompt card was added",
        "adopt",
    ),
    (
        "ZA1",
        "Cedar Ward",
        "ZA1-4",
        30,
        33,
        "Leaflet in the discharge pack",
        "A small improvement",
        "Few patients read it",
        "abandon",
    ),
    (
        "ZA2",
        "Elm Ward",
        "ZA2-1",
        20,
        24,
        "Pharmacy-led discharge conversations",
        "No change expected: checking a balancing measure",
        "Waits for medicines rose slightly",
        "adapt",
    ),
    (
        "ZA3",
        "Oak Ward",
        "ZA3-1",
        2,
        5,
        "Named nurse explains the plan every morning",
        "Already reliable; confirm it holds",
        "Held above 95%",
        "adopt",
    ),
    (
        "ZA4",
        "Larch Ward",
        "ZA4-1",
        18,
        21,
        "What matters to you? board by each bed",
        "More conversations about what matters",
        "Boards were used by about half",
        "adapt",
    ),
    (
        "ZA4",
        "Larch Ward",
        "ZA4-2",
        22,
        26,
        "Board reviewed at the daily safety huddle",
        "At least 85% will say it always happened",
        "Boards used by most; patients noticed",
        "adopt",
    ),
    (
        "ZA5",
        "Willow Ward",
        "ZA5-1",
        26,
        30,
        "Discharge plan agreed with family at admission",
        "A shift upwards within 6 weeks",
        "Families felt included",
        "adopt",
    ),
    (
        "ZA5",
        "Maple Ward",
        "ZA5-2",
        36,
        40,
        "Evening discharge huddle",
        "Fewer late discharges",
        "No difference seen",
        "abandon",
    ),
    (
        "ZA6",
        "Aspen Team",
        "ZA6-1",
        40,
        None,
        "Care plan copy given at every visit",
        "More patients will say they know the plan",
        "Under way",
        None,
    ),
)

COMMENTS = (
    "The staff were kind and explained everything clearly.",
    "Nobody told me when I could go home until the last minute.",
    "Waited a long time for my medicines before leaving.",
    "Lovely team, I felt listened to.",
    "It was noisy at night and hard to sleep.",
    "The food was cold most days.",
    "I was not sure what to do about my tablets at home.",
    "Very good care, thank you to everyone on the ward.",
    "I had to ask several times about my discharge letter.",
    "Pain relief came quickly when I asked.",
    "They asked what mattered to me and it made a difference.",
    "Communication between doctors and nurses could be better.",
)
# Comments that must never reach a report unredacted (planted at fixed places, see README).
SENSITIVE_COMMENTS = (
    "Please ring me back on 07700 900461 about my follow-up.",
    "My NHS number is 943 476 5919 and my letter had the wrong name.",
    "You can email me at jo.patient@example.com with the results.",
    "Nurse Okonjo was wonderful, please thank her.",
    "Dr Castellano explained everything, I felt safe going home.",
)

OUTCOME_WORDING = (
    "Did staff explain what would happen after you left hospital, in a way you could understand?"
)
QUESTION_BANK_ROWS = (
    (OUTCOME_ID, OUTCOME_WORDING, "outcome", "always_never", "Always", "happened"),
    (OUTCOME_ID, OUTCOME_WORDING, "outcome", "always_never", "Most of the time", "not_happened"),
    (OUTCOME_ID, OUTCOME_WORDING, "outcome", "always_never", "Sometimes", "not_happened"),
    (OUTCOME_ID, OUTCOME_WORDING, "outcome", "always_never", "Never", "not_happened"),
    (OUTCOME_ID, OUTCOME_WORDING, "outcome", "always_never", "Don't know", "excluded"),
    (
        "PR1",
        "Did a member of staff go through your medicines with you before you left?",
        "process",
        "yes_no_na",
        "Yes",
        "happened",
    ),
    (
        "PR1",
        "Did a member of staff go through your medicines with you before you left?",
        "process",
        "yes_no_na",
        "No",
        "not_happened",
    ),
    (
        "PR1",
        "Did a member of staff go through your medicines with you before you left?",
        "process",
        "yes_no_na",
        "Not applicable",
        "excluded",
    ),
    (
        "PR2",
        "Did staff ask you what matters to you about going home?",
        "process",
        "yes_no_dk",
        "Yes",
        "happened",
    ),
    (
        "PR2",
        "Did staff ask you what matters to you about going home?",
        "process",
        "yes_no_dk",
        "No",
        "not_happened",
    ),
    (
        "PR2",
        "Did staff ask you what matters to you about going home?",
        "process",
        "yes_no_dk",
        "Don't know",
        "excluded",
    ),
    (
        "BL1",
        "Did you wait more than two hours to leave once you were told you could go home?",
        "balancing",
        "yes_no",
        "Yes",
        "happened",
    ),
    (
        "BL1",
        "Did you wait more than two hours to leave once you were told you could go home?",
        "balancing",
        "yes_no",
        "No",
        "not_happened",
    ),
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


def _respondents(rng: np.random.Generator) -> pd.DataFrame:
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


def _answers(
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
    frames = []
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


def _largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    raw = shares / shares.sum() * total
    out = np.floor(raw).astype(int)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def _margins() -> pd.DataFrame:
    """Each trust's catchment population (no unit), then each unit's eligible patients."""
    catchment = (
        ("age_band", AGE_BANDS, AGE_POPULATION),
        ("sex", SEXES, SEX_POPULATION),
        ("deprivation_quintile", DEPRIVATION, DEPRIVATION_POPULATION),
    )
    eligible = (("age_band", AGE_BANDS, AGE_ELIGIBLE), ("sex", SEXES, SEX_ELIGIBLE))
    rows = []
    for trust in TRUSTS:
        groups = [("", "catchment", trust.population, catchment)]
        groups += [(plan.unit, "eligible", plan.eligible, eligible) for plan in trust.units]
        for unit, describes, total, margins in groups:
            for variable, levels, shares in margins:
                for level, count in zip(levels, _largest_remainder(total, shares), strict=True):
                    rows.append((trust.code, unit, describes, variable, level, int(count)))
    return pd.DataFrame(
        rows, columns=["org_code", "unit", "describes", "variable", "level", "population"]
    )


def _practices(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    number = 1
    for trust in TRUSTS:
        for _ in range(int(rng.integers(3, 6))):
            rows.append(
                (
                    f"Z8{number:04d}",
                    f"Fictional Practice {number} (synthetic)",
                    "gp_practice",
                    trust.icb,
                    trust.code,
                )
            )
            number += 1
    return pd.DataFrame(
        rows, columns=["org_code", "org_name", "org_type", "parent_code", "catchment_of"]
    )


def _organisations(practices: pd.DataFrame) -> pd.DataFrame:
    trusts = pd.DataFrame(
        [(t.code, f"{t.name} (synthetic)", "trust", t.icb, "") for t in TRUSTS],
        columns=["org_code", "org_name", "org_type", "parent_code", "catchment_of"],
    )
    return pd.concat([trusts, practices], ignore_index=True)


def _units() -> pd.DataFrame:
    return pd.DataFrame(
        [
            (t.code, u.unit, u.site, f"{t.name.split()[0]} site {u.site[-1]} (synthetic)")
            for t in TRUSTS
            for u in t.units
        ],
        columns=["org_code", "unit", "site_code", "site_name"],
    )


def _pdsa() -> pd.DataFrame:
    def day(week: int, offset: int) -> str:
        return (FIRST_WEEK + pd.Timedelta(days=(week - 1) * 7 + offset)).strftime("%Y-%m-%d")

    rows = [
        (
            org,
            unit,
            cid,
            day(first, 0),
            "" if last is None else day(last, 4),
            idea,
            pred,
            what,
            decision or "",
        )
        for org, unit, cid, first, last, idea, pred, what, decision in PDSA_CYCLES
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "org_code",
            "unit",
            "cycle_id",
            "start_date",
            "end_date",
            "change_idea",
            "prediction",
            "what_happened",
            "decision",
        ],
    )


def _fft(rng: np.random.Generator) -> pd.DataFrame:
    months = pd.date_range(FFT_FIRST_MONTH, periods=FFT_MONTHS, freq="MS")
    rows = []
    for month in months:
        first_year = month.year if month.month >= 4 else month.year - 1
        yearnumber = f"{first_year}_{(first_year + 1) % 100:02d}"
        for trust in TRUSTS:
            for plan in trust.units:
                mean = 3.0 if plan.pattern == "small" else float(rng.integers(40, 90))
                total = int(rng.poisson(mean))
                positive = np.clip(plan.base + 0.08 + rng.normal(0, 0.03), 0.5, 0.99)
                probs = np.array(
                    [
                        positive * 0.7,
                        positive * 0.3,
                        (1 - positive) * 0.4,
                        (1 - positive) * 0.3,
                        (1 - positive) * 0.2,
                        (1 - positive) * 0.1,
                    ]
                )
                counts = rng.multinomial(total, probs / probs.sum())
                eligible = int(round(total / 0.22)) if total else int(rng.integers(5, 20))
                pos = (counts[0] + counts[1]) / total if total else np.nan
                neg = (counts[3] + counts[4]) / total if total else np.nan
                rows.append(
                    (
                        yearnumber,
                        month.strftime("%B").upper(),
                        trust.icb,
                        trust.code,
                        plan.site,
                        plan.unit,
                        *counts.tolist(),
                        total,
                        eligible,
                        pos,
                        neg,
                    )
                )
    columns = [
        "Yearnumber",
        "Periodname",
        "Parent org code",
        "Org code",
        "Site code",
        "Ward name",
        *FFT_ANSWER_COLUMNS,
        "Total Responses",
        "Total Eligible SUM",
        "Prop_Pos",
        "Prop_Neg",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame[["Prop_Pos", "Prop_Neg"]] = frame[["Prop_Pos", "Prop_Neg"]].round(4)
    return frame


def _gpps(rng: np.random.Generator, practices: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, practice in enumerate(practices.itertuples(index=False)):
        distributed = int(rng.integers(250, 700))
        received = int(distributed * rng.uniform(0.25, 0.45))
        if i == 2:
            received = 8  # a practice with too few responses: its results are suppressed (-97)
        row = {
            "practice_code": practice.org_code,
            "practice_name": practice.org_name,
            "ics_code": practice.parent_code,
            "pcn_code": f"ZU{i // 3 + 1:03d}",
            "year": GPPS_YEAR,
            "distributed": distributed,
            "received": received,
            "resprate": round(received / distributed, 4),
        }
        for q, level in (("q1", 0.55), ("q28", 0.72), ("q90", 0.85)):
            base = int(received * rng.uniform(0.9, 1.0))
            pct = float(np.clip(level + rng.normal(0, 0.08), 0.05, 0.99))
            suppressed = received < 10
            row[f"{q}base"] = -97 if suppressed else base
            row[f"{q}_12pct"] = -97 if suppressed else round(pct, 4)
        rows.append(row)
    return pd.DataFrame(rows)


def generate_sample(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Every input table of the sample, as DataFrames keyed like :data:`FILE_NAMES`."""
    rng = np.random.default_rng(seed)
    people = _respondents(rng)
    responses = _answers(rng, people, np.random.default_rng([seed, 1]))
    practices = _practices(rng)
    return {
        "organisations": _organisations(practices),
        "units": _units(),
        "question_bank": pd.DataFrame(
            QUESTION_BANK_ROWS,
            columns=["question_id", "wording", "measure_type", "scale", "answer", "counts_as"],
        ),
        "responses": responses,
        "pdsa_log": sample_journey.with_pdsa_journey(_pdsa()),
        "margins": _margins(),
        "fft": _fft(rng),
        "gpps": _gpps(rng, practices),
        **sample_journey.journey_tables(seed, FIRST_WEEK, N_WEEKS),
    }


def _week_start(week: int) -> str:
    return (FIRST_WEEK + pd.Timedelta(weeks=week - 1)).strftime("%Y-%m-%d")


def sample_readme(seed: int) -> str:
    """The sample's README: what it is, its files and its planted ground truth."""
    lines = [
        "# Sample data (SYNTHETIC)",
        "",
        f"Generated by `pxlib sample --seed {seed} --out data/sample` (pxlib.data.sample). **Every",
        "organisation, unit, person and answer here is invented.** Organisation codes start with Z, a",
        "shape no real NHS organisation has (trusts ZA1-ZA6, ICBs ZQ1-ZQ2, sites ZA101..., GP practices",
        "Z80001...). Do not mistake these figures for any real service. The same seed gives",
        "byte-identical files.",
        "",
        "## Files",
        "",
        "| file | what |",
        "|---|---|",
        f"| `{FILE_NAMES['organisations']}` | 6 trusts and their catchment GP practices, with ICB parents |",
        f"| `{FILE_NAMES['units']}` | 2-5 units per trust and their sites |",
        f"| `{FILE_NAMES['question_bank']}` | one outcome (AE1), two process (PR1, PR2) and one balancing (BL1) question, with how each answer counts |",
        f"| `{FILE_NAMES['responses']}` | {N_WEEKS} weeks of Always Event survey answers from {_week_start(1)}, one row per answer |",
        f"| `{FILE_NAMES['pdsa_log']}` | PDSA cycles with change ideas, predictions and decisions |",
        f"| `{FILE_NAMES['margins']}` | margins for weighting: each unit's eligible patients over the year by age band and sex (`describes` = eligible), and each trust's catchment population by age band, sex and deprivation quintile (`describes` = catchment, `unit` blank) |",
        f"| `{FILE_NAMES['fft']}` | {FFT_MONTHS} months of Friends and Family Test results by ward, published layout |",
        f"| `{FILE_NAMES['gpps']}` | one year of GP Patient Survey practice results (-97 = suppressed) |",
        "| `national/` | national files in NHS England's published layouts: monthly FFT workbooks, GP Patient Survey practice files (2022-2025, both layouts), NHS Staff Survey scores (see below) |",
        *(f"| `{FILE_NAMES[key]}` | {what} |" for key, what in sample_journey.README_ROWS),
        "",
        "## Ground truth planted in the data",
        "",
        "Outcome measure AE1: the share of patients answering *Always* (Don't know leaves the",
        "denominator). Weeks are ISO weeks starting on Monday; week 1 starts "
        + _week_start(1)
        + ".",
        "",
        "| trust | unit | pattern | planted share (of the unit's eligible patients) | eligible patients a year |",
        "|---|---|---|---|---|",
    ]
    for trust in TRUSTS:
        for plan in trust.units:
            if plan.after is not None:
                share = (
                    f"{plan.base:.0%} until week {plan.change_week - 1}, then {plan.after:.0%} from week "
                    f"{plan.change_week} ({_week_start(plan.change_week)})"
                )
            else:
                share = f"{plan.base:.1%} throughout"
            lines.append(
                f"| {trust.code} | {plan.unit} | {plan.pattern} | {share} | {plan.eligible:,} |"
            )
    lines += [
        "",
        "- **Improves after a PDSA cycle**: ZA1 Ash Ward (cycle ZA1-3 adopted, ending in week 18), ZA4 Larch Ward",
        "  (ZA4-2 adopted, ending in week 26) and ZA5 Willow Ward (ZA5-1 adopted, ending in week 30): a",
        "  sustained shift from the next week that the run-chart rules must detect (a new phase starts",
        "  the week after an adopted cycle ends).",
        "  Their balancing measure BL1 (waiting over two hours) rises from 22 % to 27 %.",
        "- **Deteriorates**: ZA2 Elm Ward drops from week 33.",
        "- **Stable and reliable above 95 %**: ZA3 Oak Ward (planted 98.5 % of its eligible patients).",
        "- **Too small to publish some weeks**: ZA4 Birch Unit has 2-9 respondents a week, so most",
        "  weeks fall under the small-number thresholds; its FFT rows are small too.",
        "- **Missing weeks**: about 6 % of unit-weeks have no survey; ZA2 Fir Ward has none in weeks",
        "  31-33. These are gaps, not zeros.",
        "- **No unplanted signals**: a unit-week whose share of counted answers lies more than 3",
        "  standard errors from the share its respondents are planted to have is drawn again (from a",
        "  random stream of its own), so every special cause in the sample is a planted one.",
        "- **Margins** (`margins.csv`): every unit has the margins of its *eligible patients*, the",
        "  patients who left it over the year, by age band and sex (`describes` = eligible; a few",
        "  hundred to a few thousand a unit, as a patient administration system would count its",
        "  discharges). These are the population an Always Event aim is about, and the only margins",
        "  that weight a unit's measures: each unit is raked to its own. Each trust also has its",
        "  *catchment population* (`describes` = catchment, no unit: all adults in its area, by age",
        "  band, sex and deprivation quintile), for comparing with national population surveys such",
        "  as the GP Patient Survey; it never weights a unit's Always Event measure.",
        "- **Weighting matters**: the planted shares above are shares of each unit's eligible",
        "  patients. Respondents are older than the eligible patients (age 75+ is "
        f"{AGE_RESPONDENTS[3]:.0%} of respondents",
        f"  but {AGE_ELIGIBLE[3]:.0%} of the eligible patients; 16-34 is {AGE_RESPONDENTS[0]:.0%} against "
        f"{AGE_ELIGIBLE[0]:.0%}), and younger",
        "  patients report the Always Event less often, so the respondents' own (unweighted) share is",
        f"  higher than the planted one: a planted {0.80:.0%} comes out at about "
        f"{respondent_share(0.80):.0%} unweighted ({0.70:.0%} at about {respondent_share(0.70):.0%}).",
        "  Weighting each unit to its eligible patients brings the share back to the planted one, at",
        "  the price of a design effect of about 1.1-1.2 (the effective sample is about 85 % of the",
        "  respondents). Sex is skewed a little too (women are "
        f"{SEX_RESPONDENTS[0]:.0%} of respondents, {SEX_ELIGIBLE[0]:.0%} of the",
        "  eligible patients). The catchment population is younger still (age 75+ is "
        f"{AGE_POPULATION[3]:.0%}): weighting a",
        "  unit to it would pull its share well below the truth for its patients.",
        "- **Sensitive comments** (must be redacted before any report): the first respondents of week 5",
        "  in ZA1 Ash Ward and in ZA3 Oak Ward left comments containing a phone number (07700 900461),",
        "  an NHS-number-like string (943 476 5919), an email address (jo.patient@example.com) and staff",
        "  names after titles (Nurse Okonjo, Dr Castellano).",
        "- **GP Patient Survey**: practice Z80003 received 8 responses, so its results are -97.",
        "- **FFT**: ward-level monthly results; Birch Unit rows often have fewer than 5 responses.",
        *sample_journey.README_TRUTH,
        "",
    ]
    return "\n".join(lines)


def write_sample(out_dir: str | Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the sample's CSV files and README to ``out_dir``, and its national files in the
    published layouts to ``out_dir/national/``
    (:func:`pxlib.data.national.sample_national.write_sample_national`); returns the paths of
    the files written at the top level."""
    from pxlib.data.national import sample_national as national

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    tables = generate_sample(seed)
    for key, frame in tables.items():
        path = out_dir / FILE_NAMES[key]
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    # national files in the published layouts, in national/ (random streams of their own,
    # so the files above are the same with or without them); not in the list returned
    national.write_sample_national(out_dir, seed, tables["organisations"])
    readme = out_dir / "README.md"
    text = sample_readme(seed) + "\n" + "\n".join(national.sample_national_readme())
    readme.write_text(text, encoding="utf-8", newline="\n")
    written.append(readme)
    return written
