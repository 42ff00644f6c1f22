"""Input schemas, loaders with validation, and the synthetic sample generator.

Every notebook reads its data through this package: :func:`load_data_dir` for a
whole data folder, or the ``load_*`` functions for single files (CSV or Excel).
:func:`find_input` locates a table's file in a folder and :func:`read_table`
reads any input file; batch staging uses both, so it reads what validation reads.
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
    "read_table",
    "score_responses",
]
