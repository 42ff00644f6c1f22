"""The national insight put together in the order notebook 01 shows it: the three FFT
sections (:func:`fft_sections`, the FFT files read once) and every data set
(:func:`national_sections`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.workbook.national_insight.common import organisations_for
from pxlib.workbook.national_insight.fft_funnels import fft_icb_funnel, fft_ward_funnel
from pxlib.workbook.national_insight.fft_trend import fft_ward_trend
from pxlib.workbook.national_insight.files import NationalFiles, find_national
from pxlib.workbook.national_insight.gpps import gpps_section
from pxlib.workbook.national_insight.section import Section
from pxlib.workbook.national_insight.surveys import cqc_section, ncpes_section, staff_section

__all__ = ["fft_sections", "national_sections"]


def fft_sections(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> list[Section]:
    """:func:`fft_ward_trend`, :func:`fft_ward_funnel` and :func:`fft_icb_funnel` (the FFT
    files read once); one section saying what to download when there are none."""
    national = find_national(data_dir)
    orgs = organisations_for(data_dir, organisations)
    kw: dict[str, Any] = {
        "months": months,
        "min_respondents": min_respondents,
        "organisations": orgs,
    }
    first = fft_ward_trend(national, trust_code, workers=workers, **kw)
    if first.key == "fft":  # missing or unreadable: the one sentence is enough
        return [first]
    return [
        first,
        fft_ward_funnel(national, trust_code, **kw),
        fft_icb_funnel(national, trust_code, **kw),
    ]


def national_sections(
    data_dir: str | Path,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    gpps_item: str = "overall_experience",
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> list[Section]:
    """Every section in the order notebook 01 shows them: FFT (ward trend, ward funnel, ICB
    funnel), GP Patient Survey, NCPES, CQC Adult Inpatient Survey, NHS Staff Survey."""
    national = find_national(data_dir)
    orgs = organisations_for(data_dir, organisations)
    return [
        *fft_sections(
            national,
            trust_code,
            months=months,
            min_respondents=min_respondents,
            organisations=orgs,
            workers=workers,
        ),
        gpps_section(
            national,
            trust_code,
            item=gpps_item,
            min_respondents=min_respondents,
            organisations=orgs,
        ),
        ncpes_section(national, trust_code, min_respondents=min_respondents, organisations=orgs),
        cqc_section(national, trust_code, min_respondents=min_respondents, organisations=orgs),
        staff_section(national, trust_code, organisations=orgs),
    ]
