"""The synthetic sample's plan: its calendar, the population mixes, the fictional trusts
and units with the pattern planted in each (:class:`UnitPlan`, :data:`TRUSTS`), the PDSA
cycles, the comments and the question bank.

Data only: :mod:`pxlib.data.sample_responses` draws the answers from it,
:mod:`pxlib.data.sample_tables` builds the other tables, and :mod:`pxlib.data.sample`
writes them with a README that states what was planted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
