"""The Friends and Family Test layouts NHS England publishes, as data.

Every fact here comes from ``../shared/national-data.md`` section 1, whose source keys
are cited: the published templates [T-IP, T-AE, T-Amb, T-OP, T-Mat] and the NHS England
pipeline's configuration [FFT-cfg]. The reader (:mod:`pxlib.data.national.fft`) finds
header rows by their text; the rows given here are where the templates put them, used to
warn when a file differs and by the writer (:mod:`pxlib.data.national.fft_writer`).

Levels (the keys of :func:`pxlib.data.national.read_fft`'s result):

=========  ==========================================================================
``icb``    sheet ``ICB`` (``PTS ICB``, ``ICB Q1``...): integrated care boards and ``IS1``
``trust``  the provider level: ``Trusts``, ``Orgs`` (outpatient), ``PTS Org`` (ambulance)
``site``   ``Sites``
``ward``   ``Wards`` (inpatient only)
``mode``   ``Mode Org`` (ambulance): responses by collection mode per organisation
=========  ==========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: the six answers, in questionnaire order [T-IP Notes!A7]
ANSWERS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
POSITIVE = ("very_good", "good")
NEGATIVE = ("poor", "very_poor")
COUNTS = (*ANSWERS, "total_responses", "total_eligible")
PERCENTAGES = ("pct_positive", "pct_negative")
#: NHS England's suppression threshold: 1-4 responses are suppressed [FFT-cfg; T-IP Notes!A45]
THRESHOLD = 5
#: the ICB code NHS England gives independent-sector providers [FFT-cfg IS1_CODE]
IS1_CODE = "IS1"
IS1_NAME = "INDEPENDENT SECTOR PROVIDERS"

LEVELS = ("icb", "trust", "site", "ward", "mode")
#: identifying columns of each level, in output order
LEVEL_KEYS = {
    "icb": ("icb_code", "icb_name"),
    "trust": ("icb_code", "org_code", "org_name"),
    "site": ("icb_code", "org_code", "org_name", "site_code", "site_name"),
    "ward": ("icb_code", "org_code", "org_name", "site_code", "site_name", "ward"),
    "mode": ("icb_code", "org_code", "org_name"),
}
#: the unit a row of each level is: its codes (names are not part of it)
UNIT_KEYS = {
    "icb": ("icb_code",),
    "trust": ("org_code",),
    "site": ("org_code", "site_code"),
    "ward": ("org_code", "site_code", "ward"),
    "mode": ("org_code",),
}
#: each level's parent level in the suppression hierarchy [FFT-sup; national-data.md 1.5]
PARENT = {"icb": None, "trust": "icb", "site": "trust", "ward": "site"}
#: words a caller may use for a level (besides sheet names)
LEVEL_ALIASES = {
    "icb": "icb",
    "icbs": "icb",
    "trust": "trust",
    "trusts": "trust",
    "org": "trust",
    "orgs": "trust",
    "organisation": "trust",
    "provider": "trust",
    "site": "site",
    "sites": "site",
    "ward": "ward",
    "wards": "ward",
    "mode": "mode",
    "mode org": "mode",
}

#: maternity sheet suffix -> touchpoint [T-Mat Summary rows 12-23]
TOUCHPOINTS = {
    "Q1": "antenatal",
    "Q2": "birth",
    "Q3": "postnatal ward",
    "Q4": "postnatal community",
}

#: collection modes, published label -> column [T-IP, T-AE, T-Amb, T-OP; FFT-cfg MODE_COLS]
MODES = {
    "Mode SMS": "mode_sms",
    "Mode Electronic Discharge": "mode_electronic_discharge",
    "Mode Electronic Home": "mode_electronic_home",
    "Mode Paper Discharge": "mode_paper_discharge",
    "Mode Paper Home": "mode_paper_home",
    "Mode Electronic At Appointment": "mode_electronic_at_appointment",
    "Mode Electronic After Appointment": "mode_electronic_after_appointment",
    "Mode Paper At Appointment": "mode_paper_at_appointment",
    "Mode Paper After Appointment": "mode_paper_after_appointment",
    "Mode Telephone": "mode_telephone",
    "Mode Online": "mode_online",
    "Mode Other": "mode_other",
}
_IP_MODES = (
    "Mode SMS",
    "Mode Electronic Discharge",
    "Mode Electronic Home",
    "Mode Paper Discharge",
    "Mode Paper Home",
    "Mode Telephone",
    "Mode Online",
    "Mode Other",
)
_AE_MODES = tuple(m for m in _IP_MODES if m != "Mode Electronic Home")
_OP_MODES = (
    "Mode SMS",
    "Mode Electronic At Appointment",
    "Mode Electronic After Appointment",
    "Mode Paper At Appointment",
    "Mode Paper After Appointment",
    "Mode Telephone",
    "Mode Online",
    "Mode Other",
)


def normalise_label(value: object) -> str:
    """A header cell as compared: lower case, apostrophes dropped, spaces collapsed."""
    text = str(value).replace("\u2019", "'").replace("'", "").replace("\n", " ")
    return re.sub(r"\s+", " ", text).strip().lower()


#: published header label (normalised) -> column; variants as national-data.md lists them
PUBLISHED_COLUMNS = {
    "icb code": "icb_code",
    "icb name": "icb_name",
    "trust code": "org_code",
    "trust name": "org_name",
    "org code": "org_code",
    "org name": "org_name",
    "organisation code": "org_code",
    "organisation name": "org_name",
    "site code": "site_code",
    "site name": "site_name",
    "ward name": "ward",
    "total responses": "total_responses",
    "total eligible": "total_eligible",
    "percentage positive": "pct_positive",
    "percentage negative": "pct_negative",
    "% positive": "pct_positive",
    "% negative": "pct_negative",
    "very good": "very_good",
    "good": "good",
    "neither good nor poor": "neither",
    "poor": "poor",
    "very poor": "very_poor",
    "dont know": "dont_know",
    "first speciality": "first_speciality",
    "first specialty": "first_speciality",
    "second speciality": "second_speciality",
    "second specialty": "second_speciality",
    **{normalise_label(label): col for label, col in MODES.items()},
}
#: banners merged over a group of columns [T-IP row 10, row 9; T-OP row 7]
BANNERS = ("breakdown of responses", "mode of collection", "response mode")


@dataclass(frozen=True)
class SheetLayout:
    """One published data sheet: its name, level, header labels in order and modes."""

    sheet: str
    level: str
    labels: tuple[str, ...]  # header labels, left to right (answers and modes included)
    modes: tuple[str, ...] = ()
    touchpoint: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(PUBLISHED_COLUMNS[normalise_label(label)] for label in self.labels)


@dataclass(frozen=True)
class SettingLayout:
    """One setting's published workbook [national-data.md 1.2]."""

    setting: str
    title_words: tuple[str, ...]  # words of the Notes title that name the setting
    title_cell: str  # where the Notes title is: "A2" (A&E: "B2")
    header_row: int  # the first header row (1-based) as the template has it
    england_labels: tuple[str, ...]  # the England rows under the headers
    modes_on_second_row: bool  # mode names on the sub-header row (A&E, Mode Org, maternity)
    sheets: tuple[SheetLayout, ...]

    @property
    def first_data_row(self) -> int:
        return self.header_row + 2 + len(self.england_labels) + 1


