"""Schemas of the improvement-journey files: who the team is, what was heard, what was
chosen, the driver diagram, staff audits, the spread plan and the sustainability check.

Every file is optional; each has an ``org_code`` column, so batch staging hands
an organisation only its own rows (see :mod:`pxlib.report.isolation`).
"""

from __future__ import annotations

from pxlib.data.schema_types import Column, Schema

TEAM_ROLES = (
    "executive_sponsor",
    "project_lead",
    "facilitator",
    "patient_partner",
    "carer",
    "staff",
)
CODESIGN_KINDS = ("conversation", "workshop", "survey", "focus_group", "observation")
VOICES = ("patient", "carer", "staff")
DRIVER_LEVELS = ("aim", "primary", "secondary", "change_idea")
YES_NO = ("yes", "no", "unsure")
#: the ten factors of the NHS Sustainability Model (NHS Institute for Innovation and
#: Improvement, 2010), in the guide's order: process, staff, organisation
SUSTAINABILITY_FACTORS = (
    "benefits_beyond_helping_patients",
    "credibility_of_the_benefits",
    "adaptability",
    "monitoring_progress",
    "staff_involvement_and_training",
    "staff_behaviours",
    "senior_leadership",
    "clinical_leadership",
    "fit_with_goals_and_culture",
    "infrastructure",
)


TEAM = Schema(
    name="team",
    description=(
        "The improvement project and its team: one row per member, with the project's name, "
        "care setting, start date, vision and aim (the same on every row of a project)."
    ),
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", required=False, aliases=("ward", "team_unit")),
        Column("project", "text", aliases=("project_name",)),
        Column("care_setting", "text", required=False, aliases=("setting",)),
        Column("start_date", "date", required=False, aliases=("start",)),
        Column(
            "vision",
            "text",
            required=False,
            aliases=("vision_statement",),
            description='the Always Event in the patient\'s words ("I will always ...")',
        ),
        Column(
            "aim",
            "text",
            required=False,
            aliases=("aim_statement",),
            description='numeric and dated ("By ..., 95% of patients ...")',
        ),
        Column(
            "member",
            "text",
            required=False,
            aliases=("name", "member_name"),
            description="shown only for sponsor, lead and facilitator; patient partners "
            "and carers are counted, never named",
        ),
        Column("role", "choice", choices=TEAM_ROLES),
    ),
)

CODESIGN_SESSIONS = Schema(
    name="codesign_sessions",
    description="Co-design sessions: when, what kind, and how many patients, carers and staff took part.",
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", required=False, aliases=("ward",)),
        Column("session_id", "id", aliases=("session",)),
        Column("session_date", "date", aliases=("date",)),
        Column("kind", "choice", choices=CODESIGN_KINDS, aliases=("type", "session_type")),
        Column("patients", "count", required=False),
        Column("carers", "count", required=False),
        Column("staff", "count", required=False),
    ),
    unique=("org_code", "session_id"),
)

WHAT_MATTERS = Schema(
    name="what_matters",
    description="What matters: statements heard in co-design sessions (free text, redacted).",
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", required=False, aliases=("ward",)),
        Column("session_id", "id", required=False, aliases=("session",)),
        Column("voice", "choice", required=False, choices=VOICES, aliases=("who", "from")),
        Column("statement", "text", aliases=("what_matters", "heard", "quote")),
        Column("theme", "text", required=False),
    ),
)

VOTES = Schema(
    name="votes",
    description=(
        "The team's candidate Always Event statements, one row each, with votes by role and "
        "the question that would measure it."
    ),
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", required=False, aliases=("ward",)),
        Column("candidate_id", "id", aliases=("candidate", "id")),
        Column("statement", "text", aliases=("candidate_statement", "always_event")),
        Column("theme", "text", required=False),
        Column(
            "question_id",
            "id",
            required=False,
            description="the question bank question that would measure it (blank: none yet)",
        ),
        Column("patient_votes", "count", required=False, aliases=("votes_patients",)),
        Column("carer_votes", "count", required=False, aliases=("votes_carers",)),
        Column("staff_votes", "count", required=False, aliases=("votes_staff",)),
        Column(
            "affordable",
            "choice",
            required=False,
            choices=YES_NO,
            aliases=("affordable_and_sustainable",),
            description="the team's judgement: can it be done every time with what we have?",
        ),
    ),
    unique=("org_code", "unit", "candidate_id"),
)

DRIVER_DIAGRAM = Schema(
    name="driver_diagram",
    description=(
        "Driver diagram: one row per box (aim, primary driver, secondary driver, change idea) "
        "with the box it leads to."
    ),
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", required=False, aliases=("ward",)),
        Column("node_id", "id", aliases=("id", "box_id")),
        Column("level", "choice", choices=DRIVER_LEVELS, aliases=("kind", "type")),
        Column("parent_id", "id", required=False, aliases=("parent", "leads_to")),
        Column("text", "text", aliases=("label", "description")),
    ),
    unique=("org_code", "node_id"),
)

AUDITS = Schema(
    name="audits",
    description=(
        "Process audits recorded by staff: on a date, for a measure, how many opportunities "
        "there were and in how many the step was done."
    ),
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", aliases=("ward",)),
        Column("audit_date", "date", aliases=("date",)),
        Column("measure_id", "id", aliases=("measure",)),
        Column(
            "measure_name",
            "text",
            required=False,
            description='e.g. "Teach-back done before discharge"',
        ),
        Column("opportunities", "count", aliases=("eligible", "denominator")),
        Column("done", "count", aliases=("numerator", "compliant")),
    ),
    unique=("org_code", "unit", "audit_date", "measure_id"),
)

SPREAD_PLAN = Schema(
    name="spread_plan",
    description="Spread plan: which units take up the Always Event, in which wave, led by whom.",
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", aliases=("ward",)),
        Column("wave", "count"),
        Column("lead", "text", required=False),
        Column("start_date", "date", aliases=("start",), planned=True),
        Column("adaptations", "text", required=False, aliases=("adapted", "what_is_adapted")),
    ),
    unique=("org_code", "unit"),
)

SUSTAINABILITY = Schema(
    name="sustainability",
    description=(
        "NHS Sustainability Model self-assessment: each team member's level (1 = weakest "
        "description, 4 = strongest) for each of the ten factors."
    ),
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", aliases=("ward",)),
        Column("assessed_on", "date", aliases=("date",)),
        Column("assessor", "id", description="an initial or number, not a name"),
        Column("role", "choice", required=False, choices=TEAM_ROLES),
        Column("factor", "choice", choices=SUSTAINABILITY_FACTORS),
        Column("level", "count", aliases=("score",)),
    ),
    unique=("org_code", "unit", "assessed_on", "assessor", "factor"),
)

JOURNEY_SCHEMAS = (
    TEAM,
    CODESIGN_SESSIONS,
    WHAT_MATTERS,
    VOTES,
    DRIVER_DIAGRAM,
    AUDITS,
    SPREAD_PLAN,
    SUSTAINABILITY,
)
