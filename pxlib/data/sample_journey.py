"""The synthetic sample's improvement journey: team, co-design, votes, driver diagram,
audits, spread plan and sustainability assessment.

One complete journey (ZA1, Ash Ward's Always Event "Going home knowing what
happens next", spread to Beech Ward in wave 2 and Cedar Ward in wave 3) and a partial
one (ZA4: team, co-design sessions and what matters, nothing voted yet). The other
trusts have none of these files' rows, so their notebooks say what to gather.
Everything is invented; the audits carry a planted truth the README states.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def day(first_week: pd.Timestamp, week: int, offset: int = 0) -> str:
    """The ISO date of day ``offset`` (0 = Monday) of sample week ``week`` (1-based)."""
    return (first_week + pd.Timedelta(days=(week - 1) * 7 + offset)).strftime("%Y-%m-%d")


PROJECT = "Going home knowing what happens next"
TEAM_ROWS = (
    # (org, unit, member, role)
    ("ZA1", "Ash Ward", "Chief Nurse (synthetic)", "executive_sponsor"),
    ("ZA1", "Ash Ward", "Ash Ward manager (synthetic)", "project_lead"),
    ("ZA1", "Ash Ward", "Quality improvement facilitator (synthetic)", "facilitator"),
    ("ZA1", "Ash Ward", "", "patient_partner"),
    ("ZA1", "Ash Ward", "", "patient_partner"),
    ("ZA1", "Ash Ward", "", "carer"),
    ("ZA1", "Ash Ward", "Staff nurse, Ash Ward (synthetic)", "staff"),
    ("ZA1", "Ash Ward", "Ward pharmacist (synthetic)", "staff"),
    ("ZA1", "Ash Ward", "Healthcare assistant, Ash Ward (synthetic)", "staff"),
    ("ZA4", "Larch Ward", "Director of Nursing (synthetic)", "executive_sponsor"),
    ("ZA4", "Larch Ward", "Larch Ward manager (synthetic)", "project_lead"),
    ("ZA4", "Larch Ward", "", "patient_partner"),
    ("ZA4", "Larch Ward", "Staff nurse, Larch Ward (synthetic)", "staff"),
)
VISION = (
    "I will always know what will happen after I leave hospital, explained in a way I understand."
)
AIM = (
    "By 31 March 2027, 95% of patients leaving Ash Ward will say staff explained what would "
    "happen after they left, in a way they could understand."
)
TEAM_PROJECTS = {
    ("ZA1", "Ash Ward"): (PROJECT, "Adult inpatient ward", "2025-06-02", VISION, AIM),
    ("ZA4", "Larch Ward"): (
        "What matters to you, every day",
        "Adult inpatient ward",
        "2025-11-03",
        "I will always be asked what matters to me today.",
        "",
    ),
}

SESSIONS = (
    # (org, unit, session id, date, kind, patients, carers, staff)
    ("ZA1", "Ash Ward", "S1", "2025-06-10", "conversation", 9, 3, 0),
    ("ZA1", "Ash Ward", "S2", "2025-06-24", "survey", 41, 6, 0),
    ("ZA1", "Ash Ward", "S3", "2025-07-08", "workshop", 5, 2, 7),
    ("ZA1", "Ash Ward", "S4", "2025-07-22", "workshop", 4, 2, 8),
    ("ZA4", "Larch Ward", "S1", "2025-11-12", "conversation", 7, 2, 0),
    ("ZA4", "Larch Ward", "S2", "2025-11-26", "focus_group", 0, 0, 9),
)

WHAT_MATTERS = (
    # (org, unit, session, voice, statement, theme)
    (
        "ZA1",
        "Ash Ward",
        "S1",
        "patient",
        "Knowing what happens when I get home, before I leave",
        "Going home",
    ),
    (
        "ZA1",
        "Ash Ward",
        "S1",
        "patient",
        "Someone checking I understood, not just handing me a leaflet",
        "Information",
    ),
    (
        "ZA1",
        "Ash Ward",
        "S1",
        "carer",
        "Being told too, because I am the one at home with him",
        "Going home",
    ),
    ("ZA1", "Ash Ward", "S1", "patient", "Not waiting all day for my tablets", "Medicines"),
    ("ZA1", "Ash Ward", "S1", "patient", "Staff who call me by my name", "Kindness"),
    (
        "ZA1",
        "Ash Ward",
        "S2",
        "patient",
        "I went home not knowing which tablets had changed",
        "Medicines",
    ),
    (
        "ZA1",
        "Ash Ward",
        "S2",
        "patient",
        "Nobody said who to ring if things went wrong",
        "Going home",
    ),
    ("ZA1", "Ash Ward", "S2", "carer", "We were told at the last minute", "Going home"),
    ("ZA1", "Ash Ward", "S2", "patient", "Quiet at night so I can sleep", "Noise and sleep"),
    (
        "ZA1",
        "Ash Ward",
        "S3",
        "staff",
        "At weekends there is no time to go through the plan",
        "Going home",
    ),
    (
        "ZA1",
        "Ash Ward",
        "S3",
        "patient",
        "Explained in plain words, not hospital words",
        "Information",
    ),
    ("ZA1", "Ash Ward", "S3", "staff", "We assume someone else has explained it", "Information"),
    (
        "ZA1",
        "Ash Ward",
        "S4",
        "patient",
        "A chance to ask questions before the day I go",
        "Going home",
    ),
    ("ZA1", "Ash Ward", "S4", "carer", "Written down so I can check later", "Information"),
    ("ZA4", "Larch Ward", "S1", "patient", "Being asked what matters to me today", "Kindness"),
    ("ZA4", "Larch Ward", "S1", "patient", "Knowing the plan for the day", "Information"),
    (
        "ZA4",
        "Larch Ward",
        "S2",
        "staff",
        "Handover does not pass on what patients told us",
        "Communication",
    ),
)

CANDIDATES = (
    # (org, unit, id, statement, theme, question, patient, carer, staff votes, affordable)
    (
        "ZA1",
        "Ash Ward",
        "C1",
        "Before I leave, staff explain what will happen after I get home, in words I understand, "
        "and check I have understood",
        "Going home (discharge)",
        "AE1",
        31,
        9,
        11,
        "yes",
    ),
    (
        "ZA1",
        "Ash Ward",
        "C2",
        "Someone goes through my medicines with me before I leave",
        "Medicines",
        "PR1",
        18,
        5,
        9,
        "yes",
    ),
    (
        "ZA1",
        "Ash Ward",
        "C3",
        "I am never kept waiting for more than two hours on the day I go home",
        "Waiting and delays",
        "BL1",
        14,
        4,
        2,
        "no",
    ),
    (
        "ZA1",
        "Ash Ward",
        "C4",
        "Staff call me by the name I prefer",
        "Kindness and being listened to",
        "",
        9,
        2,
        6,
        "yes",
    ),
)

DRIVER_ROWS = (
    # (org, unit, node id, level, parent, text)
    (
        "ZA1",
        "Ash Ward",
        "A1",
        "aim",
        "",
        AIM,
    ),
    (
        "ZA1",
        "Ash Ward",
        "P1",
        "primary",
        "A1",
        "Every patient hears the plan in words they understand",
    ),
    ("ZA1", "Ash Ward", "P2", "primary", "A1", "The plan is ready before the day of discharge"),
    (
        "ZA1",
        "Ash Ward",
        "S1",
        "secondary",
        "P1",
        "Staff check understanding, not only give information",
    ),
    ("ZA1", "Ash Ward", "S2", "secondary", "P1", "The same on every shift, weekends included"),
    ("ZA1", "Ash Ward", "S3", "secondary", "P2", "Medicines ready and explained by pharmacy"),
    ("ZA1", "Ash Ward", "CI1", "change_idea", "S1", "Teach-back: the patient tells the plan back"),
    ("ZA1", "Ash Ward", "CI2", "change_idea", "S2", "Prompt card for teach-back on every shift"),
    (
        "ZA1",
        "Ash Ward",
        "CI3",
        "change_idea",
        "S3",
        "Pharmacist discharge conversation the day before",
    ),
    (
        "ZA1",
        "Ash Ward",
        "CI4",
        "change_idea",
        "P2",
        "Discharge plan started at admission with the family",
    ),
)

#: the journey columns of the sample's PDSA cycles (cycle id -> values); a ramp of three
#: cycles on teach-back, each with a numeric prediction about the teach-back audit
PDSA_JOURNEY = {
    "ZA1-1": {
        "change_idea_id": "CI1",
        "ramp": "R1",
        "question": "Can one nurse do teach-back with five patients on a weekday?",
        "prediction_value": 60,
        "prediction_measure": "TB1",
        "scale": "1 nurse, 5 patients, weekdays",
        "owner": "Staff nurse, Ash Ward (synthetic)",
    },
    "ZA1-2": {
        "change_idea_id": "CI1",
        "ramp": "R1",
        "question": "Does teach-back hold when every day-shift nurse uses it for a month?",
        "prediction_value": 80,
        "prediction_measure": "TB1",
        "scale": "all day-shift nurses, 4 weeks",
        "owner": "Ash Ward manager (synthetic)",
    },
    "ZA1-3": {
        "change_idea_id": "CI2",
        "ramp": "R1",
        "question": "With a prompt card, is teach-back done on every shift, weekends included?",
        "prediction_value": 85,
        "prediction_measure": "TB1",
        "scale": "every shift, 7 days a week",
        "owner": "Ash Ward manager (synthetic)",
    },
}

#: the planted share of discharges with teach-back done, by unit: (from week, share) steps
AUDIT_PLAN = {
    ("ZA1", "Ash Ward"): ((1, 0.20), (8, 0.35), (12, 0.62), (16, 0.97), (19, 0.93)),
    ("ZA1", "Beech Ward"): ((31, 0.25), (37, 0.80)),
}
AUDIT_MEASURE = ("TB1", "Teach-back done before discharge")

SPREAD_ROWS = (
    # (org, unit, wave, lead, start week, adaptations)
    ("ZA1", "Ash Ward", 1, "Ash Ward manager (synthetic)", 8, "The first unit: tested here"),
    (
        "ZA1",
        "Beech Ward",
        2,
        "Beech Ward manager (synthetic)",
        31,
        "Prompt card reworded for short-stay patients",
    ),
    (
        "ZA1",
        "Cedar Ward",
        3,
        "Cedar Ward manager (synthetic)",
        60,
        "Interpreter booked before the teach-back conversation",
    ),
)

#: the sustainability self-assessment of Ash Ward in week 44: five assessors, levels 1-4
SUSTAINABILITY_LEVELS = {
    "benefits_beyond_helping_patients": (3, 3, 4, 3, 3),
    "credibility_of_the_benefits": (4, 3, 4, 4, 3),
    "adaptability": (3, 3, 3, 2, 3),
    "monitoring_progress": (4, 4, 3, 4, 4),
    "staff_involvement_and_training": (3, 2, 3, 3, 2),
    "staff_behaviours": (3, 3, 3, 3, 4),
    "senior_leadership": (2, 1, 2, 2, 2),
    "clinical_leadership": (3, 3, 4, 3, 3),
    "fit_with_goals_and_culture": (3, 4, 3, 3, 3),
    "infrastructure": (1, 2, 2, 1, 2),
}
ASSESSORS = (
    ("A", "project_lead"),
    ("B", "patient_partner"),
    ("C", "staff"),
    ("D", "staff"),
    ("E", "facilitator"),
)


def _team() -> pd.DataFrame:
    rows = []
    for org, unit, member, role in TEAM_ROWS:
        rows.append((org, unit, *TEAM_PROJECTS[(org, unit)], member, role))
    return pd.DataFrame(
        rows,
        columns=[
            "org_code",
            "unit",
            "project",
            "care_setting",
            "start_date",
            "vision",
            "aim",
            "member",
            "role",
        ],
    )


def _audits(rng: np.random.Generator, first_week: pd.Timestamp, n_weeks: int) -> pd.DataFrame:
    """Weekly teach-back audits: every discharge in the audit week, done or not (binomial)."""
    rows = []
    for (org, unit), steps in AUDIT_PLAN.items():
        first = steps[0][0]
        for week in range(first, n_weeks + 1):
            share = [s for w, s in steps if w <= week][-1]
            opportunities = int(rng.integers(18, 31))
            done = int(rng.binomial(opportunities, share))
            rows.append((org, unit, day(first_week, week, 4), *AUDIT_MEASURE, opportunities, done))
    return pd.DataFrame(
        rows,
        columns=[
            "org_code",
            "unit",
            "audit_date",
            "measure_id",
            "measure_name",
            "opportunities",
            "done",
        ],
    )


def _sustainability(first_week: pd.Timestamp) -> pd.DataFrame:
    rows = [
        ("ZA1", "Ash Ward", day(first_week, 44, 2), assessor, role, factor, levels[i])
        for factor, levels in SUSTAINABILITY_LEVELS.items()
        for i, (assessor, role) in enumerate(ASSESSORS)
    ]
    return pd.DataFrame(
        rows,
        columns=["org_code", "unit", "assessed_on", "assessor", "role", "factor", "level"],
    )


def journey_tables(seed: int, first_week: pd.Timestamp, n_weeks: int) -> dict[str, pd.DataFrame]:
    """The sample's journey tables, keyed like :data:`pxlib.data.schemas.FILE_NAMES`.

    ``first_week`` is the Monday of the sample's week 1 and ``n_weeks`` its length.
    """
    rng = np.random.default_rng([seed, 12])
    return {
        "team": _team(),
        "codesign_sessions": pd.DataFrame(
            SESSIONS,
            columns=[
                "org_code",
                "unit",
                "session_id",
                "session_date",
                "kind",
                "patients",
                "carers",
                "staff",
            ],
        ),
        "what_matters": pd.DataFrame(
            WHAT_MATTERS,
            columns=["org_code", "unit", "session_id", "voice", "statement", "theme"],
        ),
        "votes": pd.DataFrame(
            CANDIDATES,
            columns=[
                "org_code",
                "unit",
                "candidate_id",
                "statement",
                "theme",
                "question_id",
                "patient_votes",
                "carer_votes",
                "staff_votes",
                "affordable",
            ],
        ),
        "driver_diagram": pd.DataFrame(
            DRIVER_ROWS, columns=["org_code", "unit", "node_id", "level", "parent_id", "text"]
        ),
        "audits": _audits(rng, first_week, n_weeks),
        "spread_plan": pd.DataFrame(
            [
                (org, unit, wave, lead, day(first_week, week), adapted)
                for org, unit, wave, lead, week, adapted in SPREAD_ROWS
            ],
            columns=["org_code", "unit", "wave", "lead", "start_date", "adaptations"],
        ),
        "sustainability": _sustainability(first_week),
    }


def with_pdsa_journey(pdsa: pd.DataFrame) -> pd.DataFrame:
    """The sample PDSA log with the journey columns (:data:`PDSA_JOURNEY`) added."""
    extra = pd.DataFrame.from_dict(PDSA_JOURNEY, orient="index")
    out = pdsa.merge(extra, left_on="cycle_id", right_index=True, how="left")
    out["prediction_value"] = out["prediction_value"].astype("Int64")
    return out.fillna({c: "" for c in extra.columns if c != "prediction_value"})


README_ROWS = (
    ("team", "the improvement team of ZA1 Ash Ward and ZA4 Larch Ward, by role"),
    ("codesign_sessions", "co-design conversations, a survey and workshops (ZA1, ZA4)"),
    ("what_matters", "what patients, carers and staff said matters (ZA1, ZA4)"),
    ("votes", "ZA1's four candidate Always Events with votes by patients, carers and staff"),
    ("driver_diagram", "ZA1 Ash Ward's aim, drivers and change ideas"),
    ("audits", "weekly staff audits of teach-back (TB1) on Ash Ward, and Beech Ward from wave 2"),
    ("spread_plan", "ZA1's spread: Ash Ward (wave 1), Beech Ward (wave 2), Cedar Ward (wave 3)"),
    ("sustainability", "Ash Ward's NHS Sustainability Model self-assessment by five assessors"),
)

README_TRUTH = (
    "- **The complete journey** is ZA1 Ash Ward: four co-design sessions, four candidate",
    "  statements voted on (C1, measured by AE1, has the most votes), a driver diagram whose",
    "  change ideas CI1 and CI2 the PDSA ramp R1 (ZA1-1 to ZA1-3) tests, each cycle with a",
    "  numeric prediction about the teach-back audit TB1 (60 %, 80 %, 85 %).",
    "- **Teach-back audits** (TB1) on Ash Ward are planted at 20 % done until week 7, 35 % in",
    "  weeks 8-11 (cycle ZA1-1), 62 % in weeks 12-15 (ZA1-2), 97 % in weeks 16-18 (ZA1-3)",
    "  and 93 % from week 19: the first two predictions are not met, the third is (with about",
    "  20-30 audits a week, a cycle of 3-4 weeks measures each share to within about 10 points). Beech Ward",
    "  (spread wave 2 from week 31) audits from week 31 at 25 %, 80 % from week 37.",
    "- **Spread**: Cedar Ward's wave 3 starts after the last week of data (not started).",
    "- **Sustainability**: the weakest factors of Ash Ward's assessment are infrastructure",
    "  and senior leadership (mean levels 1.6 and 1.8 of 4).",
    "- **Partial journey**: ZA4 Larch Ward has a team, two sessions and what matters, but no",
    "  votes or driver diagram yet; the other trusts have none of these files' rows.",
)
