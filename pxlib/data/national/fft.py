"""Friends and Family Test files as NHS England publishes them: :func:`read_fft` and
:func:`read_fft_dir`.

Layouts: ``../shared/national-data.md`` section 1 (keys such as [T-IP] and [FFT-cfg] cite
its sources). :func:`read_fft` reads the published monthly workbook of every setting it
documents (inpatient, A&E, maternity touchpoints Q1-Q4, outpatient, ambulance) and the
raw SDCS extract, telling them apart by their headers; :func:`read_fft_dir` reads a
folder of monthly files into one long frame per level (a time series per ward).

Each level's frame has the columns ``setting, level, period`` (first day of the month),
``touchpoint`` (maternity only), the level's ``icb_code, icb_name`` (ICB level),
``org_code, org_name, site_code, site_name, ward`` (as the level has them),
``first_speciality, second_speciality`` (wards), ``very_good, good, neither, poor,
very_poor, dont_know, total_responses, total_eligible`` (counts; NaN where suppressed or
not published), ``pct_positive, pct_negative`` (fractions 0-1, recomputed from the
counts where they are published [FFT-ref], else as published; NaN where suppressed or
not computable), ``suppressed`` (the file shows ``*`` in the row), the collection modes
where published (``mode_sms`` ...), and ``independent_sector`` (ICB code ``IS1``).

NHS England's caveat: FFT results cannot be used to compare providers directly, as
collection methods are flexible and local populations differ; FFT is for change over
time within an organisation [T-IP Notes!A15] -- show funnels with the collection mode,
not league tables.
"""

from __future__ import annotations

import multiprocessing
import warnings
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from pxlib.data.national.fft_layouts import (
    RAW_SHEETS,
    SETTINGS,
    UNIT_KEYS,
    normalise_label,
    resolve_level,
    resolve_setting,
)
from pxlib.data.national.fft_published import (
    FFTLayoutWarning,
    find_sheet,
    notes_title,
    read_sheet,
    setting_of,
    title_period,
)
from pxlib.data.national.fft_raw import raw_header, raw_sheets, read_raw
from pxlib.data.national.xlsx_cells import ENGINES, Workbook
from pxlib.errors import DataValidationError
from pxlib.fmt import literal

__all__ = ["FFTLayoutWarning", "FFTLevels", "read_fft", "read_fft_dir"]

_ORDER = ("icb", "trust", "site", "ward", "mode")
_SUFFIXES = (".xlsx", ".xlsm")


class FFTLevels(dict):
    """Frames by level (``icb``, ``trust``, ``site``, ``ward``, ``mode``).

    Also indexable by a published sheet name or a level's other words: ``["Trusts"]``,
    ``["Orgs"]`` and ``["org"]`` give the ``trust`` frame; a maternity sheet name
    (``["Trusts Q2"]``) gives that touchpoint's rows."""

    def __missing__(self, key):
        if isinstance(key, str):
            level, sheet = resolve_level(key)
            if level and level != key and level in self:
                frame = self[level]
                touch = _touchpoint_of(sheet)
                if touch and "touchpoint" in frame.columns:
                    return frame[frame["touchpoint"] == touch].reset_index(drop=True)
                return frame
        raise KeyError(key)


def _touchpoint_of(sheet: str | None) -> str | None:
    for sl in SETTINGS["maternity"].sheets:
        if sheet == sl.sheet:
            return sl.touchpoint
    return None


def _level_arg(level: str | None) -> tuple[str | None, str | None]:
    if level is None:
        return None, None
    if not isinstance(level, str):
        raise DataValidationError(f"level must be text such as 'ward' or 'Trusts', not {level!r}")
    lev, sheet = resolve_level(level)
    if not lev:
        raise DataValidationError(
            f"unknown FFT level {literal(level)}: use icb, trust, site, ward or mode, or a "
            "published sheet name such as 'Wards' or 'Trusts Q2'"
        )
    return lev, sheet


def _is_raw(wb: Workbook) -> bool:
    known = {normalise_label(k) for k in RAW_SHEETS}
    if any(normalise_label(s) in known for s in wb.sheetnames):
        return True
    return any(raw_header(wb.cells(s)) is not None for s in wb.sheetnames[:3])


