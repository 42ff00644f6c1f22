"""What to do when a journey file is missing: its name, what it is for, how to gather it.

One sentence per file, built from the file's schema
(:mod:`pxlib.data.journey_schemas`), so the columns named are the ones the
loader reads (optional columns marked). Every notebook, storyboard and report
that finds a journey file absent says it in these words; none invents the
missing content.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pxlib.data.journey_schemas import JOURNEY_SCHEMAS
from pxlib.data.schemas import FILE_NAMES
from pxlib.errors import DataValidationError

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData

#: what each journey file is for
PURPOSE = {
    "team": "to record who is in the improvement team, with their roles",
    "codesign_sessions": "to record each conversation, workshop or survey with patients, "
    "carers and staff, and how many took part",
    "what_matters": "to keep what people said matters, in their words",
    "votes": "to rank the team's own candidate Always Events",
    "driver_diagram": "to link the aim to its drivers and the change ideas being tested",
    "audits": "to chart what staff do (process measures) beside what patients report",
    "spread_plan": "to follow each unit that takes up the Always Event",
    "sustainability": "to see which factors put the gains at risk",
}
#: how a team gathers it, in the toolkit's order of work
HOW = {
    "team": "At the first meeting, list the executive sponsor, the project lead, the "
    "facilitator, patient partners and carers (by role, not by name) and staff.",
    "codesign_sessions": "After each session, write one row: its date, its kind and how many "
    "patients, carers and staff took part.",
    "what_matters": "Ask patients and carers “What matters to you about …?” and write each "
    "answer as it was said, one per row, leaving names out; a theme can be added later.",
    "votes": "At a co-design workshop, write the candidates in the patient's words (“I will "
    "always …”), link each to the survey question that would measure it, and count the votes "
    "of patients, carers and staff separately.",
    "driver_diagram": "With the team, write the aim, the primary and secondary drivers and "
    "the change ideas (each with an id the PDSA log can name).",
    "audits": "Each day, staff tally how many patients the step was due for and how many "
    "had it done.",
    "spread_plan": "Agree with each next unit its wave, its lead, its start date and what it "
    "will adapt.",
    "sustainability": "Each team member scores the ten factors of the NHS Sustainability "
    "Model from 1 to 4, without conferring.",
}


def missing_file(table: str) -> str:
    """The sentence shown when journey file ``table`` is absent: name, why, how, columns."""
    schema = next((s for s in JOURNEY_SCHEMAS if s.name == table), None)
    if schema is None:
        raise DataValidationError(f"{table!r} is not a journey file")
    columns = ", ".join(c.name + ("" if c.required else " (optional)") for c in schema.columns)
    return (
        f"No {FILE_NAMES[table]} in the data folder for this organisation yet: add it "
        f"{PURPOSE[table]}. {HOW[table]} Columns: {columns}."
    )


def missing_files(data: WorkbookData, names: Sequence[str]) -> list[str]:
    """:func:`missing_file` for each table of ``names`` with no rows for this organisation."""
    return [
        missing_file(name)
        for name in names
        if getattr(data, name) is None or not len(getattr(data, name))
    ]
