"""Reading input files as text: the one reader of CSV and Excel (.xlsx) files.

:func:`read_table` reads a file with every cell as text (nothing converted or lost),
judging the encoding (:func:`decode_text`) and the delimiter (:func:`sniff_delimiter`)
and refusing, with a message naming the file and what to do, what is not a table.
Validation, batch staging and the national readers all read through it.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import pandas as pd

from pxlib.errors import DataValidationError, PxlibWarning


class DataWarning(PxlibWarning):
    """Input data were loaded, with something the user should know."""


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
