"""Loaders of the improvement-journey files, with their checks.

Each loader reads one file of :mod:`pxlib.data.journey_schemas` the way the
other loaders do (:func:`pxlib.data.loaders.read_table`, forgiving column names,
every bad row set aside with its file, row, column and reason) and adds the
checks that need the other tables: the organisation and unit exist, a
what-matters statement's session is in the sessions file, a driver-diagram box
leads to a box of the level above, an audit's ``done`` is at most its
``opportunities``. :func:`load_journey` loads whichever of these files a data
folder holds, in the order their cross-checks need.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from pxlib.data import loaders
from pxlib.data.journey_schemas import (
    AUDITS,
    CODESIGN_SESSIONS,
    DRIVER_DIAGRAM,
    SPREAD_PLAN,
    SUSTAINABILITY,
    TEAM,
    VOTES,
    WHAT_MATTERS,
)
from pxlib.data.validation import (
    LoadResult,
    RowIssues,
    check_known_orgs,
    check_known_units,
    finish_load,
    pairs_in,
    read_and_validate,
)

#: the levels of the Sustainability Model's descriptions, weakest to strongest
SUSTAINABILITY_LEVELS = (1, 4)
#: the level each driver-diagram box may lead to
DRIVER_PARENTS = {
    "aim": (),
    "primary": ("aim",),
    "secondary": ("primary",),
    "change_idea": ("primary", "secondary"),
}


#: a driver-diagram level in words, as a box of that level is named in a message
BOX_WORDS = {
    "aim": "the aim",
    "primary": "a primary driver",
    "secondary": "a secondary driver",
    "change_idea": "a change idea",
}


def _check_units(conv: pd.DataFrame, units: pd.DataFrame | None, issues: RowIssues) -> None:
    """Reject rows whose unit is not a unit of their organisation in units.csv (an empty
    units table checks nothing)."""
    if units is not None and not units.empty:
        check_known_units(conv, units, issues)


def _same_within(
    conv: pd.DataFrame, issues: RowIssues, key: list[str], columns: list[str], what: str
) -> None:
    """Reject rows of a group whose ``columns`` differ from the group's first row."""
    for column in columns:
        values = conv[column].astype(str).where(conv[column].notna(), "")
        first = values.groupby([conv[k].astype(str).fillna("") for k in key]).transform("first")
        issues.add(
            values.ne(first),
            column,
            f"{column} differs from the first row of this {what}; write it the same on every row",
        )


