"""Load and validate the workbook's input files (CSV or Excel).

Every loader returns a :class:`LoadResult`: the valid rows as a tidy DataFrame
and a table of every rejected row with the file, row number, column and reason.
Nothing is dropped silently. With ``strict=True`` a loader raises
:class:`pxlib.errors.DataValidationError` instead when any row is rejected.

Row numbers are those a person sees in a spreadsheet: the header is row 1, the
first data row is row 2. Error messages never quote answers or comments.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import overload

import numpy as np
import pandas as pd

from pxlib.data.schemas import (
    FFT,
    FFT_ANSWER_COLUMNS,
    GPPS,
    GPPS_SUPPRESSED,
    MARGINS,
    ORGANISATIONS,
    PDSA_LOG,
    QUESTION_BANK,
    RESPONSES,
    UNITS,
    Column,
    Schema,
)
from pxlib.errors import ColumnError, DataValidationError, PxlibWarning

REJECTED_COLUMNS = ["file", "row", "column", "reason"]
#: margins of one group whose variable totals differ by more than this share are rejected
MARGIN_TOLERANCE = 0.01
FIRST_DATA_ROW = 2  # header is row 1
MONTHS = (
    "JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER".split()
)


class DataWarning(PxlibWarning):
    """Input data were loaded, with something the user should know."""


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


# --- reading -----------------------------------------------------------------

#: suffixes read as delimited text, and as Excel workbooks
TEXT_SUFFIXES = (".csv", ".txt", ".tsv", "")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: delimiters recognised in a header line besides the comma, with their names in notes
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe (|)"}
RESAVE = (
    "open it in Excel and save it as 'CSV UTF-8 (Comma delimited) (*.csv)' "
    "or as an Excel Workbook (.xlsx)"
)
_SIGNATURES = {
    b"\x1f\x8b": "is gzip-compressed, not a table: unzip it and put the .csv itself in the folder",
    b"PK\x03\x04": (
        "is a zip archive or an Excel workbook, not CSV text: if it is a workbook, give it the "
        ".xlsx ending; if it is a zip, extract the table from it"
    ),
    b"\xd0\xcf\x11\xe0": f"is an old Excel (.xls) or other Office file, not CSV text: {RESAVE}",
    b"\xff\xfe": f"is UTF-16 text (Excel's 'Unicode Text'): {RESAVE}",
    b"\xfe\xff": f"is UTF-16 text (Excel's 'Unicode Text'): {RESAVE}",
}
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")
_SNIFF_BYTES = 1 << 16  # control bytes are counted in the first 64 KiB
_FIRST_LINE = re.compile(r"[^\r\n]*\S[^\r\n]*")


def read_table(
    path: str | Path,
    sheet_name: str | int = 0,
    *,
    nrows: int | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel (.xlsx) file with every cell as text (nothing converted or lost).

    The one reader of input files, so that every command reads a file the same way.
    Text files may be UTF-8 (with or without a byte-order mark) or Windows-1252
    (what Excel's plain "CSV" saves), and comma, semicolon, tab or pipe separated
    (judged from the header line). What was guessed is said in ``notes`` (appended
    to it when given, otherwise issued as :class:`DataWarning`). ``nrows`` limits
    the data rows read (0: the header only).

    Raises :class:`DataValidationError` naming the file and what to do when it is
    empty, binary, compressed, an old ``.xls`` workbook, not decodable, or has a row
    with more fields than the header. Messages never quote the file's values.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    found: list[str] = []
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        frame = _read_excel(path, sheet_name, nrows, found)
    elif suffix == ".xls":
        raise DataValidationError(
            f"{path}: pxlib does not read old Excel .xls workbooks; {RESAVE}, "
            "and remove the .xls file from the folder"
        )
    elif suffix in TEXT_SUFFIXES:
        frame = _read_text(path, nrows, found)
    else:
        raise DataValidationError(
            f"{path}: cannot read '{suffix}' files; use CSV (.csv) or Excel (.xlsx)"
        )
    if notes is not None:
        notes.extend(found)
    else:
        for note in found:
            warnings.warn(note, DataWarning, stacklevel=2)
    return frame.fillna("").astype(str)


def _read_excel(path: Path, sheet_name: str | int, nrows: int | None, notes: list[str]):
    """One sheet of a workbook as text; an empty or missing sheet is an error."""
    try:
        with pd.ExcelFile(path) as book:
            names = [str(n) for n in book.sheet_names]
            frame = pd.read_excel(
                book, sheet_name=sheet_name, dtype=str, keep_default_na=False, nrows=nrows
            )
    except Exception as exc:  # openpyxl and zipfile raise many types for one problem
        raise DataValidationError(
            f"{path}: could not be read as an Excel workbook ({type(exc).__name__}: "
            f"{str(exc)[:200]}); open it in Excel and save it again as .xlsx, or save it "
            "as 'CSV UTF-8 (Comma delimited) (*.csv)'"
        ) from exc
    sheet = names[sheet_name] if isinstance(sheet_name, int) else sheet_name
    if frame.columns.empty:
        raise DataValidationError(
            f"{path}: sheet '{sheet}' is empty; put the table on the first sheet, "
            "with the column names in row 1"
        )
    others = [n for n in names if n != sheet]
    if others:
        notes.append(f"{path}: read sheet '{sheet}'; other sheets not read: {others}")
    return frame


def _read_text(path: Path, nrows: int | None, notes: list[str]) -> pd.DataFrame:
    """A delimited text file as text columns; see :func:`read_table`."""
    text = decode_text(path.read_bytes(), path, notes)
    first = _FIRST_LINE.search(text)
    header_line = first.group(0) if first else ""
    if not header_line:
        raise DataValidationError(
            f"{path}: the file is empty; it needs a header row with the column names "
            "(see the files in data/sample)"
        )
    delimiter = sniff_delimiter(header_line)
    if delimiter != ",":
        notes.append(f"{path}: read as {OTHER_DELIMITERS[delimiter]}-separated values")
    try:
        rows = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            nrows=None if nrows is None else nrows + 1,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise _ragged_error(path, text, delimiter, exc) from exc
    header = _column_names(rows.iloc[0].tolist())
    frame = rows.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def decode_text(raw: bytes, path: str | Path, notes: list[str]) -> str:
    """The text of a file's bytes: UTF-8 (BOM or not), else Windows-1252 with a note.

    Refuses bytes that are not plausibly text (compressed, a workbook, UTF-16, NUL
    or many control bytes), and files mixing UTF-8 with another encoding.
    """
    for magic, what in _SIGNATURES.items():
        if raw.startswith(magic):
            raise DataValidationError(f"{path}: the file {what}")
    head = raw[:_SNIFF_BYTES]
    if b"\x00" in raw or len(_CONTROL_BYTES.findall(head)) > max(1, len(head) // 100):
        raise DataValidationError(
            f"{path}: the file is binary, not text; export the table from its program "
            "as 'CSV UTF-8 (Comma delimited) (*.csv)' or as an Excel Workbook (.xlsx)"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        lenient = raw.decode("utf-8", errors="replace")
        if re.search("[^\x00-\x7f\ufffd]", lenient):
            raise DataValidationError(
                f"{path}: the file mixes UTF-8 with another encoding (first byte that is not "
                f"UTF-8 on line {line}); {RESAVE}"
            ) from exc
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc1252:
            raise DataValidationError(
                f"{path}: the file is neither UTF-8 nor Windows-1252 text (line {line}); {RESAVE}"
            ) from exc1252
    notes.append(
        f"{path}: not UTF-8 (first other byte on line {line}), so read as Windows-1252 "
        "(Excel's plain 'CSV'); check accented letters, and save it as 'CSV UTF-8 "
        "(Comma delimited)' to avoid the guess"
    )
    return text


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most columns (a comma on a tie)."""
    best, best_fields = ",", 1
    for delimiter in (",", *OTHER_DELIMITERS):
        fields = len(next(csv.reader([header_line], delimiter=delimiter)))
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def _column_names(raw: list[str]) -> list[str]:
    """Header cells as column names, as pandas names them ('Unnamed: 3', 'x', 'x.1')."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(raw):
        name = name if name != "" else f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names


def _ragged_error(path: Path, text: str, delimiter: str, exc: Exception) -> DataValidationError:
    """Name the rows with more fields than the header (row numbers as in a spreadsheet)."""
    records = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    try:
        header = next((row for _, row in records if row), [])
        long = [(number, len(row)) for number, row in records if len(row) > len(header)]
    except csv.Error:
        long = []
    if not long:
        return DataValidationError(
            f"{path}: could not be read as CSV ({str(exc)[:200]}); check for a value with "
            f"an unmatched double quote, or {RESAVE}"
        )
    shown = ", ".join(f"row {n} has {k} fields" for n, k in long[:5])
    more = f" (and {len(long) - 5} more rows)" if len(long) > 5 else ""
    return DataValidationError(
        f"{path}: {shown}{more} but the header has {len(header)} columns; a value "
        "containing the delimiter must be in double quotes (Excel does this when it "
        "saves as CSV), or a column name is missing from the header"
    )


def normalise_name(name: str) -> str:
    """Column name for matching: lower case, runs of spaces, hyphens and underscores as one '_'."""
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower()).strip("_")


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


# --- parsing values -----------------------------------------------------------


@overload
def normalise_code(values: str) -> str: ...
@overload
def normalise_code(values: pd.Series) -> pd.Series: ...
def normalise_code(values: str | pd.Series) -> str | pd.Series:
    """An organisation or unit code as every part of pxlib compares it: surrounding
    whitespace removed (" ZA1 " is ZA1), nothing else changed ("010" stays "010").

    Validation and batch staging both use it, so they keep the same rows.
    """
    if isinstance(values, str):
        return values.strip()
    return values.astype(str).str.strip()


def as_of_date(as_of: str | date | None = None) -> pd.Timestamp:
    """The as-of date dates are checked against: ``None`` means today; text is YYYY-MM-DD."""
    if as_of is None:
        return pd.Timestamp(date.today())
    if isinstance(as_of, str):
        try:
            return pd.Timestamp(date.fromisoformat(as_of.strip()))
        except ValueError:
            raise DataValidationError(
                f"as-of date '{as_of}' is not a date written YYYY-MM-DD"
            ) from None
    return pd.Timestamp(as_of).normalize()


def _after_as_of(
    dates: pd.Series, as_of: pd.Timestamp, what: str = "date", fmt: str = "%Y-%m-%d"
) -> tuple[pd.Series, pd.Series]:
    """(mask of dates after ``as_of``, the reason for each): a date not yet reached is a typo."""
    later = dates.notna() & (dates > as_of)
    shown = dates.dt.strftime(fmt).fillna("")
    return later, f"{what} " + shown + f" is after the as-of date {as_of:%Y-%m-%d}"


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO (YYYY-MM-DD) or UK day-first (DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY) dates.

    Returns the dates (datetime64, NaT where empty or unparsed) and a mask of
    non-empty cells that did not parse. A time of day, if present, is dropped.
    """
    text = values.astype(str).str.strip()
    text = text.str.replace(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    uk_text = text.str.replace(r"[-.]", "/", regex=True)
    uk = pd.to_datetime(uk_text, format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(uk)
    bad = parsed.isna() & (text != "")
    return parsed.astype("datetime64[ns]"), bad


def iso_week_start(dates: pd.Series) -> pd.Series:
    """The Monday that starts each date's ISO week."""
    dates = pd.to_datetime(dates)
    return (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()


def normalise_choice(values: pd.Series) -> pd.Series:
    """Lower case with runs of spaces and hyphens as '_' (e.g. 'GP practice' -> 'gp_practice')."""
    return values.astype(str).str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def normalise_answer(values: pd.Series) -> pd.Series:
    """Answer text for matching with the question bank: case, punctuation and spacing ignored."""
    text = values.astype(str).str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True)
    return text.str.strip()


class _Issues:
    """Collects (row mask, column, reason) triples for one file."""

    def __init__(self):
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
        if not self.records:
            return np.array([], dtype=int)
        return np.unique(np.concatenate([r["_pos"].to_numpy() for r in self.records]))


def _check_column(
    frame: pd.DataFrame, column: Column, issues: _Issues, as_of: pd.Timestamp
) -> pd.Series:
    """Validate and convert one column; returns the converted values."""
    if column.kind == "code":
        raw = normalise_code(frame[column.name])
    else:
        raw = frame[column.name].astype(str).str.strip()
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
            later, reasons = _after_as_of(parsed, as_of)
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


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text, and a mask of non-empty cells that are not finite numbers.

    ``inf``, ``Infinity``, ``nan`` and overflowing values such as ``1e400`` are not
    numbers here (``pd.to_numeric`` would accept them): a count or population
    cannot be infinite, and a missing value is an empty cell.
    """
    text = raw.astype(str).str.strip()
    empty = text == ""
    numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))
    return numbers, numbers.isna() & ~empty


def _validate(
    frame: pd.DataFrame, schema: Schema, source: str, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, _Issues]:
    issues = _Issues()
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


def _finish(
    frame: pd.DataFrame,
    converted: pd.DataFrame,
    issues: _Issues,
    source: str,
    strict: bool,
    notes: list[str],
) -> LoadResult:
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
            stacklevel=3,
        )
    return result


def _load(
    path: str | Path | pd.DataFrame,
    schema: Schema,
    source: str | None = None,
    as_of: str | date | None = None,
):
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


# --- one loader per input ---------------------------------------------------------


def load_organisations(path, *, strict: bool = False) -> LoadResult:
    """Organisations: ``org_code``, ``org_name``, ``org_type`` (trust, gp_practice,
    other_provider), ``parent_code`` (ICB), ``catchment_of`` (for a GP practice, its trust)."""
    frame, conv, issues, source, notes = _load(path, ORGANISATIONS)
    return _finish(frame, conv, issues, source, strict, notes)


def load_units(
    path, *, organisations: pd.DataFrame | None = None, strict: bool = False
) -> LoadResult:
    """Units of each organisation (``org_code``, ``unit``, ``site_code``, ``site_name``)."""
    frame, conv, issues, source, notes = _load(path, UNITS)
    _check_known_orgs(conv, organisations, issues)
    return _finish(frame, conv, issues, source, strict, notes)


def _check_known_orgs(
    conv: pd.DataFrame,
    organisations: pd.DataFrame | None,
    issues: _Issues,
    column: str = "org_code",
) -> None:
    if organisations is None:
        return
    known = set(organisations["org_code"])
    unknown = ~conv[column].isin(known) & (conv[column].astype(str) != "")
    issues.add(
        unknown,
        column,
        "unknown organisation '" + conv[column].astype(str) + "' (not in the organisations file)",
    )


def load_question_bank(path, *, strict: bool = False) -> LoadResult:
    """Question bank: one row per question and answer option (``counts_as`` is
    happened / not_happened / excluded; an empty ``answer`` row scores blank answers)."""
    frame, conv, issues, source, notes = _load(path, QUESTION_BANK)
    conv["answer"] = conv["answer"].fillna("")
    conv["answer_key"] = normalise_answer(conv["answer"])
    per_question = conv.groupby("question_id")[["wording", "measure_type", "scale"]].nunique()
    inconsistent = per_question.index[(per_question > 1).any(axis=1)]
    issues.add(
        conv["question_id"].isin(inconsistent),
        "question_id",
        "question has different wording, measure type or scale on different rows",
    )
    return _finish(frame, conv, issues, source, strict, notes)


def _pairs_in(
    first: pd.Series, second: pd.Series, known_first: pd.Series, known_second: pd.Series
) -> pd.Series:
    """Whether each (first, second) pair is among the known pairs (vectorised)."""
    known = pd.MultiIndex.from_arrays([known_first.astype(str), known_second.astype(str)])
    pairs = pd.MultiIndex.from_arrays([first.astype(str), second.astype(str)])
    return pd.Series(pairs.isin(known), index=first.index)


def load_responses(
    path,
    *,
    organisations: pd.DataFrame | None = None,
    question_bank: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Always Event survey responses, one row per answer.

    Checks: dates parse and are not after ``as_of`` (default today); response ids are unique; organisation codes are known
    (when ``organisations`` is given); units belong to their organisation (when
    ``units`` is given); the question exists and the answer is on its scale (when
    ``question_bank`` is given); a respondent answers each question once.
    Adds ``week``: the Monday starting the ISO week of ``response_date``.
    """
    frame, conv, issues, source, notes = _load(path, RESPONSES, as_of=as_of)
    _check_known_orgs(conv, organisations, issues)
    if units is not None:
        known_unit = _pairs_in(conv["org_code"], conv["unit"], units["org_code"], units["unit"])
        issues.add(
            ~known_unit & conv["unit"].astype(str).ne(""),
            "unit",
            "unit '"
            + conv["unit"].astype(str)
            + "' is not a unit of organisation '"
            + conv["org_code"].astype(str)
            + "' in the units file",
        )
    conv["answer"] = conv["answer"].fillna("")
    if question_bank is not None:
        known_q = set(question_bank["question_id"])
        unknown_q = ~conv["question_id"].isin(known_q)
        issues.add(
            unknown_q,
            "question_id",
            "unknown question '" + conv["question_id"].astype(str) + "' (not in the question bank)",
        )
        answer_key = normalise_answer(conv["answer"])
        on_scale = _pairs_in(
            conv["question_id"],
            answer_key,
            question_bank["question_id"],
            question_bank["answer_key"],
        )
        off_scale = ~on_scale & ~unknown_q & (answer_key != "")
        scale = conv["question_id"].map(
            question_bank.drop_duplicates("question_id").set_index("question_id")["scale"]
        )
        issues.add(
            off_scale,
            "answer",
            "answer is not on the scale '"
            + scale.astype(str)
            + "' of question "
            + conv["question_id"].astype(str),
        )
    twice = conv.duplicated(["respondent_id", "question_id"], keep="first") & ~conv.duplicated(
        "response_id", keep=False
    )
    issues.add(
        twice, "respondent_id, question_id", "respondent answered this question more than once"
    )
    conv["week"] = iso_week_start(conv["response_date"])
    return _finish(frame, conv, issues, source, strict, notes)


def load_pdsa_log(
    path,
    *,
    organisations: pd.DataFrame | None = None,
    change_ideas: pd.DataFrame | None = None,
    measures: set[str] | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """PDSA log: one row per cycle; ``end_date`` may be empty for a cycle under way.

    Start and end dates must not be after ``as_of`` (default today). Given
    ``change_ideas`` (driver-diagram rows: ``org_code``, ``node_id``), a
    ``change_idea_id`` must be one of its organisation's; given ``measures`` (question
    and audit measure ids), a ``prediction_measure`` must be one of them. A predicted
    value is stored as a fraction (85 and 0.85 both mean 85 %)."""
    frame, conv, issues, source, notes = _load(path, PDSA_LOG, as_of=as_of)
    _check_known_orgs(conv, organisations, issues)
    if change_ideas is not None and not change_ideas.empty:
        known = _pairs_in(
            conv["org_code"],
            conv["change_idea_id"],
            change_ideas["org_code"],
            change_ideas["node_id"],
        )
        issues.add(
            conv["change_idea_id"].notna() & ~known,
            "change_idea_id",
            "change idea '"
            + conv["change_idea_id"].astype(str)
            + "' is not a change idea of this organisation in the driver diagram",
        )
    if measures is not None:
        issues.add(
            conv["prediction_measure"].notna() & ~conv["prediction_measure"].isin(measures),
            "prediction_measure",
            "measure '"
            + conv["prediction_measure"].astype(str)
            + "' is neither a question in the question bank nor an audit measure",
        )
    issues.add(
        conv["end_date"] < conv["start_date"], "end_date", "end date is before the start date"
    )
    conv["prediction_value"], conv["prediction_comparison"] = _predictions(conv, issues)
    return _finish(frame, conv, issues, source, strict, notes)


def _predictions(conv: pd.DataFrame, issues: _Issues) -> tuple[pd.Series, pd.Series]:
    """Predicted shares as fractions (85 and 0.85 both mean 85 %), and their comparison.

    A value above 1 is read as a percentage; above 100 it is rejected, as is a
    value without ``prediction_measure`` (a prediction must say what it is about).
    """
    value = conv["prediction_value"]
    issues.add(value > 100, "prediction_value", "prediction_value is above 100 %")
    issues.add(
        value.notna() & conv["prediction_measure"].isna(),
        "prediction_measure",
        "prediction_value is given but prediction_measure (the question or audit measure "
        "it predicts) is empty",
    )
    share = value.where(value <= 1, value / 100)
    comparison = conv["prediction_comparison"].where(
        conv["prediction_comparison"].notna() | value.isna(), "at_least"
    )
    return share, comparison


def load_margins(
    path,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Population margins: ``org_code``, ``unit``, ``describes``, ``variable``, ``level``,
    ``population`` (a count ≥ 0).

    ``describes`` says which population a row counts: ``eligible`` (a unit's eligible
    patients, e.g. its discharges by age band and sex: the margins that weight that
    unit's Always Event measures) or ``catchment`` (the organisation's catchment
    population, unit blank: only for comparing with national population surveys).
    A blank ``describes``, or a file without the column, means ``catchment`` (the
    meaning margins had before the column existed); a note says so. Checks: an
    ``eligible`` row names a unit, and (when ``units`` is given) a unit of its
    organisation in the units file; a ``catchment`` row names no unit; organisation,
    unit, variable and level are unique together. ``unit`` is missing on
    organisation-level rows.

    Levels are kept as text, never numbers (deprivation quintile "1" is a category).
    """
    frame, conv, issues, source, notes = _load(path, MARGINS)
    _check_known_orgs(conv, organisations, issues)
    if not _has_column(frame, MARGINS.column("describes")):
        notes.append(
            f"{source}: no 'describes' column, so every margin is taken to describe the "
            "organisation's catchment population (the old meaning): such margins are not used "
            "to weight a unit's Always Event measures; add describes=eligible rows with the "
            "unit's eligible patients to weight them"
        )
    conv["describes"] = conv["describes"].fillna("catchment")
    has_unit = conv["unit"].notna()
    eligible = conv["describes"] == "eligible"
    issues.add(
        eligible & ~has_unit,
        "unit",
        "an eligible margin needs the unit whose eligible patients it counts",
    )
    issues.add(
        has_unit & (conv["describes"] == "catchment"),
        "describes",
        "unit '" + conv["unit"].astype(str) + "' given but describes is catchment (or "
        "blank): a catchment margin is the whole organisation's, so leave unit blank, "
        "or mark the unit's eligible patients describes=eligible",
    )
    if units is not None:
        known = _pairs_in(conv["org_code"], conv["unit"], units["org_code"], units["unit"])
        issues.add(
            has_unit & ~known,
            "unit",
            "unit '"
            + conv["unit"].astype(str)
            + "' is not a unit of organisation '"
            + conv["org_code"].astype(str)
            + "' in the units file",
        )
    _reject_unequal_margin_totals(conv, issues)
    return _finish(frame, conv, issues, source, strict, notes)


def _reject_unequal_margin_totals(conv: pd.DataFrame, issues: _Issues) -> None:
    """Reject every row of an (org, unit, describes) group whose variables add up to
    different totals (relative spread above :data:`MARGIN_TOLERANCE`).

    Rows already rejected are left out of the totals first, so a rejected row never
    leaves a lopsided group behind.
    """
    group = ["org_code", "unit", "describes"]
    keyed = conv.assign(unit=conv["unit"].fillna(""))
    valid = np.ones(len(conv), dtype=bool)
    valid[issues.bad_positions()] = False
    if not valid.any():
        return
    totals = keyed[valid].groupby([*group, "variable"])["population"].sum().unstack()
    spread = (totals.max(axis=1) - totals.min(axis=1)) / totals.max(axis=1)
    for org, unit, describes in spread.index[spread > MARGIN_TOLERANCE]:
        in_group = (
            (keyed["org_code"] == org) & (keyed["unit"] == unit) & (keyed["describes"] == describes)
        )
        values = totals.loc[(org, unit, describes)].dropna().items()
        where = f"{org} {unit}".strip()
        reason = (
            f"the {describes} margins of {where} add up to different totals by variable "
            f"({', '.join(f'{v}: {t:,.0f}' for v, t in values)}"
            + (", counting rows not otherwise rejected" if (in_group & ~valid).any() else "")
            + "); every variable must count the same population, so the group is set aside "
            "and not used for weighting"
        )
        issues.add(in_group & valid, "population", reason)


def _has_column(frame: pd.DataFrame, column: Column) -> bool:
    """Whether the file itself has ``column`` (under its name or an alias)."""
    names = {normalise_name(n) for n in (column.name, *column.aliases)}
    return any(normalise_name(c) in names for c in frame.columns)


def fft_period_start(yearnumber: pd.Series, periodname: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Month start from an FFT financial year ("2025_26") and month name ("AUGUST").

    April to December fall in the first calendar year, January to March in the second.
    Returns the dates and a mask of rows whose year or month could not be read.
    """
    first_year = pd.to_numeric(
        yearnumber.astype(str).str.extract(r"^(\d{4})[_/\-]\d{2,4}$")[0], errors="coerce"
    )
    month = (
        periodname.astype(str).str.strip().str.upper().map({m: i + 1 for i, m in enumerate(MONTHS)})
    )
    year = first_year + (month <= 3).astype(float)
    ok = year.notna() & month.notna()
    dates = pd.to_datetime(
        pd.DataFrame({"year": year.where(ok, 2000), "month": month.where(ok, 1), "day": 1}).astype(
            int
        )
    ).where(ok)
    return dates, ~ok


def load_fft(path, *, strict: bool = False, as_of: str | date | None = None) -> LoadResult:
    """Friends and Family Test monthly extract in the published layout.

    Adds ``period`` (month start), ``pct_positive`` = (very good + good) / total and
    ``pct_negative`` = (poor + very poor) / total. Checks counts are whole and
    non-negative, that ``Total Responses`` is the sum of the six answer counts, and
    that the month has begun by ``as_of`` (default today).
    """
    as_of = as_of_date(as_of)
    frame, conv, issues, source, notes = _load(path, FFT, as_of=as_of)
    period, bad_period = fft_period_start(conv["Yearnumber"], conv["Periodname"])
    issues.add(
        bad_period,
        "Yearnumber, Periodname",
        "year '"
        + conv["Yearnumber"].astype(str)
        + "' or month '"
        + conv["Periodname"].astype(str)
        + "' not recognised (expected e.g. 2025_26 and AUGUST)",
    )
    later, reasons = _after_as_of(period, as_of, what="month", fmt="%Y-%m")
    issues.add(later, "Yearnumber, Periodname", reasons)
    conv["period"] = period
    answer_sum = conv[list(FFT_ANSWER_COLUMNS)].sum(axis=1)
    issues.add(
        (answer_sum != conv["Total Responses"]) & conv["Total Responses"].notna(),
        "Total Responses",
        "Total Responses is not the sum of the six answer columns",
    )
    total = conv["Total Responses"].where(conv["Total Responses"] > 0)
    conv["pct_positive"] = (conv["1 Very Good SUM"] + conv["2 Good SUM"]) / total
    conv["pct_negative"] = (conv["4 Poor SUM"] + conv["5 Very Poor SUM"]) / total
    return _finish(frame, conv, issues, source, strict, notes)


def load_gpps(path, *, strict: bool = False) -> LoadResult:
    """GP Patient Survey practice results.

    Question columns (``qNNbase``, ``qNN_XXpct``) are read as numbers; -97 means
    suppressed and becomes missing, with a ``<column>_suppressed`` flag beside it.
    Percentages must be in 0 to 1 and bases ≥ 0.
    """
    frame, conv, issues, source, notes = _load(path, GPPS)
    question_cols = [c for c in conv.columns if re.match(GPPS.extra_pattern, str(c))]
    for col in question_cols:
        values, not_number = parse_numbers(conv[col])
        issues.add(not_number, col, f"{col} is not a number")
        suppressed = values == GPPS_SUPPRESSED
        clean = values.where(~suppressed)
        limit_bad = (clean < 0) | ((clean > 1) if col.endswith("pct") else False)
        issues.add(
            limit_bad,
            col,
            f"{col} is outside 0 to 1" if col.endswith("pct") else f"negative value in {col}",
        )
        conv[col] = clean.astype(float)
        conv[f"{col}_suppressed"] = suppressed
    if not question_cols:
        notes.append(f"{source}: no question columns (qNNbase, qNN_XXpct) found")
    return _finish(frame, conv, issues, source, strict, notes)
