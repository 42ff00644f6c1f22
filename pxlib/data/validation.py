"""Checking an input table against its schema, row by row.

:func:`match_columns` matches a file's column names to the schema's (forgivingly);
:func:`read_and_validate` reads a file (or takes a table), matches its columns and
validates and converts every column by its kind (code, id, text, date, choice,
count, number, proportion) and the schema's unique key, collecting every problem in
:class:`RowIssues`; a loader adds its own checks and calls :func:`finish_load`,
which sets the rejected rows aside in a :class:`LoadResult` (or raises with
``strict=True``). :func:`load_table` is that shape, the one every loader has: read and
check, organisations and units known, the loader's own checks on a :class:`TableLoad`,
finish. :func:`check_known_orgs`, :func:`check_known_units` and :func:`pairs_in` are the
checks against other tables that several loaders share.

Row numbers are those a person sees in a spreadsheet: the header is row 1, the
first data row is row 2. Error messages never quote answers or comments.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.normalise import (
    after_as_of,
    as_of_date,
    normalise_choice,
    normalise_code,
    normalise_name,
    parse_dates,
    parse_numbers,
    strip_cells,
)
from pxlib.data.reading import DataWarning, read_table
from pxlib.data.schema_types import Column, Schema
from pxlib.errors import ColumnError, DataValidationError

REJECTED_COLUMNS = ["file", "row", "column", "reason"]
FIRST_DATA_ROW = 2  # header is row 1


@dataclass
class LoadResult:
    """Valid rows (``data``) and every rejected row with its reason (``rejected``).

    ``rejected`` has the columns ``file``, ``row``, ``column``, ``reason`` and the
    rejected row's original values, one row per rejected input row (several
    reasons are joined by "; ").
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rejected.empty

    def describe(self, limit: int = 10) -> str:
        """A plain summary of what was loaded and rejected."""
        lines = [f"{self.source}: {len(self.data)} rows loaded, {len(self.rejected)} rejected."]
        for rec in self.rejected.head(limit).itertuples(index=False):
            lines.append(f"  row {rec.row}, column {rec.column}: {rec.reason}")
        if len(self.rejected) > limit:
            lines.append(f"  ... and {len(self.rejected) - limit} more rejected rows")
        lines.extend(self.notes)
        return "\n".join(lines)


def match_columns(
    frame: pd.DataFrame, schema: Schema, source: str
) -> tuple[pd.DataFrame, list[str]]:
    """Rename ``frame``'s columns to the schema's names, forgivingly.

    Raises :class:`ColumnError` naming the file when a required column is missing
    or when two columns of the file match the same schema column. Optional columns
    that are absent are added empty. Returns the renamed frame and notes.
    """
    lookup: dict[str, str] = {}
    for column in schema.columns:
        for alias in (column.name, *column.aliases):
            lookup.setdefault(normalise_name(alias), column.name)
    found: dict[str, list[str]] = {}
    renames: dict[str, str] = {}
    extras: list[str] = []
    for raw in frame.columns:
        target = lookup.get(normalise_name(raw))
        if target is None:
            if schema.extra_columns == "pattern" and re.match(
                schema.extra_pattern, normalise_name(raw)
            ):
                renames[raw] = normalise_name(raw)
            else:
                extras.append(str(raw))
            continue
        found.setdefault(target, []).append(str(raw))
        renames[raw] = target
    ambiguous = {k: v for k, v in found.items() if len(v) > 1}
    if ambiguous:
        detail = "; ".join(f"{k!r} matched by {v}" for k, v in ambiguous.items())
        raise ColumnError(
            f"{source}: ambiguous column names: {detail}. Rename or remove one of each."
        )
    missing = [c.name for c in schema.columns if c.required and c.name not in found]
    if missing:
        raise ColumnError(
            f"{source}: missing required column(s) {missing} for the {schema.name} file "
            f"(columns found: {[str(c) for c in frame.columns]})"
        )
    out = frame.rename(columns=renames)
    for column in schema.columns:
        if column.name not in out.columns:
            out[column.name] = ""
    notes = []
    if extras:
        notes.append(f"{source}: columns not used by pxlib were kept as they are: {extras}")
    return out, notes