def load_team(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """The project team: one row per member; project, setting and start date agree per project."""
    frame, conv, issues, source, notes = read_and_validate(path, TEAM, as_of=as_of)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    _same_within(
        conv,
        issues,
        ["org_code", "unit"],
        ["project", "care_setting", "start_date", "vision", "aim"],
        "project",
    )
    return finish_load(frame, conv, issues, source, strict, notes)


def load_codesign_sessions(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Co-design sessions; every session needs at least one participant counted."""
    frame, conv, issues, source, notes = read_and_validate(path, CODESIGN_SESSIONS, as_of=as_of)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    people = conv[["patients", "carers", "staff"]]
    issues.add(
        people.fillna(0).sum(axis=1).eq(0),
        "patients, carers, staff",
        "no one is counted as taking part: give how many patients, carers and staff came",
    )
    return finish_load(frame, conv, issues, source, strict, notes)


def load_what_matters(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    sessions: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Statements heard; a ``session_id`` must be a session of the same organisation."""
    frame, conv, issues, source, notes = read_and_validate(path, WHAT_MATTERS)
    check_known_orgs(conv, organisations, issues)
    if sessions is not None and not sessions.empty:
        named = conv["session_id"].notna()
        known = pairs_in(
            conv["org_code"], conv["session_id"], sessions["org_code"], sessions["session_id"]
        )
        issues.add(
            named & ~known,
            "session_id",
            "session '"
            + conv["session_id"].astype(str)
            + "' is not in the co-design sessions file",
        )
    return finish_load(frame, conv, issues, source, strict, notes)


def load_votes(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    question_bank: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Candidate statements and votes; a ``question_id`` must be in the question bank."""
    frame, conv, issues, source, notes = read_and_validate(path, VOTES)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    if question_bank is not None and not question_bank.empty:
        named = conv["question_id"].notna()
        issues.add(
            named & ~conv["question_id"].isin(set(question_bank["question_id"])),
            "question_id",
            "question '" + conv["question_id"].astype(str) + "' is not in the question bank",
        )
    return finish_load(frame, conv, issues, source, strict, notes)


def load_driver_diagram(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Driver diagram boxes; each box leads to a box of the level above (:data:`DRIVER_PARENTS`).

    An aim has no parent; a primary driver leads to the aim, a secondary driver to
    a primary driver, a change idea to a primary or secondary driver; one aim per
    organisation and unit.
    """
    frame, conv, issues, source, notes = read_and_validate(path, DRIVER_DIAGRAM)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    level_of = conv.set_index([conv["org_code"].astype(str), conv["node_id"].astype(str)])["level"]
    level_of = level_of[~level_of.index.duplicated()]
    parent_key = pd.MultiIndex.from_arrays(
        [conv["org_code"].astype(str), conv["parent_id"].astype(str)]
    )
    parent_level = pd.Series(level_of.reindex(parent_key).to_numpy(), index=conv.index)
    is_aim = conv["level"].eq("aim")
    has_parent = conv["parent_id"].notna()
    issues.add(
        is_aim & has_parent, "parent_id", "an aim leads to no other box: leave parent_id empty"
    )
    issues.add(
        ~is_aim & ~has_parent & conv["level"].notna(),
        "parent_id",
        "parent_id is empty: say which box this one leads to",
    )
    unknown = ~is_aim & has_parent & parent_level.isna()
    issues.add(
        unknown,
        "parent_id",
        "parent '" + conv["parent_id"].astype(str) + "' is not a box of this organisation",
    )
    wrong = pd.Series(
        [
            bool(p == p and lv in DRIVER_PARENTS and p not in DRIVER_PARENTS[lv])
            for lv, p in zip(conv["level"], parent_level, strict=True)
        ],
        index=conv.index,
    )
    box = conv["level"].map(BOX_WORDS).fillna("a box")
    allowed = conv["level"].map(
        lambda lv: " or ".join(BOX_WORDS[p] for p in DRIVER_PARENTS.get(lv, ()))
    )
    issues.add(
        wrong & ~unknown & ~is_aim,
        "parent_id",
        box
        + " must lead to "
        + allowed.astype(str)
        + ", not to "
        + parent_level.map(BOX_WORDS).astype(str),
    )
    aims = conv[is_aim]
    issues.add(
        is_aim
        & aims.duplicated(["org_code", "unit"], keep="first").reindex(conv.index, fill_value=False),
        "level",
        "a second aim for this organisation and unit: a driver diagram has one aim",
    )
    return finish_load(frame, conv, issues, source, strict, notes)


def load_audits(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Staff audits of a process step; ``done`` ≤ ``opportunities``, one name per measure."""
    frame, conv, issues, source, notes = read_and_validate(path, AUDITS, as_of=as_of)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    issues.add(
        conv["done"] > conv["opportunities"],
        "done",
        "done is more than the opportunities audited",
    )
    _same_within(conv, issues, ["org_code", "measure_id"], ["measure_name"], "measure")
    conv["week"] = loaders.iso_week_start(conv["audit_date"])
    return finish_load(frame, conv, issues, source, strict, notes)


def load_spread_plan(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """The spread plan: one row per unit, its wave, lead, start (may be ahead) and adaptations."""
    frame, conv, issues, source, notes = read_and_validate(path, SPREAD_PLAN, as_of=as_of)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    return finish_load(frame, conv, issues, source, strict, notes)


def load_sustainability(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Sustainability Model self-assessment; every level is 1 to 4."""
    frame, conv, issues, source, notes = read_and_validate(path, SUSTAINABILITY, as_of=as_of)
    check_known_orgs(conv, organisations, issues)
    _check_units(conv, units, issues)
    low, high = SUSTAINABILITY_LEVELS
    issues.add(
        (conv["level"] < low) | (conv["level"] > high),
        "level",
        f"level is outside {low} to {high} (1 = the weakest description of the factor, "
        f"{high} = the strongest)",
    )
    return finish_load(frame, conv, issues, source, strict, notes)


#: each journey table's loader, in the order the cross-checks need
LOADERS: dict[str, Callable[..., LoadResult]] = {
    "team": load_team,
    "codesign_sessions": load_codesign_sessions,
    "what_matters": load_what_matters,
    "votes": load_votes,
    "driver_diagram": load_driver_diagram,
    "audits": load_audits,
    "spread_plan": load_spread_plan,
    "sustainability": load_sustainability,
}


def load_journey(
    sources: dict[str, Path | None],
    load: Callable[..., pd.DataFrame],
    *,
    organisations: pd.DataFrame,
    units: pd.DataFrame | None,
    question_bank: pd.DataFrame,
    as_of: str | date | None,
) -> dict[str, pd.DataFrame]:
    """Every journey table, through ``load(name, loader, **checks)`` (empty when absent)."""
    common = {"organisations": organisations}
    dated = {"as_of": as_of}
    tables: dict[str, pd.DataFrame] = {}
    tables["team"] = load("team", load_team, units=units, **common, **dated)
    tables["codesign_sessions"] = load(
        "codesign_sessions", load_codesign_sessions, units=units, **common, **dated
    )
    tables["what_matters"] = load(
        "what_matters",
        load_what_matters,
        sessions=tables["codesign_sessions"] if sources.get("codesign_sessions") else None,
        **common,
    )
    tables["votes"] = load("votes", load_votes, units=units, question_bank=question_bank, **common)
    tables["driver_diagram"] = load("driver_diagram", load_driver_diagram, units=units, **common)
    for name in ("audits", "spread_plan", "sustainability"):
        tables[name] = load(name, LOADERS[name], units=units, **common, **dated)
    return tables
