"""Schemas of the inputs a team brings to the workbook.

Each schema lists its columns with the kind of value they hold, whether they
are required, and the other names a column is recognised by. Column names are
matched forgivingly: case, spaces, hyphens and underscores do not matter
(``"Org code"``, ``"org_code"`` and ``"ORG-CODE"`` are the same column).

The kinds:

- ``code``: an organisation or unit code, kept as text (``"010"`` stays ``"010"``);
- ``text``: free text; never quoted back in an error message;
- ``id``: an identifier, kept as text;
- ``date``: ISO ``YYYY-MM-DD`` or UK day-first ``DD/MM/YYYY`` (also ``DD-MM-YYYY``
  and ``DD.MM.YYYY``); never US month-first;
- ``count``: a whole number ≥ 0;
- ``number``: a number ≥ 0;
- ``proportion``: a number in [0, 1];
- ``choice``: one of a fixed set of values (matched ignoring case and spaces).

Dates are rejected when after the as-of date (a date not yet reached is a typo),
except in columns marked ``planned`` (a spread plan's start date may lie ahead).

The improvement-journey files (team, co-design sessions, what matters, votes, driver
diagram, audits, spread plan, sustainability assessment) are optional: a folder
without them still runs, and the notebooks say how to gather what is missing.
"""

from __future__ import annotations

from pxlib.data.journey_schemas import JOURNEY_SCHEMAS
from pxlib.data.schema_types import Column, Schema

ORG_TYPES = ("trust", "gp_practice", "other_provider")
MEASURE_TYPES = ("outcome", "process", "balancing")
COUNTS_AS = ("happened", "not_happened", "excluded")
PDSA_DECISIONS = ("adopt", "adapt", "abandon")
WEIGHTING_ATTRIBUTES = ("age_band", "sex", "ethnicity", "deprivation_quintile")
#: attributes the equality check compares groups by: the weighting ones and, where
#: recorded, disability, interpreter need and whether the patient is a carer
EQUALITY_ATTRIBUTES = (*WEIGHTING_ATTRIBUTES, "disability", "interpreter", "carer")
# What population a margins row describes (margins.csv ``describes``).
MARGIN_POPULATIONS = ("eligible", "catchment")
GPPS_SUPPRESSED = -97
PREDICTION_COMPARISONS = ("at_least", "at_most")


ORGANISATIONS = Schema(
    name="organisations",
    description="Organisations: trusts, GP practices and other providers, with their ICB.",
    columns=(
        Column(
            "org_code",
            "code",
            aliases=("code", "organisation_code", "org"),
            description="organisation code",
        ),
        Column("org_name", "text", aliases=("name", "organisation_name")),
        Column("org_type", "choice", choices=ORG_TYPES, aliases=("type", "organisation_type")),
        Column(
            "parent_code",
            "code",
            required=False,
            aliases=("parent", "icb", "icb_code", "parent_org_code"),
        ),
        Column(
            "catchment_of",
            "code",
            required=False,
            aliases=("catchment_trust", "trust_catchment"),
            description="for a GP practice: the trust whose catchment it is in",
        ),
    ),
    unique=("org_code",),
)

UNITS = Schema(
    name="units",
    description="Units (wards, clinics, teams) of each organisation and the site they are on.",
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column("unit", "code", aliases=("unit_name", "ward", "ward_name", "team", "clinic")),
        Column("site_code", "code", required=False, aliases=("site",)),
        Column("site_name", "text", required=False),
    ),
    unique=("org_code", "unit"),
)

