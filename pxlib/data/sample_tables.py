"""The synthetic sample's other tables: organisations (trusts and GP practices), units,
the PDSA log, margins (each unit's eligible patients and each trust's catchment),
Friends and Family Test months and GP Patient Survey practice results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pxlib.data.sample_plan import (
    AGE_BANDS,
    AGE_ELIGIBLE,
    AGE_POPULATION,
    DEPRIVATION,
    DEPRIVATION_POPULATION,
    FFT_FIRST_MONTH,
    FFT_MONTHS,
    FIRST_WEEK,
    GPPS_YEAR,
    PDSA_CYCLES,
    SEX_ELIGIBLE,
    SEX_POPULATION,
    SEXES,
    TRUSTS,
)
from pxlib.data.schemas import FFT_ANSWER_COLUMNS


def _largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    raw = shares / shares.sum() * total
    out = np.floor(raw).astype(int)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def margins_table() -> pd.DataFrame:
    """Each trust's catchment population (no unit), then each unit's eligible patients."""
    catchment = (
        ("age_band", AGE_BANDS, AGE_POPULATION),
        ("sex", SEXES, SEX_POPULATION),
        ("deprivation_quintile", DEPRIVATION, DEPRIVATION_POPULATION),
    )
    eligible = (("age_band", AGE_BANDS, AGE_ELIGIBLE), ("sex", SEXES, SEX_ELIGIBLE))
    rows = []
    for trust in TRUSTS:
        groups: list[tuple[str, str, int, tuple]] = [("", "catchment", trust.population, catchment)]
        groups += [(plan.unit, "eligible", plan.eligible, eligible) for plan in trust.units]
        for unit, describes, total, margins in groups:
            for variable, levels, shares in margins:
                for level, count in zip(levels, _largest_remainder(total, shares), strict=True):
                    rows.append((trust.code, unit, describes, variable, level, int(count)))
    return pd.DataFrame(
        rows, columns=["org_code", "unit", "describes", "variable", "level", "population"]
    )


def practices_table(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    number = 1
    for trust in TRUSTS:
        for _ in range(int(rng.integers(3, 6))):
            rows.append(
                (
                    f"Z8{number:04d}",
                    f"Fictional Practice {number} (synthetic)",
                    "gp_practice",
                    trust.icb,
                    trust.code,
                )
            )
            number += 1
    return pd.DataFrame(
        rows, columns=["org_code", "org_name", "org_type", "parent_code", "catchment_of"]
    )


def organisations_table(practices: pd.DataFrame) -> pd.DataFrame:
    trusts = pd.DataFrame(
        [(t.code, f"{t.name} (synthetic)", "trust", t.icb, "") for t in TRUSTS],
        columns=["org_code", "org_name", "org_type", "parent_code", "catchment_of"],
    )
    return pd.concat([trusts, practices], ignore_index=True)


def units_table() -> pd.DataFrame:
    return pd.DataFrame(
        [
            (t.code, u.unit, u.site, f"{t.name.split()[0]} site {u.site[-1]} (synthetic)")
            for t in TRUSTS
            for u in t.units
        ],
        columns=["org_code", "unit", "site_code", "site_name"],
    )


def pdsa_table() -> pd.DataFrame:
    def day(week: int, offset: int) -> str:
        return (FIRST_WEEK + pd.Timedelta(days=(week - 1) * 7 + offset)).strftime("%Y-%m-%d")

    rows = [
        (
            org,
            unit,
            cid,
            day(first, 0),
            "" if last is None else day(last, 4),
            idea,
            pred,
            what,
            decision or "",
        )
        for org, unit, cid, first, last, idea, pred, what, decision in PDSA_CYCLES
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "org_code",
            "unit",
            "cycle_id",
            "start_date",
            "end_date",
            "change_idea",
            "prediction",
            "what_happened",
            "decision",
        ],
    )


def fft_table(rng: np.random.Generator) -> pd.DataFrame:
    months = pd.date_range(FFT_FIRST_MONTH, periods=FFT_MONTHS, freq="MS")
    rows = []
    for month in months:
        first_year = month.year if month.month >= 4 else month.year - 1
        yearnumber = f"{first_year}_{(first_year + 1) % 100:02d}"
        for trust in TRUSTS:
            for plan in trust.units:
                mean = 3.0 if plan.pattern == "small" else float(rng.integers(40, 90))
                total = int(rng.poisson(mean))
                positive = np.clip(plan.base + 0.08 + rng.normal(0, 0.03), 0.5, 0.99)
                probs = np.array(
                    [
                        positive * 0.7,
                        positive * 0.3,
                        (1 - positive) * 0.4,
                        (1 - positive) * 0.3,
                        (1 - positive) * 0.2,
                        (1 - positive) * 0.1,
                    ]
                )
                counts = rng.multinomial(total, probs / probs.sum())
                eligible = int(round(total / 0.22)) if total else int(rng.integers(5, 20))
                pos = (counts[0] + counts[1]) / total if total else np.nan
                neg = (counts[3] + counts[4]) / total if total else np.nan
                rows.append(
                    (
                        yearnumber,
                        month.strftime("%B").upper(),
                        trust.icb,
                        trust.code,
                        plan.site,
                        plan.unit,
                        *counts.tolist(),
                        total,
                        eligible,
                        pos,
                        neg,
                    )
                )
    columns = [
        "Yearnumber",
        "Periodname",
        "Parent org code",
        "Org code",
        "Site code",
        "Ward name",
        *FFT_ANSWER_COLUMNS,
        "Total Responses",
        "Total Eligible SUM",
        "Prop_Pos",
        "Prop_Neg",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame[["Prop_Pos", "Prop_Neg"]] = frame[["Prop_Pos", "Prop_Neg"]].round(4)
    return frame


def gpps_table(rng: np.random.Generator, practices: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, practice in enumerate(practices.itertuples(index=False)):
        distributed = int(rng.integers(250, 700))
        received = int(distributed * rng.uniform(0.25, 0.45))
        if i == 2:
            received = 8  # a practice with too few responses: its results are suppressed (-97)
        row = {
            "practice_code": practice.org_code,
            "practice_name": practice.org_name,
            "ics_code": practice.parent_code,
            "pcn_code": f"ZU{i // 3 + 1:03d}",
            "year": GPPS_YEAR,
            "distributed": distributed,
            "received": received,
            "resprate": round(received / distributed, 4),
        }
        for q, level in (("q1", 0.55), ("q28", 0.72), ("q90", 0.85)):
            base = int(received * rng.uniform(0.9, 1.0))
            pct = float(np.clip(level + rng.normal(0, 0.08), 0.05, 0.99))
            suppressed = received < 10
            row[f"{q}base"] = -97 if suppressed else base
            row[f"{q}_12pct"] = -97 if suppressed else round(pct, 4)
        rows.append(row)
    return pd.DataFrame(rows)
