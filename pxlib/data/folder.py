"""Load a whole data folder for one organisation, and score the answers.

A data folder holds the files named in :data:`pxlib.data.schemas.FILE_NAMES`
(the layout of ``data/sample/``), each as CSV or Excel: ``responses.csv`` or
``responses.xlsx`` (the name's case does not matter). :func:`find_input` is the
one place a table's file is looked for, by this module and by batch staging.
:func:`load_data_dir` loads each file that is present with its cross-checks
(organisations known, answers on the question's scale) and, given a
``trust_code``, keeps that organisation's record-level rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from pxlib.data import loaders
from pxlib.data.journey import load_journey
from pxlib.data.schemas import EQUALITY_ATTRIBUTES, FILE_NAMES, FREE_TEXT, SCHEMAS
from pxlib.disclosure import redact_free_text
from pxlib.errors import DataValidationError

SCORE = {"happened": 1.0, "not_happened": 0.0, "excluded": float("nan")}
#: the endings a table's file may have (``.xls`` is found, then refused with what to do)
INPUT_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls")


def find_input(data_dir: str | Path, name: str) -> Path | None:
    """The file of ``data_dir`` holding the table ``name``, or None when there is none.

    ``name`` is a key of :data:`FILE_NAMES` (``"responses"``) or a file name
    (``"responses.csv"``, ``"extra_records.csv"``): the file may be that stem with
    any ending of :data:`INPUT_SUFFIXES`, in any case. Two files for one table
    (``responses.csv`` and ``responses.xlsx``), or the stem with another ending
    (``responses.txt``), raise :class:`DataValidationError` naming them: pxlib
    never chooses between files or ignores one silently.
    """
    data_dir = Path(data_dir)
    stem = Path(FILE_NAMES.get(name, name)).stem.lower()
    if not data_dir.is_dir():
        return None
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and p.stem.lower() == stem)
    tables = [p for p in files if p.suffix.lower() in INPUT_SUFFIXES]
    others = [p.name for p in files if p.suffix.lower() not in INPUT_SUFFIXES]
    if others:
        raise DataValidationError(
            f"{data_dir}: {', '.join(others)} cannot be read; save the {stem} table as "
            f"{stem}.csv ('CSV UTF-8') or {stem}.xlsx, and keep only that file in the folder"
        )
    if len(tables) > 1:
        raise DataValidationError(
            f"{data_dir}: {' and '.join(p.name for p in tables)} are two files for the "
            f"{stem} table; keep one of them in the folder (move the other away)"
        )
    return tables[0] if tables else None


@dataclass
class WorkbookData:
    """The inputs of one run of the workbook, validated.

    Record-level tables (``responses``, ``pdsa_log``, ``margins``, ``units`` and the
    journey tables: ``team`` ... ``sustainability``) hold
    only ``trust_code``'s rows when one was given. ``rejected`` lists every row
    of every file that was set aside, with file, row, column and reason, and the
    row's ``org_code`` and ``unit`` as written (empty where the file has none), so
    a unit whose rows were set aside can be told.
    """

    data_dir: Path
    trust_code: str | None
    organisations: pd.DataFrame
    units: pd.DataFrame
    question_bank: pd.DataFrame
    responses: pd.DataFrame
    pdsa_log: pd.DataFrame
    margins: pd.DataFrame
    fft: pd.DataFrame
    gpps: pd.DataFrame
    rejected: pd.DataFrame
    #: the improvement journey (optional files; empty tables when absent)
    team: pd.DataFrame = field(default_factory=lambda: _empty("team"))
    codesign_sessions: pd.DataFrame = field(default_factory=lambda: _empty("codesign_sessions"))
    what_matters: pd.DataFrame = field(default_factory=lambda: _empty("what_matters"))
    votes: pd.DataFrame = field(default_factory=lambda: _empty("votes"))
    driver_diagram: pd.DataFrame = field(default_factory=lambda: _empty("driver_diagram"))
    audits: pd.DataFrame = field(default_factory=lambda: _empty("audits"))
    spread_plan: pd.DataFrame = field(default_factory=lambda: _empty("spread_plan"))
    sustainability: pd.DataFrame = field(default_factory=lambda: _empty("sustainability"))
    notes: list[str] = field(default_factory=list)
    #: the file each table was read from (tables without a file are absent)
    sources: dict[str, Path] = field(default_factory=dict)

    @property
    def organisation(self) -> pd.Series | None:
        """The organisations-file row of ``trust_code``."""
        if self.trust_code is None:
            return None
        return self.organisations.set_index("org_code").loc[self.trust_code]

    @property
    def catchment_practices(self) -> pd.DataFrame:
        """GP practices in the organisation's catchment (or the practice itself)."""
        orgs = self.organisations
        if self.trust_code is None:
            return orgs[orgs["org_type"] == "gp_practice"]
        own = (orgs["catchment_of"] == self.trust_code) | (
            (orgs["org_code"] == self.trust_code) & (orgs["org_type"] == "gp_practice")
        )
        return orgs[own]

    def scored(
        self, measure_type: str | None = "outcome", question_ids: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Respondent-level scores of the chosen questions (see :func:`score_responses`)."""
        return score_responses(
            self.responses, self.question_bank, measure_type=measure_type, question_ids=question_ids
        )


def _empty(schema_name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=SCHEMAS[schema_name].column_names)


def load_data_dir(
    data_dir: str | Path,
    trust_code: str | None = None,
    *,
    strict: bool = False,
    as_of: str | date | None = None,
) -> WorkbookData:
    """Load and validate every input file of a data folder.

    The organisations and question bank files are required; the other files are
    optional (an empty table stands in). Each is CSV or Excel (see
    :func:`find_input`). With ``trust_code``, that code must be in the organisations
    file, and record-level tables keep its rows only. Dates after ``as_of``
    (default: today) are rejected in responses, the PDSA log and FFT months.
    Free-text columns (:data:`pxlib.data.schemas.FREE_TEXT`: comments, PDSA notes)
    are redacted here (:func:`pxlib.disclosure.redact_free_text`), so no later
    step can show a phone number, postcode or name that redaction catches.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataValidationError(f"{data_dir}: data folder not found")
    sources = {name: find_input(data_dir, name) for name in FILE_NAMES}
    for required in ("organisations", "question_bank"):
        if sources[required] is None:
            raise DataValidationError(
                f"{data_dir / FILE_NAMES[required]}: file not found (nor as .xlsx); every "
                "data folder needs it"
            )
    results: list[tuple[str, loaders.LoadResult]] = []

    def load(name: str, loader, **kwargs) -> pd.DataFrame:
        if sources[name] is None:
            return _empty(name)
        result = loader(sources[name], strict=strict, **kwargs)
        results.append((name, result))
        return result.data

    orgs = load("organisations", loaders.load_organisations)
    if trust_code is not None:
        trust_code = loaders.normalise_code(str(trust_code))
        if trust_code not in set(orgs["org_code"]):
            raise DataValidationError(
                f"unknown organisation '{trust_code}': not in {sources['organisations']}"
            )
    bank = load("question_bank", loaders.load_question_bank)
    units = load("units", loaders.load_units, organisations=orgs)
    known_units = units if len(units) else None
    responses = load(
        "responses",
        loaders.load_responses,
        organisations=orgs,
        question_bank=bank,
        units=known_units,
        as_of=as_of,
    )
    journey = load_journey(
        sources, load, organisations=orgs, units=known_units, question_bank=bank, as_of=as_of
    )
    diagram = journey["driver_diagram"]
    pdsa = load(
        "pdsa_log",
        loaders.load_pdsa_log,
        organisations=orgs,
        change_ideas=diagram[diagram["level"] == "change_idea"] if len(diagram) else None,
        measures=set(bank["question_id"]) | set(journey["audits"]["measure_id"]),
        as_of=as_of,
    )
    margins = load("margins", loaders.load_margins, organisations=orgs, units=known_units)
    fft = load("fft", loaders.load_fft, as_of=as_of)
    gpps = load("gpps", loaders.load_gpps)

    if trust_code is not None:
        responses, pdsa, margins, units = (
            t[t["org_code"] == trust_code].reset_index(drop=True)
            for t in (responses, pdsa, margins, units)
        )
        journey = {
            name: t[t["org_code"] == trust_code].reset_index(drop=True)
            for name, t in journey.items()
        }
    responses = redact_free_text(responses, FREE_TEXT["responses"])
    pdsa = redact_free_text(pdsa, FREE_TEXT["pdsa_log"])
    journey = {
        name: redact_free_text(t, FREE_TEXT[name]) if name in FREE_TEXT else t
        for name, t in journey.items()
    }
    rejected = [_rejected_rows(r.rejected, name) for name, r in results if not r.rejected.empty]
    rejected_all = (
        pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=[*loaders.REJECTED_COLUMNS, *LOCATION_COLUMNS])
    )
    return WorkbookData(
        data_dir=data_dir,
        trust_code=trust_code,
        organisations=orgs,
        units=units,
        question_bank=bank,
        responses=responses,
        pdsa_log=pdsa,
        margins=margins,
        fft=fft,
        gpps=gpps,
        rejected=rejected_all,
        **journey,
        notes=[n for _, r in results for n in r.notes],
        sources={name: path for name, path in sources.items() if path is not None},
    )