RESPONSES = Schema(
    name="responses",
    description="Always Event survey responses, long format: one row per answer.",
    columns=(
        Column("response_id", "id", aliases=("id", "answer_id")),
        Column("respondent_id", "id", aliases=("patient_id", "respondent")),
        Column("org_code", "code", aliases=("organisation_code", "org", "organisation")),
        Column("unit", "code", aliases=("ward", "unit_name", "team", "clinic")),
        Column("response_date", "date", aliases=("date", "survey_date")),
        Column("question_id", "id", aliases=("question",)),
        Column("answer", "text", required=False, aliases=("response", "answer_value")),
        Column("age_band", "code", required=False, aliases=("age", "age_group")),
        Column("sex", "code", required=False, aliases=("gender",)),
        Column("ethnicity", "code", required=False, aliases=("ethnicity_group", "ethnic_group")),
        Column(
            "deprivation_quintile", "code", required=False, aliases=("imd_quintile", "deprivation")
        ),
        Column("disability", "code", required=False, aliases=("disabled",)),
        Column("interpreter", "code", required=False, aliases=("interpreter_needed",)),
        Column("carer", "code", required=False, aliases=("is_carer",)),
        Column("comment", "text", required=False, aliases=("comments", "free_text")),
    ),
    unique=("response_id",),
)

QUESTION_BANK = Schema(
    name="question_bank",
    description=(
        "Question bank, one row per question and answer option: whether the answer counts "
        "as the Always Event happening, not happening, or leaves the denominator."
    ),
    columns=(
        Column("question_id", "id", aliases=("question",)),
        Column("wording", "text", aliases=("question_text", "text")),
        Column("measure_type", "choice", choices=MEASURE_TYPES, aliases=("measure", "type")),
        Column("scale", "id"),
        Column("answer", "text", required=False, aliases=("answer_option", "option")),
        Column("counts_as", "choice", choices=COUNTS_AS, aliases=("scoring", "counts")),
    ),
    unique=("question_id", "answer"),
)

PDSA_LOG = Schema(
    name="pdsa_log",
    description="PDSA log: one row per Plan-Do-Study-Act cycle.",
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "organisation", "org")),
        Column("unit", "code", aliases=("ward", "team", "clinic")),
        Column("cycle_id", "id", aliases=("cycle", "pdsa_id")),
        Column("start_date", "date", aliases=("start",)),
        Column("end_date", "date", required=False, aliases=("end",)),
        Column("change_idea", "text", aliases=("change", "idea")),
        Column("prediction", "text", required=False),
        Column("what_happened", "text", required=False, aliases=("result", "study")),
        Column("decision", "choice", required=False, choices=PDSA_DECISIONS, aliases=("act",)),
        Column(
            "change_idea_id",
            "id",
            required=False,
            aliases=("idea_id",),
            description="the change idea's id in driver_diagram.csv",
        ),
        Column("ramp", "id", required=False, description="cycles of one ramp share this id"),
        Column("question", "text", required=False, description="what the cycle asks"),
        Column(
            "prediction_value",
            "number",
            required=False,
            aliases=("predicted", "predicted_value"),
            description="the predicted share: 0.85 or 85 (values above 1 are percentages)",
        ),
        Column(
            "prediction_comparison",
            "choice",
            required=False,
            choices=PREDICTION_COMPARISONS,
            description="at_least (the default) or at_most",
        ),
        Column(
            "prediction_measure",
            "id",
            required=False,
            description="the question_id or audit measure_id the prediction is about",
        ),
        Column("scale", "text", required=False, description='e.g. "1 nurse, 5 patients"'),
        Column("owner", "text", required=False, description="who runs the cycle"),
    ),
    unique=("org_code", "cycle_id"),
)