def _read_open(
    wb: Workbook, file: str, level: str | None, sheet: str | None, setting: str | None = None
) -> tuple[str, dict[str, pd.DataFrame]] | None:
    """(setting, frames) of an opened workbook; None when ``setting`` is another's."""
    if not any(normalise_label(s) == "notes" for s in wb.sheetnames) and _is_raw(wb):
        kind = raw_sheets(wb, file)[0]
        if setting and kind != setting:
            return None
        if sheet and sheet not in RAW_SHEETS:
            raise DataValidationError(f"{file}: a raw {kind} extract has no sheet {sheet!r}")
        return read_raw(wb, file, None if level is None else {level})
    title, cell = notes_title(wb, file)
    layout = setting_of(title, wb.sheetnames, file)
    if setting and layout.setting != setting:
        return None
    period = title_period(title, file, cell)
    sheets = [
        s
        for s in layout.sheets
        if (level is None or s.level == level)
        and (sheet is None or normalise_label(s.sheet) == normalise_label(sheet))
    ]
    if not sheets:
        have = sorted({s.level for s in layout.sheets}, key=_ORDER.index)
        raise DataValidationError(
            f"{file}: {layout.setting} files have levels {', '.join(have)} (sheets "
            f"{', '.join(repr(s.sheet) for s in layout.sheets)}); no {literal(sheet or level)}"
        )
    names = [
        find_sheet(wb, s.sheet, layout, file) for s in (layout.sheets if level is None else sheets)
    ]
    by_name = dict(
        zip([s.sheet for s in (layout.sheets if level is None else sheets)], names, strict=True)
    )
    frames: dict[str, list[pd.DataFrame]] = {}
    for s in sheets:
        frame = read_sheet(wb, file, by_name[s.sheet], layout, s, period)
        frames.setdefault(s.level, []).append(frame)
    return layout.setting, {
        lev: pd.concat(frames[lev], ignore_index=True) for lev in _ORDER if lev in frames
    }


def read_fft(
    path: str | Path, level: str | None = None, *, engine: str = "fast"
) -> FFTLevels | pd.DataFrame:
    """Read one FFT workbook: published (.xlsm/.xlsx, any documented setting) or a raw
    SDCS extract, told apart by their headers [national-data.md 1.2, 1.3].

    With ``level=None`` returns an :class:`FFTLevels` (level -> frame); with a level
    (``"ward"``, ``"trust"``...) or a sheet name (``"Wards"``, ``"Orgs"``, ``"Trusts Q2"``)
    that level's frame. Columns: see the module docstring. The period is the Notes title's
    month (published) or ``Yearnumber`` + ``Periodname`` (raw). A file whose layout differs
    from the published one -- a renamed sheet, a header row away from its table, an
    unknown column, no Notes title -- raises :class:`pxlib.errors.DataValidationError` (or
    its subclass :class:`~pxlib.errors.ColumnError`) naming the file, sheet, row and
    column. ``engine="openpyxl"`` reads cells with openpyxl alone (slower; the default
    reads sheet XML directly where it safely can, see :mod:`.xlsx_cells`)."""
    lev, sheet = _level_arg(level)
    if engine not in ENGINES:
        raise DataValidationError(f"engine must be one of {ENGINES}, not {engine!r}")
    path = Path(path)
    with Workbook(path, engine) as wb:
        _, frames = _read_open(wb, path.name, lev, sheet)
    if lev is None:
        return FFTLevels(frames)
    if lev not in frames:
        raise DataValidationError(
            f"{path.name}: this file has levels {', '.join(frames)}; no {literal(level)}"
        )
    return frames[lev]


def _read_one(task: tuple) -> tuple:
    """Read one file of a folder (a top-level function, so process pools can run it)."""
    path, level, setting, engine = task
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FFTLayoutWarning)
        with Workbook(path, engine) as wb:
            got = _read_open(wb, Path(path).name, level, None, setting)
    messages = [str(w.message) for w in caught if issubclass(w.category, FFTLayoutWarning)]
    return str(path), got, messages