_ANSWER_LABELS = ("Very Good", "Good", "Neither Good nor Poor", "Poor", "Very Poor", "Don't Know")
_TOTALS = ("Total Responses", "Total Eligible", "Percentage Positive", "Percentage Negative")
_TOTALS_NO_ELIGIBLE = ("Total Responses", "Percentage Positive", "Percentage Negative")
_ENGLAND = (
    "England (including Independent Sector Providers)",
    "England (excluding Independent Sector Providers)",
)
_ENGLAND_MAT = (
    "England (including Independent Sector providers)",
    "England (excluding Independent Sector providers)",
)
_ICB = ("ICB Code", "ICB Name")
_TRUST = ("ICB Code", "Trust Code", "Trust Name")
_SITE = (*_TRUST, "Site Code", "Site Name")


def _sheet(sheet, level, ids, totals=_TOTALS, after=(), modes=(), touchpoint=None):
    return SheetLayout(
        sheet, level, (*ids, *totals, *_ANSWER_LABELS, *after, *modes), modes, touchpoint
    )


def _maternity_sheets() -> tuple[SheetLayout, ...]:
    sheets = []
    for q, touchpoint in TOUCHPOINTS.items():
        totals = _TOTALS if q == "Q2" else _TOTALS_NO_ELIGIBLE  # [T-Mat]
        sheets.append(_sheet(f"ICB {q}", "icb", _ICB, totals, touchpoint=touchpoint))
        sheets.append(_sheet(f"Trusts {q}", "trust", _TRUST, totals, touchpoint=touchpoint))
        if q != "Q4":  # no Sites Q4 [T-Mat]
            sheets.append(_sheet(f"Sites {q}", "site", _SITE, totals, touchpoint=touchpoint))
    return tuple(sheets)