MARGINS = Schema(
    name="margins",
    description=(
        "Population margins for weighting: organisation, unit, the population they describe, "
        "variable, level, population count. describes=eligible: a unit's eligible patients (e.g. "
        "its discharges from the patient administration system by age band and sex), the only "
        "margins used to weight that unit's Always Event measures; describes=catchment: the "
        "organisation's catchment population (unit blank), valid only for comparing with "
        "national population surveys such as the GP Patient Survey. Without a describes column "
        "every margin is taken to describe the catchment population."
    ),
    columns=(
        Column("org_code", "code", aliases=("organisation_code", "org")),
        Column(
            "unit",
            "code",
            required=False,
            aliases=("ward", "unit_name", "team", "clinic"),
            description="the unit (from units.csv) whose eligible patients the row counts; "
            "blank = the whole organisation",
        ),
        Column(
            "describes",
            "choice",
            required=False,
            choices=MARGIN_POPULATIONS,
            aliases=("population_type", "describes_population"),
            description="eligible (the unit's eligible patients) or catchment (the "
            "organisation's catchment population); blank = catchment",
        ),
        Column("variable", "choice", choices=WEIGHTING_ATTRIBUTES, aliases=("var",)),
        Column("level", "code", aliases=("category", "value")),
        Column("population", "number", aliases=("count", "total", "population_count")),
    ),
    unique=("org_code", "unit", "variable", "level"),
)

FFT_ANSWER_COLUMNS = (
    "1 Very Good SUM",
    "2 Good SUM",
    "3 Neither Good nor Poor SUM",
    "4 Poor SUM",
    "5 Very Poor SUM",
    "6 Dont Know SUM",
)

FFT = Schema(
    name="fft",
    description="Friends and Family Test monthly extract, in NHS England's published layout.",
    columns=(
        Column("Yearnumber", "id", description='financial year, e.g. "2025_26"'),
        Column("Periodname", "id", description='month name, e.g. "AUGUST"'),
        Column("Parent org code", "code", required=False),
        Column("Org code", "code"),
        Column("Site code", "code", required=False),
        Column("Ward name", "code", required=False),
        *(Column(name, "count") for name in FFT_ANSWER_COLUMNS),
        Column("Total Responses", "count"),
        Column("Total Eligible SUM", "count", required=False),
        Column("Prop_Pos", "proportion", required=False),
        Column("Prop_Neg", "proportion", required=False),
    ),
    unique=("Yearnumber", "Periodname", "Org code", "Site code", "Ward name"),
)

GPPS = Schema(
    name="gpps",
    description=(
        "GP Patient Survey practice results: weighted percentages (0-1) and bases per "
        "question, -97 meaning suppressed."
    ),
    columns=(
        Column("practice_code", "code"),
        Column("practice_name", "text", required=False),
        Column("ics_code", "code", required=False),
        Column("pcn_code", "code", required=False),
        Column("year", "count", required=False),
        Column("distributed", "count", required=False),
        Column("received", "count", required=False),
        Column("resprate", "proportion", required=False),
    ),
    unique=("practice_code",),
    extra_columns="pattern",
    extra_pattern=r"^q\d+(base|_\d+pct)$",
)


SCHEMAS: dict[str, Schema] = {
    s.name: s
    for s in (
        ORGANISATIONS,
        UNITS,
        RESPONSES,
        QUESTION_BANK,
        PDSA_LOG,
        MARGINS,
        FFT,
        GPPS,
        *JOURNEY_SCHEMAS,
    )
}

#: free-text columns: what people wrote, redacted (pxlib.disclosure) as soon as a table is loaded
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "responses": ("comment",),
    "pdsa_log": ("change_idea", "prediction", "what_happened", "question", "scale"),
    "team": ("vision", "aim"),
    "what_matters": ("statement",),
    "votes": ("statement",),
    "driver_diagram": ("text",),
    "spread_plan": ("adaptations",),
}

# The file each input is read from in a data folder (the sample's layout).
FILE_NAMES: dict[str, str] = {
    "organisations": "organisations.csv",
    "units": "units.csv",
    "responses": "responses.csv",
    "question_bank": "question_bank.csv",
    "pdsa_log": "pdsa_log.csv",
    "margins": "margins.csv",
    "fft": "fft_monthly.csv",
    "gpps": "gpps_practices.csv",
    **{schema.name: f"{schema.name}.csv" for schema in JOURNEY_SCHEMAS},
}
