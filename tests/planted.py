"""Synthetic data folders with planted truths, for testing what the workbook tells a team.

Each pattern is a weekly share of patients for whom the Always Event happens,
at 10-20 patients a week, unweighted, over 52 weeks; the expected reading is
what a statistician would say of the planted truth. Organisation codes start
with Z (fictional); every answer is simulated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIRST_WEEK = pd.Timestamp("2025-09-01")  # a Monday
N_WEEKS = 52

#: pattern -> (expected verdict, expected variation type)
EXPECTED = {
    "stable": ("not yet reliable", "common_cause"),
    "step up after a cycle": ("improving", "special_cause_improvement"),
    "step up, no cycle": ("improving", "special_cause_improvement"),
    "cycle with no effect": ("not yet reliable", "common_cause"),
    "step down": ("deteriorating", "special_cause_concern"),
    "reliable near 100%": ("reliable", "common_cause"),
    "reliable then slipping": ("deteriorating", "special_cause_concern"),
    "steady climb": ("improving", "special_cause_improvement"),
}


def _share(pattern: str, rng: np.random.Generator) -> tuple[np.ndarray, int | None]:
    """Planted share by week (0-based) and the week a change takes effect (or None)."""
    t = np.arange(N_WEEKS)
    change = int(rng.integers(20, 35))
    if pattern in ("stable", "cycle with no effect"):
        return np.full(N_WEEKS, rng.uniform(0.70, 0.86)), None
    if pattern in ("step up after a cycle", "step up, no cycle"):
        return np.where(t < change, 0.65, 0.90), change
    if pattern == "step down":
        return np.where(t < change, 0.90, 0.70), change
    if pattern == "reliable near 100%":
        return np.full(N_WEEKS, 0.985), None
    if pattern == "reliable then slipping":
        return np.where(t < 40, 0.985, 0.85), 40
    if pattern == "steady climb":
        return np.linspace(0.70, 0.92, N_WEEKS), None
    raise ValueError(pattern)


def write_planted(folder: Path, seed: int, reps: int = 2, org: str = "ZT1") -> pd.DataFrame:
    """Write a data folder with ``reps`` units of every pattern; returns the truth table.

    Truth columns: ``unit``, ``pattern``, ``verdict``, ``variation_type``.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    answers, cycles, truth = [], [], []
    rid = 0
    for pattern, (verdict, variation) in EXPECTED.items():
        for r in range(reps):
            unit = f"{pattern} {r + 1}"
            share, change = _share(pattern, rng)
            n = rng.integers(10, 21, size=N_WEEKS)
            week_of = np.repeat(np.arange(N_WEEKS), n)
            happened = rng.random(len(week_of)) < share[week_of]
            day = rng.integers(0, 7, size=len(week_of))
            dates = FIRST_WEEK + pd.to_timedelta(week_of * 7 + day, unit="D")
            ids = np.arange(rid, rid + len(week_of))
            rid += len(week_of)
            answers.append(
                pd.DataFrame(
                    {
                        "response_id": [f"R{i:08d}" for i in ids],
                        "respondent_id": [f"P{i:08d}" for i in ids],
                        "org_code": org,
                        "unit": unit,
                        "response_date": dates.strftime("%Y-%m-%d"),
                        "question_id": "AE1",
                        "answer": np.where(happened, "Always", "Never"),
                    }
                )
            )
            if pattern in ("step up after a cycle", "cycle with no effect"):
                end = change if change is not None else int(rng.integers(16, 30))
                start_week, end_week = end - 4, end - 1  # the change takes effect the week after
                cycles.append(
                    {
                        "org_code": org,
                        "unit": unit,
                        "cycle_id": f"{unit}-1",
                        "start_date": (FIRST_WEEK + pd.Timedelta(weeks=start_week)).date(),
                        "end_date": (FIRST_WEEK + pd.Timedelta(weeks=end_week, days=4)).date(),
                        "change_idea": "A planted change",
                        "prediction": "",
                        "what_happened": "",
                        "decision": "adopt",
                    }
                )
            truth.append(
                {"unit": unit, "pattern": pattern, "verdict": verdict, "variation_type": variation}
            )
    pd.DataFrame(
        [{"org_code": org, "org_name": "Planted Truth Trust (synthetic)", "org_type": "trust"}]
    ).to_csv(folder / "organisations.csv", index=False)
    pd.DataFrame({"org_code": org, "unit": [t["unit"] for t in truth]}).to_csv(
        folder / "units.csv", index=False
    )
    pd.DataFrame(
        {
            "question_id": "AE1",
            "wording": "Did it always happen?",
            "measure_type": "outcome",
            "scale": "always_never",
            "answer": ["Always", "Never"],
            "counts_as": ["happened", "not_happened"],
        }
    ).to_csv(folder / "question_bank.csv", index=False)
    pd.concat(answers, ignore_index=True).to_csv(folder / "responses.csv", index=False)
    cols = [
        "org_code", "unit", "cycle_id", "start_date", "end_date", "change_idea", "prediction",
        "what_happened", "decision",
    ]  # fmt: skip
    pd.DataFrame(cycles, columns=cols).to_csv(folder / "pdsa_log.csv", index=False)
    return pd.DataFrame(truth)