def _files(folder: Path, pattern: str | None, chosen: Iterable | None = None) -> list[Path]:
    if not folder.is_dir():
        raise DataValidationError(f"{folder}: no such folder")
    if chosen is not None:
        # a bare name is a file of the folder; a path (with a folder part) is itself
        found = [folder / p if Path(p).name == str(p) else Path(p) for p in chosen]
        absent = [p.name for p in found if not p.is_file()]
        if absent:
            raise DataValidationError(f"{folder}: no file {literal(absent[0])}")
    else:
        found = folder.glob(pattern) if pattern else folder.iterdir()
    files = sorted(
        p
        for p in found
        if p.is_file() and p.suffix.lower() in _SUFFIXES and not p.name.startswith("~$")
    )
    if not files:
        raise DataValidationError(
            f"{folder}: no FFT workbooks (.xlsx, .xlsm){' matching ' + pattern if pattern else ''}"
        )
    return files


def read_fft_dir(
    folder: str | Path,
    setting: str | None = None,
    level: str | None = None,
    *,
    pattern: str | None = None,
    files: Iterable[str | Path] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    engine: str = "fast",
) -> FFTLevels | pd.DataFrame:
    """Every monthly FFT workbook in ``folder`` read into one long frame per level: a time
    series per unit, each row keeping its file's ``period`` and ``source_file`` (the
    file name). Files of another ``setting`` (inpatient, ae, maternity, outpatient,
    ambulance) are skipped when one is given; two files for the same setting and month
    raise :class:`~pxlib.errors.DataValidationError` naming both.

    ``level`` as in :func:`read_fft` (None: an :class:`FFTLevels` of every level).
    ``pattern`` is a glob within the folder (default: every .xlsx/.xlsm file); ``files``
    names the workbooks to read instead (names in the folder, or paths), for a folder that
    holds other national files too.
    ``workers`` > 1 reads files in that many spawned processes; ``executor`` runs the
    per-file reads on any :class:`concurrent.futures.Executor` instead (e.g. a Dask
    ``Client(...).get_executor()``). Rows are sorted by setting, unit and period."""
    lev, sheet = _level_arg(level)
    if sheet and _touchpoint_of(sheet) is None:
        sheet = None
    want = None
    if setting is not None:
        want = resolve_setting(setting)
        if not want:
            raise DataValidationError(
                f"unknown FFT setting {literal(setting)}: use one of {', '.join(SETTINGS)}"
            )
    if engine not in ENGINES:
        raise DataValidationError(f"engine must be one of {ENGINES}, not {engine!r}")
    if files is not None and pattern is not None:
        raise DataValidationError("give read_fft_dir either pattern= or files=, not both")
    files = _files(Path(folder), pattern, files)
    tasks = [(str(p), lev, want, engine) for p in files]
    results = _run(tasks, workers, executor)
    frames: dict[str, list[pd.DataFrame]] = {}
    owner: dict[tuple, str] = {}
    for path, got, messages in results:
        for message in messages:
            warnings.warn(message, FFTLayoutWarning, stacklevel=2)
        if got is None:
            continue
        kind, levels = got
        name = Path(path).name
        periods = set()
        for frame in levels.values():
            periods |= set(frame["period"].dropna().unique())
        for period in sorted(periods):
            key = (kind, pd.Timestamp(period))
            if key in owner:
                raise DataValidationError(
                    f"{owner[key]} and {name} are both {kind} FFT for "
                    f"{pd.Timestamp(period):%B %Y}: keep one of them in {folder}"
                )
            owner[key] = name
        for lv, frame in levels.items():
            frames.setdefault(lv, []).append(frame.assign(source_file=name))
    if not frames:
        raise DataValidationError(
            f"{folder}: none of the {len(files)} workbooks is {want} FFT"
            if want
            else f"{folder}: no FFT data read"
        )
    out = FFTLevels(
        {lv: _sorted(pd.concat(frames[lv], ignore_index=True), lv) for lv in _ORDER if lv in frames}
    )
    if lev is None:
        return out
    if lev not in out:
        raise DataValidationError(f"{folder}: no file has {lev}-level FFT data")
    return out[sheet] if sheet else out[lev]


def _run(tasks: list[tuple], workers: int, executor: Executor | None) -> Iterable[tuple]:
    if executor is not None:
        return list(executor.map(_read_one, tasks))
    if workers is None or workers <= 1 or len(tasks) == 1:
        return [_read_one(t) for t in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        return list(pool.map(_read_one, tasks))


def _sorted(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    keys = [
        "setting",
        *(["touchpoint"] if "touchpoint" in frame.columns else []),
        *UNIT_KEYS[level],
        "period",
    ]
    return frame.sort_values(keys, kind="stable", ignore_index=True)
