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
from pxlib.data.schema_types import Schema
from pxlib.data.validation import Check, LoadResult, TableLoad, load_table, pairs_in

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


def _load_unit_table(
    path: str | Path | pd.DataFrame,
    schema: Schema,
    organisations: pd.DataFrame | None,
    units: pd.DataFrame | None,
    strict: bool,
    as_of: str | date | None,
    *checks: Check,
) -> LoadResult:
    """:func:`load_table` for a journey table of units: the units checked against ``units``
    unless it is absent or empty (the warning names the caller of the journey loader)."""
    return load_table(
        path,
        schema,
        strict=strict,
        as_of=as_of,
        organisations=organisations,
        units=None if units is None or units.empty else units,
        checks=checks,
        stacklevel=5,
    )


def _same_within(key: list[str], columns: list[str], what: str) -> Check:
    """A check rejecting rows of a group whose ``columns`` differ from the group's first row."""

    def check(load: TableLoad) -> None:
        conv = load.conv
        for column in columns:
            values = conv[column].astype(str).where(conv[column].notna(), "")
            first = values.groupby([conv[k].astype(str).fillna("") for k in key]).transform("first")
            load.issues.add(
                values.ne(first),
                column,
                f"{column} differs from the first row of this {what}; write it the same on every row",
            )

    return check


def load_team(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """The project team: one row per member; project, setting and start date agree per project."""
    same_project = _same_within(
        ["org_code", "unit"], ["project", "care_setting", "start_date", "vision", "aim"], "project"
    )
    return _load_unit_table(path, TEAM, organisations, units, strict, as_of, same_project)


def _someone_took_part(load: TableLoad) -> None:
    people = load.conv[["patients", "carers", "staff"]]
    load.issues.add(
        people.fillna(0).sum(axis=1).eq(0),
        "patients, carers, staff",
        "no one is counted as taking part: give how many patients, carers and staff came",
    )


def load_codesign_sessions(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Co-design sessions; every session needs at least one participant counted."""
    return _load_unit_table(
        path, CODESIGN_SESSIONS, organisations, units, strict, as_of, _someone_took_part
    )


def load_what_matters(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    sessions: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Statements heard; a ``session_id`` must be a session of the same organisation."""

    def session_known(load: TableLoad) -> None:
        if sessions is None or sessions.empty:
            return
        conv = load.conv
        named = conv["session_id"].notna()
        known = pairs_in(
            conv["org_code"], conv["session_id"], sessions["org_code"], sessions["session_id"]
        )
        load.issues.add(
            named & ~known,
            "session_id",
            "session '"
            + conv["session_id"].astype(str)
            + "' is not in the co-design sessions file",
        )

    return load_table(
        path, WHAT_MATTERS, strict=strict, organisations=organisations, checks=[session_known]
    )


def load_votes(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    question_bank: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Candidate statements and votes; a ``question_id`` must be in the question bank."""

    def question_known(load: TableLoad) -> None:
        if question_bank is None or question_bank.empty:
            return
        conv = load.conv
        load.issues.add(
            conv["question_id"].notna()
            & ~conv["question_id"].isin(set(question_bank["question_id"])),
            "question_id",
            "question '" + conv["question_id"].astype(str) + "' is not in the question bank",
        )

    return _load_unit_table(path, VOTES, organisations, units, strict, None, question_known)


def _boxes_lead_up(load: TableLoad) -> None:
    """Each box leads to a box of the level above (:data:`DRIVER_PARENTS`); one aim per
    organisation and unit."""
    conv, issues = load.conv, load.issues
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
    return _load_unit_table(
        path, DRIVER_DIAGRAM, organisations, units, strict, None, _boxes_lead_up
    )


def _done_within_opportunities(load: TableLoad) -> None:
    conv = load.conv
    load.issues.add(
        conv["done"] > conv["opportunities"],
        "done",
        "done is more than the opportunities audited",
    )


def _audit_week(load: TableLoad) -> None:
    load.conv["week"] = loaders.iso_week_start(load.conv["audit_date"])


def load_audits(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Staff audits of a process step; ``done`` ≤ ``opportunities``, one name per measure."""
    return _load_unit_table(
        path,
        AUDITS,
        organisations,
        units,
        strict,
        as_of,
        _done_within_opportunities,
        _same_within(["org_code", "measure_id"], ["measure_name"], "measure"),
        _audit_week,
    )


def load_spread_plan(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """The spread plan: one row per unit, its wave, lead, start (may be ahead) and adaptations."""
    return _load_unit_table(path, SPREAD_PLAN, organisations, units, strict, as_of)


def _levels_on_scale(load: TableLoad) -> None:
    low, high = SUSTAINABILITY_LEVELS
    level = load.conv["level"]
    load.issues.add(
        (level < low) | (level > high),
        "level",
        f"level is outside {low} to {high} (1 = the weakest description of the factor, "
        f"{high} = the strongest)",
    )


def load_sustainability(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Sustainability Model self-assessment; every level is 1 to 4."""
    return _load_unit_table(
        path, SUSTAINABILITY, organisations, units, strict, as_of, _levels_on_scale
    )


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
