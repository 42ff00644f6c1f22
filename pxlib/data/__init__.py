"""Input schemas, loaders with validation, and the synthetic sample generator.

Every notebook reads its data through this package: :func:`load_data_dir` for a
whole data folder, or the ``load_*`` functions for single files (CSV or Excel).
:func:`find_input` locates a table's file in a folder and :func:`read_table`
reads any input file; batch staging uses both, so it reads what validation reads.

National files as NHS England publishes them (:mod:`pxlib.data.national`): :func:`read_fft`
and :func:`read_fft_dir` (Friends and Family Test workbooks), :func:`read_gpps` and
:func:`read_gpps_dir` (GP Patient Survey practice files), imported on first use so that
``import pxlib.data`` does not load the Excel reader.
"""

from pxlib.data.folder import WorkbookData, find_input, load_data_dir, score_responses
from pxlib.data.loaders import (
    LoadResult,
    iso_week_start,
    load_fft,
    load_gpps,
    load_margins,
    load_organisations,
    load_pdsa_log,
    load_question_bank,
    load_responses,
    load_units,
    normalise_code,
    parse_dates,
    read_table,
)
from pxlib.data.schemas import FILE_NAMES, SCHEMAS

__all__ = [
    "FILE_NAMES",
    "SCHEMAS",
    "LoadResult",
    "WorkbookData",
    "find_input",
    "iso_week_start",
    "load_data_dir",
    "load_fft",
    "load_gpps",
    "load_margins",
    "load_organisations",
    "load_pdsa_log",
    "load_question_bank",
    "load_responses",
    "load_units",
    "normalise_code",
    "parse_dates",
    "read_fft",
    "read_fft_dir",
    "read_gpps",
    "read_gpps_dir",
    "read_table",
    "score_responses",
]

#: names served from :mod:`pxlib.data.national` on first use
_NATIONAL = ("read_fft", "read_fft_dir", "read_gpps", "read_gpps_dir")


def __getattr__(name: str):
    if name in _NATIONAL:
        from pxlib.data import national

        value = getattr(national, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NATIONAL})
