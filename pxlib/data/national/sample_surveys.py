"""Synthetic GP Patient Survey and NHS Staff Survey files in the published layouts.

**SYNTHETIC**: every practice, trust, name and figure written here is invented; codes start
with Z, a shape no real NHS organisation has, and every name ends "(synthetic)".

- :func:`write_sample_gpps`: GPPS practice files named as published
  (``GPPS_<YYYY>_Practice_data_(weighted)_(csv)_SYNTHETIC.csv``) for 2022 and 2023 in the
  layout used up to 2023 (``Practice_Code``, ``ICS_Code``, ``Q<n>base``, ``Q<n>_<k>pct``)
  and for 2024 and 2025 in the 2024-onwards layout (``ad_practicecode``, ``<stem>.pcteval``,
  ``<stem>_<k>.pct``, ``<stem>.baseevalw``), read back by
  :func:`pxlib.data.national.gpps.read_gpps`.
- :func:`write_sample_staff_survey`: People Promise element and theme scores (0-10) of the
  sample trusts with their benchmarking group's score, in the layout
  :data:`pxlib.data.national.staff_survey.STAFF_SURVEY_SCHEMA`.

Planted (:func:`sample_surveys_readme` says it for the sample's README): the third practice
has fewer than 10 responses every year, so all its results are suppressed (-97); every
practice's results step up in 2024, the redesign, so a line joining 2023 to 2024 would show
a change that is the new questionnaire's, not the practices'; the first practice's overall
experience falls every year. Trust ZA2's staff scores fall each year (its Elm
Ward deteriorates in the patient survey sample). The same seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.national.staff_survey import PEOPLE_PROMISE_ELEMENTS, STAFF_SURVEY_THEMES

# pxlib.data.sample (its trusts and default seed) is imported inside the functions, so that
# the sample generator can import this module.

__all__ = [
    "GPPS_SAMPLE_YEARS",
    "STAFF_SAMPLE_YEARS",
    "gpps_file_name",
    "sample_practices",
    "sample_surveys_readme",
    "write_sample_gpps",
    "write_sample_staff_survey",
    "write_sample_surveys",
]

GPPS_SAMPLE_YEARS = (2022, 2023, 2024, 2025)
STAFF_SAMPLE_YEARS = (2022, 2023, 2024)
STAFF_SURVEY_FILE = "NHS_Staff_Survey_People_Promise_scores_SYNTHETIC.csv"
SUPPRESSED = -97
#: the planted step of every practice's log-odds at the 2024 redesign
REDESIGN_STEP = 0.25

# (up-to-2023 question, 2024 stem, options, planted share positive (options 1+2), label)
_QUESTIONS = (
    (28, "overallexp", 5, 0.72, "overall experience"),
    (18, "gpcontactoverall", 5, 0.55, "experience of making an appointment"),
    (90, "lastgpapptneeds", 4, 0.86, "needs met at the last appointment"),
)
_SMALL_PRACTICE = 2  # 0-based: the third practice has fewer than 10 responses
_DECLINING_PRACTICE = 0
_BENCHMARK_GROUPS = {
    "ZA6": "Mental health and learning disability trusts (synthetic group)",
}
_ACUTE_GROUP = "Acute and acute and community trusts (synthetic group)"


def _seed(seed: int | None) -> int:
    """``seed``, or the sample's default seed (:data:`pxlib.data.sample.DEFAULT_SEED`)."""
    from pxlib.data.sample import DEFAULT_SEED

    return DEFAULT_SEED if seed is None else int(seed)


def gpps_file_name(year: int) -> str:
    """The sample's file name for a year: the published pattern, marked SYNTHETIC."""
    return f"GPPS_{year}_Practice_data_(weighted)_(csv)_SYNTHETIC.csv"


def sample_practices() -> pd.DataFrame:
    """Fictional practices, three per sample trust: ``org_code`` (Z81001, ...), ``org_name``,
    ``parent_code`` (the trust's ICB) and ``catchment_of`` (the trust)."""
    from pxlib.data.sample import TRUSTS

    rows = [
        (f"Z81{3 * i + k + 1:03d}", f"Fictional Surgery {3 * i + k + 1} (synthetic)", t.icb, t.code)
        for i, t in enumerate(TRUSTS)
        for k in range(3)
    ]
    return pd.DataFrame(rows, columns=["org_code", "org_name", "parent_code", "catchment_of"])