SETTINGS: dict[str, SettingLayout] = {
    "inpatient": SettingLayout(
        "inpatient",
        ("inpatient",),
        "A2",
        10,
        _ENGLAND,
        False,
        (
            _sheet("ICB", "icb", _ICB),
            _sheet("Trusts", "trust", _TRUST, modes=_IP_MODES),
            _sheet("Sites", "site", _SITE),
            _sheet(
                "Wards",
                "ward",
                (*_SITE, "Ward Name"),
                after=("First Speciality", "Second Speciality"),
            ),
        ),
    ),
    "ae": SettingLayout(
        "ae",
        ("a&e", "a & e", "accident and emergency", "emergency department"),
        "B2",
        3,
        ("England",),
        True,
        (
            _sheet("ICB", "icb", _ICB),
            _sheet("Trusts", "trust", _TRUST, modes=_AE_MODES),
            _sheet("Sites", "site", _SITE),
        ),
    ),
    "ambulance": SettingLayout(
        "ambulance",
        ("ambulance", "patient transport"),
        "A2",
        8,
        _ENGLAND,
        True,
        (
            _sheet("PTS ICB", "icb", _ICB),
            _sheet("PTS Org", "trust", ("ICB code", "Org Code", "Organisation Name")),
            SheetLayout(
                "Mode Org",
                "mode",
                ("ICB code", "Org Code", "Organisation Name", "Total Responses", *_AE_MODES),
                _AE_MODES,
            ),
        ),
    ),
    "outpatient": SettingLayout(
        "outpatient",
        ("outpatient",),
        "A2",
        8,
        _ENGLAND,
        False,
        (
            _sheet("ICB", "icb", _ICB),
            _sheet("Orgs", "trust", ("ICB Code", "Org Code", "Org Name"), modes=_OP_MODES),
        ),
    ),
    "maternity": SettingLayout(
        "maternity", ("maternity",), "A2", 9, _ENGLAND_MAT, True, _maternity_sheets()
    ),
}
#: words a caller may use for a setting
SETTING_ALIASES = {
    "inpatient": "inpatient",
    "inpatients": "inpatient",
    "ip": "inpatient",
    "ae": "ae",
    "a&e": "ae",
    "a and e": "ae",
    "ambulance": "ambulance",
    "pts": "ambulance",
    "outpatient": "outpatient",
    "outpatients": "outpatient",
    "op": "outpatient",
    "maternity": "maternity",
}
#: settings NHS England publishes whose layout no source seen confirms [national-data.md 1.2]
UNCONFIRMED_SETTINGS = ("community", "mental health", "gp", "general practice", "dental")

# --- the raw SDCS extract [national-data.md 1.3; FFT-cfg PROCESSING_LEVELS, COLUMN_MAPS] ---

RAW_HEADER_ROW = 3
#: raw sheet name -> (setting, level); sheets of unconfirmed columns map to level None
RAW_SHEETS: dict[str, tuple[str, str | None]] = {
    "Parent & Self Trusts - Ward Lev": ("inpatient", "ward"),
    "Parent & Self Trusts - Site Lev": ("inpatient", "site"),
    "Parent & Self Trusts - Organisa": ("inpatient", "trust"),
    "Parent & Self Trusts - Collecti": ("inpatient", None),
    "SiteSpec1": ("inpatient", None),
    "SiteSpec2": ("inpatient", None),
    "Parent & Self - Site Level": ("ae", "site"),
    "Parent & Self - Organisation Le": ("ae", "trust"),
    "Parent & Self - Collection Mode": ("ae", None),
    "Organisation_Level_PTS": ("ambulance", "trust"),
    "Collection Mode": ("ambulance", None),
}
#: raw header label (normalised) -> column ("" = read but not kept)
RAW_COLUMNS = {
    "yearnumber": "yearnumber",
    "periodname": "periodname",
    "parent org code": "icb_code",
    "parent name": "icb_name",
    "org code": "org_code",
    "org name": "org_name",
    "organisation name": "org_name",
    "site code": "site_code",
    "site name": "site_name",
    "site name max": "site_name",
    "ward name": "ward",
    "spec 1": "first_speciality",
    "spec 2": "second_speciality",
    "1 very good sum": "very_good",
    "2 good sum": "good",
    "3 neither good nor poor sum": "neither",
    "4 poor sum": "poor",
    "5 very poor sum": "very_poor",
    "6 dont know sum": "dont_know",
    "1 very good": "very_good",
    "2 good": "good",
    "3 neither good nor poor": "neither",
    "4 poor": "poor",
    "5 very poor": "very_poor",
    "6 dont know": "dont_know",
    "total responses": "total_responses",
    "total eligible sum": "total_eligible",
    "total eligible": "total_eligible",
    "prop_pos": "prop_pos",
    "prop_neg": "prop_neg",
    "title": "",
    "response rate": "",
}


def resolve_level(level: str) -> tuple[str, str | None]:
    """(level, sheet or None) for a level word or a published sheet name."""
    key = normalise_label(level)
    if key in LEVEL_ALIASES:
        return LEVEL_ALIASES[key], None
    for layout in SETTINGS.values():
        for sheet in layout.sheets:
            if normalise_label(sheet.sheet) == key:
                return sheet.level, sheet.sheet
    for sheet, (_, lev) in RAW_SHEETS.items():
        if lev and normalise_label(sheet) == key:
            return lev, sheet
    return "", None


def resolve_setting(setting: str) -> str:
    """A setting word as :data:`SETTINGS` names it ("" when unknown)."""
    return SETTING_ALIASES.get(normalise_label(setting), "")


def output_columns(level: str, extra: Iterable[str] = (), touchpoint: bool = False) -> list[str]:
    """The tidy frame's columns for ``level``, in order; ``extra`` (modes, ...) go before
    ``independent_sector``; ``touchpoint`` (maternity) after ``period``."""
    front = ["setting", "level", "period", *(["touchpoint"] if touchpoint else [])]
    front += LEVEL_KEYS[level]
    if level == "ward":
        front += ["first_speciality", "second_speciality"]
    return [*front, *COUNTS, *PERCENTAGES, "suppressed", *extra, "independent_sector"]
