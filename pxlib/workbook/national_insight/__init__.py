"""National insight for notebook 01: what the published national data say about one trust.

Every function here is pure: it reads the files of the data folder's ``national/`` folder
(:data:`NATIONAL_DIR`; ``pxlib batch`` copies it to every organisation, see
:mod:`pxlib.report.isolation`) and returns :class:`Section` objects -- a heading and
Markdown sentences (every value from the data escaped by :mod:`pxlib.escape`), a
display-ready table (numbers written by :mod:`pxlib.fmt`), a plotly figure with its alt
text -- that a notebook displays; nothing is printed or shown here.

- **Friends and Family Test** (:func:`fft_sections`): the trust's wards' monthly % positive
  as p control charts (:func:`pxlib.spc.chart`, :mod:`.fft_trend`), a funnel of its wards
  and a funnel of the trusts of its ICB (:func:`pxlib.spc.funnel`, :mod:`.fft_funnels`):
  **funnels, never league tables**, with NHS England's caveat that FFT results cannot be
  used to compare providers directly [T-IP Notes!A15] and each trust's collection modes in
  the caption (the trust's rows and modes: :mod:`.fft_window`);
- **GP Patient Survey** (:func:`gpps_section`, :mod:`.gpps`): the trust's catchment practices
  (``organisations.csv``: ``org_type`` gp_practice, ``catchment_of`` the trust), weighted
  percentages and bases as published, the 2024 break in the series stated on the chart
  (:func:`pxlib.data.national.series_break`) and the lines not joined across it;
- **NCPES**, **CQC Adult Inpatient Survey** and **NHS Staff Survey**
  (:func:`ncpes_section`, :func:`cqc_section`, :func:`staff_section`, :mod:`.surveys`): the
  trust's results where the folder has them, each with its caveat;
- a missing file gives a sentence naming the file to download and where from
  (:data:`SOURCES`, after ``../shared/national-data.md``; :mod:`.section`);
- every section in notebook 01's order: :func:`national_sections` (:mod:`.assembly`).

**Small numbers**: one rule, :func:`pxlib.disclosure.small_numbers`: a figure resting on
fewer than ``min_respondents`` (default 10) responses is not shown -- a ward-month of FFT
(a gap in its chart), a ward or trust in a funnel, a GPPS practice-year (judged on its
published base), an NCPES or CQC result (on its respondents). NHS England's own
suppression (``*``) and the GPPS sentinel (-97) are gaps too. Statistics (centre lines,
limits, funnels) are computed from every published figure first; only what is shown is
hidden, as everywhere in the workbook.

Files are told apart by name (:func:`find_national`, :mod:`.files`, which also parses the
published FFT workbooks once per contents in a process).
"""

from __future__ import annotations

from pxlib.workbook.national_insight.assembly import fft_sections, national_sections
from pxlib.workbook.national_insight.fft_funnels import (
    FFT_CAVEAT,
    fft_icb_funnel,
    fft_ward_funnel,
)
from pxlib.workbook.national_insight.fft_trend import fft_ward_trend
from pxlib.workbook.national_insight.files import NATIONAL_DIR, NationalFiles, find_national
from pxlib.workbook.national_insight.gpps import gpps_section
from pxlib.workbook.national_insight.section import SOURCES, Section, missing_sentence
from pxlib.workbook.national_insight.surveys import cqc_section, ncpes_section, staff_section

__all__ = [
    "FFT_CAVEAT",
    "NATIONAL_DIR",
    "SOURCES",
    "NationalFiles",
    "Section",
    "cqc_section",
    "fft_icb_funnel",
    "fft_sections",
    "fft_ward_funnel",
    "fft_ward_trend",
    "find_national",
    "gpps_section",
    "missing_sentence",
    "national_sections",
    "ncpes_section",
    "staff_section",
]