def _practices(practices: pd.DataFrame | None) -> pd.DataFrame:
    if practices is None:
        return sample_practices()
    frame = practices
    if "org_type" in frame.columns:
        frame = frame[frame["org_type"] == "gp_practice"]
    missing = [c for c in ("org_code", "org_name", "parent_code") if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(
            "practices needs rows with org_code, org_name and parent_code (an organisations "
            f"table); missing: {missing or 'every practice row'}"
        )
    return frame.reset_index(drop=True)


def _shares(rng: np.random.Generator, positive: float, options: int) -> np.ndarray:
    """Option shares (1-based order) whose first two add up to ``positive``."""
    top = rng.dirichlet([3.0, 2.0]) * positive
    rest = rng.dirichlet(np.linspace(3.0, 1.0, options - 2)) * (1 - positive)
    return np.concatenate([top, rest])


def _practice_year(
    rng: np.random.Generator, i: int, effects: np.ndarray, year: int
) -> tuple[int, int, list[tuple[int, np.ndarray]]]:
    """(distributed, received, [(base, option shares)] per question) of one practice-year."""
    distributed = int(rng.integers(250, 700))
    received = 8 if i == _SMALL_PRACTICE else int(distributed * rng.uniform(0.25, 0.45))
    results = []
    for q, (_, _, options, level, _) in enumerate(_QUESTIONS):
        logit = np.log(level / (1 - level)) + effects[q] + rng.normal(0, 0.08)
        logit += REDESIGN_STEP if year >= 2024 else 0.0
        if i == _DECLINING_PRACTICE and q == 0:
            logit -= 0.5 * (year - GPPS_SAMPLE_YEARS[0])
        positive = float(1 / (1 + np.exp(-logit)))
        base = int(received * rng.uniform(0.88, 0.98))
        counts = rng.multinomial(base, _shares(rng, positive, options))
        results.append((base, counts / max(base, 1)))
    return distributed, received, results


def _gpps_rows(frame: pd.DataFrame, year: int, rng: np.random.Generator, effects) -> list[dict]:
    rows = []
    for i, p in enumerate(frame.itertuples(index=False)):
        distributed, received, results = _practice_year(rng, i, effects[i], year)
        small = received < 10
        icb = str(p.parent_code)
        pcn = f"ZU{i // 3 + 1:03d}"
        if year >= 2024:
            row = {
                "ad_practicecode": p.org_code,
                "ad_practicename": p.org_name,
                "ad_icscode": icb,
                "ad_icsname": f"NHS {icb} Integrated Care Board (synthetic)",
                "ad_icscodeons": f"Z54{icb[-1]:0>6}",
                "ad_commissioningregioncode": "ZR1",
                "ad_commissioningregionname": "Fictional Region (synthetic)",
                "ad_pcncode": pcn,
                "ad_pcnname": f"Fictional PCN {pcn[2:]} (synthetic)",
                "distributed": distributed,
                "received": received,
                "resprate": round(received / distributed, 4),
                "popsize": int(distributed * rng.uniform(8, 14)),
            }
        else:
            row = {
                "Practice_Code": p.org_code,
                "Practice_Name": p.org_name,
                "CCG_Code": "",
                "CCG_Name": "",
                "ICS_Code": icb,
                "ICS_Name": f"NHS {icb} Integrated Care System (synthetic)",
                "distributed": distributed,
                "received": received,
                "resprate": round(received / distributed, 4),
            }
        for (number, stem, _, _, _), (base, shares) in zip(_QUESTIONS, results, strict=True):
            row.update(_result_columns(year, number, stem, base, shares, small, rng))
        rows.append(row)
    return rows


def _result_columns(year, number, stem, base, shares, small, rng) -> dict:
    """One question's columns in the year's layout, -97 everywhere for a small practice."""

    def value(x: float) -> float:
        return SUPPRESSED if small else round(float(x), 4)

    out: dict[str, object] = {}
    if year >= 2024:
        out[f"{stem}.pcteval"] = value(shares[0] + shares[1])
        out[f"{stem}.baseevalw"] = SUPPRESSED if small else round(base * rng.uniform(0.9, 1.1), 2)
        for k, share in enumerate(shares, start=1):
            out[f"{stem}_{k}.pct"] = value(share)
    else:
        out[f"Q{number}base"] = SUPPRESSED if small else base
        for k, share in enumerate(shares, start=1):
            out[f"Q{number}_{k}pct"] = value(share)
        out[f"Q{number}_12"] = SUPPRESSED if small else int(round((shares[0] + shares[1]) * base))
        out[f"Q{number}_12pct"] = value(shares[0] + shares[1])
    return out


def write_sample_gpps(
    folder: str | Path, seed: int | None = None, practices: pd.DataFrame | None = None
) -> list[Path]:
    """Write the synthetic GPPS practice files of :data:`GPPS_SAMPLE_YEARS` into ``folder``
    (module docstring); returns their paths.

    ``practices`` is an organisations table (``org_code``, ``org_name``, ``parent_code``;
    rows of other ``org_type`` are ignored), e.g. the sample's own, so that the GPPS files
    cover the practices the workbook's trusts list; by default :func:`sample_practices`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seed = _seed(seed)
    frame = _practices(practices)
    # the practices' lasting effects: a stream of their own (not [seed, year], which 2024's
    # draws use)
    rng = np.random.default_rng([seed, 7001])
    effects = rng.normal(0, 0.35, size=(len(frame), len(_QUESTIONS)))
    paths = []
    for year in GPPS_SAMPLE_YEARS:
        table = pd.DataFrame(_gpps_rows(frame, year, np.random.default_rng([seed, year]), effects))
        path = folder / gpps_file_name(year)
        table.to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    return paths


def write_sample_staff_survey(folder: str | Path, seed: int | None = None) -> Path:
    """Write People Promise element and theme scores (0-10) of the sample trusts for
    :data:`STAFF_SAMPLE_YEARS`, with their benchmarking group's score; returns the path."""
    from pxlib.data.sample import TRUSTS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([_seed(seed), 1010])
    elements = (*PEOPLE_PROMISE_ELEMENTS, *STAFF_SURVEY_THEMES)
    level = rng.uniform(6.2, 7.4, size=len(elements))
    trust_effect = {t.code: rng.normal(0, 0.25) for t in TRUSTS}
    group_level = {
        g: rng.normal(0, 0.1, size=len(elements))
        for g in (_ACUTE_GROUP, *_BENCHMARK_GROUPS.values())
    }
    rows = []
    for year in STAFF_SAMPLE_YEARS:
        for t in TRUSTS:
            group = _BENCHMARK_GROUPS.get(t.code, _ACUTE_GROUP)
            decline = -0.25 * (year - STAFF_SAMPLE_YEARS[0]) if t.code == "ZA2" else 0.0
            for e, element in enumerate(elements):
                score = level[e] + trust_effect[t.code] + decline + rng.normal(0, 0.08)
                bench = level[e] + group_level[group][e] + rng.normal(0, 0.03)
                rows.append(
                    (
                        year,
                        t.code,
                        f"{t.name} (synthetic)",
                        element,
                        round(float(np.clip(score, 0, 10)), 2),
                        round(float(bench), 2),
                        group,
                    )
                )
    table = pd.DataFrame(
        rows,
        columns=[
            "year",
            "org_code",
            "org_name",
            "element",
            "score",
            "benchmark_score",
            "benchmark_group",
        ],
    )
    path = folder / STAFF_SURVEY_FILE
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def write_sample_surveys(
    folder: str | Path, seed: int | None = None, practices: pd.DataFrame | None = None
) -> list[Path]:
    """:func:`write_sample_gpps` and :func:`write_sample_staff_survey` into one folder."""
    return [*write_sample_gpps(folder, seed, practices), write_sample_staff_survey(folder, seed)]


def sample_surveys_readme() -> list[str]:
    """Markdown lines for the sample's README: the files and what is planted in them."""
    first, last = GPPS_SAMPLE_YEARS[0], GPPS_SAMPLE_YEARS[-1]
    return [
        "## GP Patient Survey and NHS Staff Survey (SYNTHETIC, published layouts)",
        "",
        f"- `GPPS_<YYYY>_Practice_data_(weighted)_(csv)_SYNTHETIC.csv`, {first} to {last}: GP "
        "practice results in NHS England's layouts, 2022-2023 as published up to 2023 "
        "(`Practice_Code`, `Q28_12pct`, ...) and 2024-2025 as published from 2024 "
        "(`ad_practicecode`, `overallexp.pcteval`, ...). Shares are fractions 0-1; -97 = suppressed.",
        "- The third practice has fewer than 10 responses every year: all its results are -97.",
        f"- Every practice's results step up in 2024 (log-odds +{REDESIGN_STEP}): the redesign "
        "starts a new series, so 2024 onwards is never trended against 2023 or earlier.",
        "- The first practice's overall experience falls every year.",
        f"- `{STAFF_SURVEY_FILE}`: NHS Staff Survey People Promise element and theme scores "
        f"(0-10) of the sample trusts, {STAFF_SAMPLE_YEARS[0]} to {STAFF_SAMPLE_YEARS[-1]}, "
        "with a benchmarking group's score; ZA2's scores fall each year.",
    ]