#: columns of a rejected row kept beside its file, row, column and reason
LOCATION_COLUMNS = ("org_code", "unit")


def _rejected_rows(rejected: pd.DataFrame, schema_name: str) -> pd.DataFrame:
    """A loader's rejected rows as file, row, column, reason, org_code and unit.

    The location is read from the row's original values under whichever name the
    file gave the column (matched as the loaders match names), normalised as codes.
    """
    schema = SCHEMAS[schema_name]
    first = len(loaders.REJECTED_COLUMNS)  # the row's original values follow these
    out = rejected.iloc[:, :first].copy()
    for name in LOCATION_COLUMNS:
        names = set()
        if name in schema.column_names:
            column = schema.column(name)
            names = {loaders.normalise_name(n) for n in (column.name, *column.aliases)}
        originals = [loaders.normalise_name(c) for c in rejected.columns[first:]]
        at = next((i for i, c in enumerate(originals) if c in names), None)
        out[name] = "" if at is None else loaders.normalise_code(rejected.iloc[:, first + at])
    return out


def score_responses(
    responses: pd.DataFrame,
    question_bank: pd.DataFrame,
    *,
    measure_type: str | None = "outcome",
    question_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per respondent and question, with ``happened`` scored from the question bank.

    ``happened`` is 1.0 where the answer counts as the Always Event happening, 0.0
    where it counts as not happening, and NaN where it leaves the denominator
    (don't know, not applicable, blank). Choose questions by ``measure_type``
    (outcome, process, balancing; None for all) or by ``question_ids``.
    Respondent attributes used for weighting and the equality check are carried along.
    """
    bank = question_bank.copy()
    if "answer_key" not in bank.columns:
        bank["answer_key"] = loaders.normalise_answer(bank["answer"].fillna(""))
    chosen = bank
    if question_ids is not None:
        chosen = chosen[chosen["question_id"].isin(list(question_ids))]
    elif measure_type is not None:
        chosen = chosen[chosen["measure_type"] == measure_type]
    answers = responses[responses["question_id"].isin(set(chosen["question_id"]))].copy()
    answers["answer_key"] = loaders.normalise_answer(answers["answer"].fillna(""))
    scored = answers.merge(
        chosen[["question_id", "answer_key", "counts_as", "measure_type"]],
        on=["question_id", "answer_key"],
        how="left",
        validate="many_to_one",
    )
    # A blank answer leaves the denominator unless the bank scores blanks explicitly.
    scored["counts_as"] = scored["counts_as"].fillna("excluded")
    scored["measure_type"] = scored["question_id"].map(
        chosen.drop_duplicates("question_id").set_index("question_id")["measure_type"]
    )
    scored["happened"] = scored["counts_as"].map(SCORE).astype(float)
    attributes = [c for c in EQUALITY_ATTRIBUTES if c in scored.columns]
    columns = [
        "org_code",
        "unit",
        "respondent_id",
        "response_date",
        "week",
        "question_id",
        "measure_type",
        "happened",
        *attributes,
    ]
    if "week" not in scored.columns:
        scored["week"] = loaders.iso_week_start(scored["response_date"])
    return scored[columns].reset_index(drop=True)
