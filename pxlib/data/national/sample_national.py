"""The synthetic sample's national files, in the layouts NHS England publishes them.

``pxlib sample`` calls :func:`write_sample_national` after writing the sample's own tables:
it fills the ``national/`` folder of the sample (:data:`NATIONAL_DIR`) with

- the monthly inpatient FFT workbooks of :func:`pxlib.data.national.write_sample_fft`
  (:data:`FFT_SAMPLE_MONTHS` months from September 2024, the sample's trusts with their
  wards, peers in the same ICBs and an independent-sector provider);
- the GP Patient Survey practice files of
  :func:`pxlib.data.national.sample_surveys.write_sample_gpps` for the practices in the
  sample's ``organisations.csv`` (2022-2023 in the layout published up to 2023, 2024-2025
  in the layout published from 2024);
- the NHS Staff Survey People Promise scores of
  :func:`pxlib.data.national.sample_surveys.write_sample_staff_survey`.

Every writer draws from random streams of its own, derived from the seed
(``default_rng([seed, k])``), never from the stream of the sample's own tables: adding
these files changes none of the other sample files. The same seed gives byte-identical
files. Batch staging copies the whole ``national/`` folder to every organisation (they
are published aggregate figures, see :mod:`pxlib.report.isolation`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pxlib.data.national.sample_fft import write_sample_fft
from pxlib.data.national.sample_surveys import (
    GPPS_SAMPLE_YEARS,
    STAFF_SAMPLE_YEARS,
    STAFF_SURVEY_FILE,
    write_sample_gpps,
    write_sample_staff_survey,
)

__all__ = [
    "FFT_SAMPLE_MONTHS",
    "NATIONAL_DIR",
    "sample_national_readme",
    "write_sample_national",
]

#: the folder of a data folder that holds national files (copied whole to every organisation)
NATIONAL_DIR = "national"
#: months of published-layout inpatient FFT in the sample (September 2024 to August 2026)
FFT_SAMPLE_MONTHS = 24


def write_sample_national(
    out_dir: str | Path, seed: int | None = None, organisations: pd.DataFrame | None = None
) -> list[Path]:
    """Write the sample's national files into ``out_dir / national``; returns their paths
    (FFT workbooks oldest first, then the GPPS files by year, then the Staff Survey file).

    ``organisations`` is the sample's organisations table: the GPPS files cover its GP
    practices (by default the fictional practices of
    :func:`~pxlib.data.national.sample_surveys.sample_practices`)."""
    folder = Path(out_dir) / NATIONAL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return [
        *write_sample_fft(folder, seed=seed, months=FFT_SAMPLE_MONTHS),
        *write_sample_gpps(folder, seed=seed, practices=organisations),
        write_sample_staff_survey(folder, seed=seed),
    ]


def sample_national_readme() -> list[str]:
    """Markdown lines for the sample's README: the national files and what is planted."""
    first, last = GPPS_SAMPLE_YEARS[0], GPPS_SAMPLE_YEARS[-1]
    return [
        "## National files (`national/`, SYNTHETIC, published layouts)",
        "",
        "Read by `pxlib.data.read_fft_dir`, `pxlib.data.read_gpps_dir` and "
        "`pxlib.data.national.read_staff_survey`, and shown in notebook 01 by "
        "`pxlib.workbook.national_insight`. `pxlib batch` copies the folder to every "
        "organisation: these are published aggregate figures.",
        "",
        "| file | what |",
        "|---|---|",
        f"| `friends-and-family-test-inpatient-data-<month>-<year>.xlsx` | {FFT_SAMPLE_MONTHS} "
        "monthly inpatient FFT workbooks (September 2024 to August 2026) in NHS England's "
        "published layout: sheets `Notes`, `Summary`, `ICB`, `Trusts` (with collection modes), "
        "`Sites`, `Wards`; two header rows, England and Selection rows, `*` where NHS England's "
        "suppression blanks a cell, a terminating row of `-`. Trusts ZA1-ZA6 with the wards of "
        "`units.csv`, peer trusts ZB1-ZB4 in the same ICBs and an independent-sector provider "
        "ZX1 (ICB `IS1`) |",
        f"| `GPPS_<YYYY>_Practice_data_(weighted)_(csv)_SYNTHETIC.csv` | GP Patient Survey "
        f"practice results {first}-{last} for the practices of `organisations.csv`: "
        "2022-2023 in the layout published up to 2023 (`Practice_Code`, `Q28base`, "
        "`Q28_12pct`), 2024-2025 in the layout published from 2024 (`ad_practicecode`, "
        "`overallexp.pcteval`, `overallexp.baseevalw`); weighted shares 0-1, -97 = suppressed |",
        f"| `{STAFF_SURVEY_FILE}` | NHS Staff Survey People Promise element and theme scores "
        f"(0-10) of the sample trusts, {STAFF_SAMPLE_YEARS[0]}-{STAFF_SAMPLE_YEARS[-1]}, with "
        "the benchmarking group's score (provisional layout: the published one is unconfirmed) |",
        "",
        "- **FFT**: each ward's share of very good or good answers is its planted Always Event "
        "share plus 8 points, with month-to-month noise; ZA4 Birch Unit has 0-8 responses a "
        "month, so NHS England's suppression (fewer than 5 responses, then the next smallest "
        "ward of its site) shows in most months. The independent-sector provider is flagged "
        "`IS1`.",
        "- **GP Patient Survey**: practice Z80003 has fewer than 10 responses every year, so "
        "all its results are -97; every practice's results step up in 2024, the redesign (a new "
        "series: never trended against 2023 or earlier); practice Z80001's overall experience "
        "falls every year.",
        "- **NHS Staff Survey**: ZA2's scores fall each year.",
        "- No National Cancer Patient Experience Survey or CQC Adult Inpatient Survey file: "
        "notebook 01 says which file to download and from where.",
        "",
    ]
