"""What a part of the national insight is (:class:`Section`: a heading, Markdown, a table, a
figure with its alt text), and the sentences of a data set that is missing or unreadable:
which file to download and from where (:data:`SOURCES`, after ``../shared/national-data.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd

from pxlib.errors import PxlibError
from pxlib.escape import md_text
from pxlib.workbook.national_insight.files import NATIONAL_DIR

__all__ = [
    "SOURCES",
    "Section",
    "Source",
    "missing_section",
    "missing_sentence",
    "read_or_reason",
    "unreadable_section",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """What to download for one data set, and from where (``national-data.md``)."""

    what: str
    file: str
    where: str


#: where each national data set comes from (``../shared/national-data.md``, sources)
SOURCES: dict[str, Source] = {
    "fft": Source(
        "Friends and Family Test inpatient data",
        "`friends-and-family-test-inpatient-data-<month>-<year>.xlsm` (one workbook a month; "
        "keep each month's file)",
        "NHS England's Friends and Family Test data page, "
        "https://www.england.nhs.uk/fft/friends-and-family-test-data/",
    ),
    "gpps": Source(
        "GP Patient Survey practice results",
        "`GPPS_<YYYY>_Practice_data_(weighted)_(csv)_PUBLIC.csv` (one a year)",
        "the GP Patient Survey's survey results, practice data (CSV), "
        "https://www.gp-patient.co.uk/",
    ),
    "ncpes": Source(
        "National Cancer Patient Experience Survey trust results",
        "the trust-level scores (a CSV or Excel file whose name contains `cpes`; the "
        "published file names and layout are unconfirmed, pxlib reads the columns of "
        "`pxlib.data.national.ncpes.NCPES_SCORES_SCHEMA`)",
        "the survey's results site, https://nhssurveys.co.uk/cpes/",
    ),
    "cqc": Source(
        "CQC Adult Inpatient Survey trust results",
        "the trust-level benchmark file, e.g. `20210917 IP20 Trust-level benchmark ODS V1.ods` "
        "(sheets `Trust_Scores` and `Trust_Respondents`)",
        "the Care Quality Commission's NHS patient survey results, https://www.cqc.org.uk/",
    ),
    "staff": Source(
        "NHS Staff Survey People Promise scores",
        "the organisation scores (a CSV or Excel file whose name contains `staff`, with the "
        "columns `year`, `org_code`, `element`, `score`, `benchmark_score`; the published "
        "layout is unconfirmed)",
        "the NHS Staff Survey results, https://www.nhsstaffsurveys.com/",
    ),
}


def missing_sentence(key: str, detail: str = "") -> str:
    """Markdown: which file to put in ``national/`` for data set ``key`` and where from."""
    src = SOURCES[key]
    lead = f"No {src.what} in the data folder's `{NATIONAL_DIR}/` folder"
    lead += f" ({md_text(detail)})" if detail else ""
    return f"{lead}. Download {src.file} from {src.where} and save it in `{NATIONAL_DIR}/`."


@dataclass(frozen=True)
class Section:
    """One part of the national insight, ready to show.

    ``title`` and ``text`` are Markdown with every data value escaped; ``table`` is a
    display-ready frame of text (numbers formatted, small numbers replaced by the rule's
    note) with ``table_caption``; ``figure`` a plotly Figure with ``alt``, its description
    in plain words; ``data`` the numbers behind what is shown (small numbers set missing).
    ``available`` is False when the data set is missing or unreadable (``text`` says what
    to do)."""

    key: str
    title: str
    text: str
    table: pd.DataFrame | None = None
    table_caption: str = ""
    figure: object = None
    alt: str = ""
    data: pd.DataFrame | None = None
    available: bool = True


def unreadable_section(key: str, title: str, exc: Exception) -> Section:
    """A section saying data set ``key`` could not be read (``exc`` says why) and where to
    get the file as published."""
    text = (
        f"The {SOURCES[key].what} in `{NATIONAL_DIR}/` could not be read: "
        f"{md_text(str(exc))} Replace the file with the one as published "
        f"({SOURCES[key].where})."
    )
    return Section(key, title, text, available=False)


def missing_section(key: str, title: str) -> Section:
    """A section saying data set ``key`` is missing: :func:`missing_sentence`."""
    return Section(key, title, missing_sentence(key), available=False)


def read_or_reason(
    key: str, title: str, files: Sequence[Path], read: Callable[[], T]
) -> T | Section:
    """``read()``, or the section saying why data set ``key`` cannot be shown: no ``files``
    (:func:`missing_section`) or a reading error (:func:`unreadable_section`)."""
    if not files:
        return missing_section(key, title)
    try:
        return read()
    except PxlibError as exc:
        return unreadable_section(key, title, exc)