class RowIssues:
    """Collects (row mask, column, reason) triples for one file."""

    def __init__(self) -> None:
        self.records: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, column: str, reasons: pd.Series | str) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        if isinstance(reasons, str):
            reason = pd.Series(reasons, index=mask.index[mask])
        else:
            reason = reasons[mask].astype(str)
        self.records.append(
            pd.DataFrame(
                {
                    "_pos": np.flatnonzero(mask.to_numpy()),
                    "column": column,
                    "reason": reason.to_numpy(),
                }
            )
        )

    def rejected(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        """The rejected rows: file, row, column(s) and reason(s), then the row's values."""
        if not self.records:
            return pd.DataFrame(columns=REJECTED_COLUMNS + list(frame.columns))
        issues = pd.concat(self.records, ignore_index=True)
        grouped = issues.groupby("_pos", sort=True).agg(
            column=("column", lambda c: "; ".join(dict.fromkeys(c))),
            reason=("reason", "; ".join),
        )
        original = frame.iloc[grouped.index.to_numpy()].reset_index(drop=True)
        head = pd.DataFrame(
            {
                "file": source,
                "row": grouped.index.to_numpy() + FIRST_DATA_ROW,
                "column": grouped["column"].to_numpy(),
                "reason": grouped["reason"].to_numpy(),
            }
        )
        return pd.concat([head, original.astype(str)], axis=1)

    def bad_positions(self) -> np.ndarray:
        """Positions (0-based) of the rows with at least one issue, sorted."""
        if not self.records:
            return np.array([], dtype=int)
        return np.unique(np.concatenate([r["_pos"].to_numpy() for r in self.records]))


def _check_column(
    frame: pd.DataFrame, column: Column, issues: RowIssues, as_of: pd.Timestamp
) -> pd.Series:
    """Validate and convert one column; returns the converted values."""
    if column.kind == "code":
        raw = normalise_code(frame[column.name])
    else:
        raw = strip_cells(frame[column.name])
    empty = raw == ""
    if column.required:
        issues.add(empty, column.name, f"{column.name} is empty")
    if column.kind in ("code", "id", "text"):
        return raw.where(~empty, None) if not column.required else raw
    if column.kind == "date":
        parsed, bad = parse_dates(raw)
        issues.add(
            bad, column.name, "date '" + raw + "' does not parse: use YYYY-MM-DD or DD/MM/YYYY"
        )
        if not column.planned:
            later, reasons = after_as_of(parsed, as_of)
            issues.add(later, column.name, reasons)
        return parsed
    if column.kind == "choice":
        norm = normalise_choice(raw)
        bad = ~norm.isin(column.choices) & ~empty
        issues.add(bad, column.name, "'" + raw + f"' is not one of: {', '.join(column.choices)}")
        return norm.where(~empty, None)
    numbers, not_number = parse_numbers(raw)
    issues.add(not_number, column.name, "'" + raw + f"' is not a number in {column.name}")
    if column.kind in ("count", "number"):
        issues.add(numbers < 0, column.name, f"negative value in {column.name}")
    if column.kind == "count":
        issues.add(
            (numbers % 1 != 0) & numbers.notna(),
            column.name,
            f"{column.name} is not a whole number",
        )
    if column.kind == "proportion":
        issues.add((numbers < 0) | (numbers > 1), column.name, f"{column.name} is outside 0 to 1")
    return numbers.astype(float)


def _validate(
    frame: pd.DataFrame, schema: Schema, source: str, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, RowIssues]:
    """Every column checked and converted by its kind, then the schema's unique key."""
    issues = RowIssues()
    converted = frame.copy()
    for column in schema.columns:
        converted[column.name] = _check_column(frame, column, issues, as_of)
    if schema.unique:
        key = converted[list(schema.unique)].astype(str)
        dup = key.duplicated(keep="first")
        if dup.any():
            first_row = (
                key.reset_index(drop=True)
                .assign(_first=np.arange(len(key)) + FIRST_DATA_ROW)
                .groupby(list(schema.unique), sort=False, dropna=False)["_first"]
                .transform("first")
            )
            label = " and ".join(schema.unique)
            reason = pd.Series(
                [f"duplicate {label} (first seen on row {r})" for r in first_row], index=frame.index
            )
            issues.add(dup, ", ".join(schema.unique), reason)
    return converted, issues


def finish_load(
    frame: pd.DataFrame,
    converted: pd.DataFrame,
    issues: RowIssues,
    source: str,
    strict: bool,
    notes: list[str],
    stacklevel: int = 3,
) -> LoadResult:
    """The loader's result: rows with an issue set aside in ``rejected`` (and a
    :class:`DataWarning` naming the first, issued at ``stacklevel``: the loader's caller when
    the loader calls this), or :class:`DataValidationError` with ``strict``."""
    rejected = issues.rejected(frame, source)
    bad = issues.bad_positions()
    good = np.setdiff1d(np.arange(len(converted)), bad)
    data = converted.iloc[good].reset_index(drop=True)
    result = LoadResult(
        data=data, rejected=rejected.reset_index(drop=True), source=source, notes=notes
    )
    if strict and not result.ok:
        raise DataValidationError(
            f"{source}: {len(rejected)} row(s) rejected.\n" + result.describe(), rejected=rejected
        )
    if not result.ok:
        warnings.warn(
            f"{source}: {len(rejected)} row(s) rejected and set aside (see .rejected); "
            f"first: row {rejected['row'].iloc[0]}, {rejected['column'].iloc[0]}: {rejected['reason'].iloc[0]}",
            DataWarning,
            stacklevel=stacklevel,
        )
    return result


def read_and_validate(
    path: str | Path | pd.DataFrame,
    schema: Schema,
    source: str | None = None,
    as_of: str | date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, RowIssues, str, list[str]]:
    """Read a file (or take a table), match its columns to ``schema`` and check them.

    Returns the file's table as read, the converted table (schema names and types),
    the issues found, the source's name for messages, and notes for the user.
    """
    read_notes: list[str] = []
    if isinstance(path, pd.DataFrame):
        frame = path.astype(str).where(path.notna(), "")
        source = source or f"<{schema.name} table>"
    else:
        frame = read_table(path, notes=read_notes)
        source = source or str(path)
    frame = frame.reset_index(drop=True)
    renamed, notes = match_columns(frame, schema, source)
    converted, issues = _validate(renamed, schema, source, as_of_date(as_of))
    return frame, converted, issues, source, read_notes + notes


def check_known_orgs(
    conv: pd.DataFrame,
    organisations: pd.DataFrame | None,
    issues: RowIssues,
    column: str = "org_code",
) -> None:
    """Reject rows whose organisation code is not in ``organisations`` (when given)."""
    if organisations is None:
        return
    known = set(organisations["org_code"])
    unknown = ~conv[column].isin(known) & (conv[column].astype(str) != "")
    issues.add(
        unknown,
        column,
        "unknown organisation '" + conv[column].astype(str) + "' (not in the organisations file)",
    )


def check_known_units(conv: pd.DataFrame, units: pd.DataFrame | None, issues: RowIssues) -> None:
    """Reject rows naming a unit that is not a unit of their organisation in ``units`` (when
    given); rows without a unit pass."""
    if units is None:
        return
    named = conv["unit"].notna() & conv["unit"].astype(str).ne("")
    known = pairs_in(conv["org_code"], conv["unit"], units["org_code"], units["unit"])
    issues.add(
        named & ~known,
        "unit",
        "unit '"
        + conv["unit"].astype(str)
        + "' is not a unit of organisation '"
        + conv["org_code"].astype(str)
        + "' in the units file",
    )


def pairs_in(
    first: pd.Series, second: pd.Series, known_first: pd.Series, known_second: pd.Series
) -> pd.Series:
    """Whether each (first, second) pair is among the known pairs (vectorised)."""
    known = pd.MultiIndex.from_arrays([known_first.astype(str), known_second.astype(str)])
    pairs = pd.MultiIndex.from_arrays([first.astype(str), second.astype(str)])
    return pd.Series(pairs.isin(known), index=first.index)


def file_has_column(frame: pd.DataFrame, column: Column) -> bool:
    """Whether the file itself has ``column`` (under its name or an alias)."""
    names = {normalise_name(n) for n in (column.name, *column.aliases)}
    return any(normalise_name(c) in names for c in frame.columns)


@dataclass
class TableLoad:
    """A table being loaded: the file as read (``frame``), its rows converted (``conv``,
    schema names and types; a loader's checks may add columns), the ``issues`` found, the
    file's name in messages (``source``) and ``notes`` for the user."""

    frame: pd.DataFrame
    conv: pd.DataFrame
    issues: RowIssues
    source: str
    notes: list[str]


#: a loader's own check of a table being loaded (adds issues, notes or converted columns)
Check = Callable[[TableLoad], None]


def load_table(
    path: str | Path | pd.DataFrame,
    schema: Schema,
    *,
    strict: bool = False,
    as_of: str | date | None = None,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    checks: Sequence[Check] = (),
    stacklevel: int = 4,
) -> LoadResult:
    """The shape of every loader: read ``path`` and check it against ``schema``
    (:func:`read_and_validate`), reject unknown organisations (:func:`check_known_orgs`) and
    units (:func:`check_known_units`) when those tables are given, run the loader's own
    ``checks`` in order, and set the rejected rows aside (:func:`finish_load`; its warning
    at ``stacklevel``, by default the caller of the loader that calls this)."""
    load = TableLoad(*read_and_validate(path, schema, as_of=as_of))
    check_known_orgs(load.conv, organisations, load.issues)
    check_known_units(load.conv, units, load.issues)
    for check in checks:
        check(load)
    return finish_load(
        load.frame, load.conv, load.issues, load.source, strict, load.notes, stacklevel
    )
