"""Cell values of an Excel workbook (.xlsx/.xlsm) as a 2-D array per sheet.

The workbook is opened with openpyxl (``read_only=True, data_only=True``): sheet names,
their parts and the shared strings come from openpyxl. openpyxl's own cell reader costs
about 15-20 microseconds a cell (an ``ElementTree`` event per element and a Python call
per cell), about 2 s for one national inpatient FFT file (125,000 cells), so each sheet's
XML is read here with one regular expression over the part's bytes instead (about
0.4 s for the same file) -- but only when every cell tag in the part has one of the forms
Excel and openpyxl write (``<c r="G15" s="4" t="s"><v>12</v></c>``, inline strings,
formulas with or without a cached value). If any cell does not (a prefixed namespace,
rich text, a date cell, an attribute the pattern does not know), the sheet is read by
openpyxl's ``iter_rows`` instead, so a file is never misread for the sake of speed.
``engine="openpyxl"`` always takes openpyxl's path; tests check both agree.

Values are what ``iter_rows(values_only=True)`` gives with ``data_only=True``: numbers,
text, booleans, the cached result of a formula (``None`` when the file has none).
Numbers are floats on the fast path and int or float on openpyxl's; callers treat both
as numbers.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pxlib.errors import DataValidationError

_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]+)"(?: s="[0-9]+")?(?: t="([a-zA-Z]+)")?(?: s="[0-9]+")?\s*'
    rb"(?:/>|><v>([^<]*)</v></c>|><is><t(?: xml:space=\"preserve\")?(>[^<]*)</t></is></c>|>(.*?)</c>)",
    re.S,
)
_INLINE = re.compile(rb'<is><t(?: xml:space="preserve")?>([^<]*)</t></is>|<is><t\s*/></is>')
_FORMULA = re.compile(rb"<f(?:\s[^>]*)?(?:/>|>[^<]*</f>)(?:<v>([^<]*)</v>|<v\s*/>)?")
_ROOT = re.compile(rb"\s*(?:<\?xml[^>]*\?>)?\s*<worksheet[\s>]")
ENGINES = ("fast", "openpyxl")


class _Unreadable(Exception):
    """The fast path met a cell form it does not know: use openpyxl for this sheet."""


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _number(raw: bytes) -> float:
    return float(raw)


def _fast_sheet(xml: bytes, shared: list) -> np.ndarray:
    """Every cell of one worksheet part, or :class:`_Unreadable`."""
    if not _ROOT.match(xml):
        raise _Unreadable("worksheet part has a namespace prefix or no <worksheet> root")
    cells = _CELL.findall(xml)
    if len(cells) != xml.count(b"<c ") + xml.count(b"<c>"):
        raise _Unreadable("a cell tag of a form the fast reader does not know")
    if not cells:
        return np.empty((0, 0), dtype=object)
    # one list per field (zip(*cells) over ~100,000 tuples is about 3x slower)
    cols, rows, kinds, plain, inline, other = ([c[k] for c in cells] for k in range(6))
    types = np.array(kinds)
    plain_v = np.array(plain, dtype=object)
    other_v = np.array(other, dtype=object)
    row_idx = np.array(rows).astype(np.int64) - 1
    letters, inverse = np.unique(np.array(cols), return_inverse=True)
    col_idx = np.array([_column_index(b) for b in letters], dtype=np.int64)[inverse]
    values = np.full(len(cells), None, dtype=object)
    has_plain = plain_v != b""
    inline_v = np.array(inline, dtype=object)
    is_inline = inline_v != b""  # matched as ">text" (the ">" marks a match)
    done = ~has_plain & ~is_inline & (other_v == b"")  # empty cells (styled, no value)
    if is_inline.any():
        if (types[is_inline] != b"inlineStr").any():
            raise _Unreadable("an inline string in a cell not typed inlineStr")
        values[is_inline] = [_text(t[1:]) for t in inline_v[is_inline]]
        done |= is_inline
    numeric = ((types == b"") | (types == b"n")) & has_plain
    if numeric.any():
        values[numeric] = np.array(plain_v[numeric].tolist()).astype(np.float64)
    done |= numeric
    shared_cells = (types == b"s") & has_plain
    if shared_cells.any():
        index = np.array(plain_v[shared_cells].tolist()).astype(np.int64)
        if index.max() >= len(shared):
            raise _Unreadable("a shared-string index beyond the table")
        values[shared_cells] = np.asarray(shared, dtype=object)[index]
        done |= shared_cells
    for i in np.flatnonzero(~done):
        values[i] = _other_cell(types[i], plain_v[i], other_v[i])
    out = np.full((int(row_idx.max()) + 1, int(col_idx.max()) + 1), None, dtype=object)
    out[row_idx, col_idx] = values
    return out


def _other_cell(kind: bytes, plain: bytes, content: bytes):
    """Value of a cell that is not a plain number or shared string."""
    if kind == b"inlineStr":
        m = _INLINE.fullmatch(content)
        if m is None:
            raise _Unreadable("rich inline string")
        return _text(m.group(1) or b"")
    if plain:  # <v> without a formula, of a kind other than number or shared string
        raw = plain
    else:
        m = _FORMULA.fullmatch(content)
        if m is None:
            raise _Unreadable("cell content the fast reader does not know")
        raw = m.group(1)
        if not raw:
            return None  # a formula without a cached value (as openpyxl gives with data_only)
        if kind in (b"", b"n"):
            return _number(raw)
        if kind == b"s":
            raise _Unreadable("formula with a shared-string result")
    if kind in (b"str", b"e"):
        return _text(raw)
    if kind == b"b":
        return raw.strip() == b"1"
    raise _Unreadable(f"cell type {kind!r}")


def _openpyxl_sheet(ws) -> np.ndarray:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), width), None, dtype=object)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


class Workbook:
    """An opened workbook: :attr:`sheetnames`, :meth:`cells` of a sheet, :meth:`value`."""

    def __init__(self, path: str | Path, engine: str = "fast"):
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        self.path = Path(path)
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        self.engine = engine
        if not self.path.is_file():
            raise DataValidationError(f"{self.path}: no such file")
        try:
            self._wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise DataValidationError(
                f"{self.path.name}: not an Excel workbook that can be read (.xlsx or .xlsm): "
                f"{type(exc).__name__}"
            ) from exc
        self.sheetnames: list[str] = list(self._wb.sheetnames)
        self._cache: dict[str, np.ndarray] = {}
        #: sheets the fast path could not read, with the reason (for tests and profiling)
        self.fallbacks: dict[str, str] = {}

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._wb.close()

    def cells(self, sheet: str) -> np.ndarray:
        """Every value of ``sheet``: element [r, c] is Excel row r+1, column c+1."""
        if sheet not in self._cache:
            ws = self._wb[sheet]
            arr = None
            if self.engine == "fast":
                try:
                    xml = self._wb._archive.read(ws._worksheet_path)
                    arr = _fast_sheet(xml, ws._shared_strings)
                except (_Unreadable, AttributeError, KeyError, ValueError) as exc:
                    self.fallbacks[sheet] = str(exc) or type(exc).__name__
            self._cache[sheet] = arr if arr is not None else _openpyxl_sheet(ws)
        return self._cache[sheet]

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The value at 1-based ``row``, ``col`` (None beyond the used range)."""
        arr = self.cells(sheet)
        if row - 1 < arr.shape[0] and col - 1 < arr.shape[1]:
            return arr[row - 1, col - 1]
        return None
