"""Planted truths read right: the real workbook path on simulated units with known patterns.

Each pattern of :mod:`tests.planted` (stable, step up with and without a logged
PDSA cycle, an adopted cycle with no effect, step down, reliable near 100 %,
reliable then slipping, a steady climb) is simulated at 10-20 patients a week
for several seeds, loaded with :func:`pxlib.data.load_data_dir` and read by
:func:`pxlib.workbook.steps.reliability`, exactly as notebook 03 does. The
expected verdict and variation icon are those of the planted truth.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pxlib.data import load_data_dir
from pxlib.workbook import steps
from tests.planted import EXPECTED, write_planted

SEEDS = (11, 12, 13, 14)


@pytest.fixture(scope="module")
def readings(tmp_path_factory) -> pd.DataFrame:
    frames = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"planted{seed}")
        truth = write_planted(folder, seed, reps=2)
        data = load_data_dir(folder, "ZT1")
        rel = steps.reliability(data, target=0.95, weighted=False)
        got = rel.readings[["unit", "verdict", "variation_type", "signal", "reason"]]
        merged = truth.merge(got, on="unit", suffixes=("_expected", ""), validate="one_to_one")
        frames.append(merged.assign(seed=seed))
    out = pd.concat(frames, ignore_index=True)
    out["right"] = (out["verdict"] == out["verdict_expected"]) & (
        out["variation_type"] == out["variation_type_expected"]
    )
    return out


def test_at_least_95_percent_of_units_read_right(readings):
    wrong = readings[~readings["right"]]
    assert readings["right"].mean() >= 0.95, wrong[
        ["pattern", "seed", "verdict", "variation_type", "reason"]
    ].to_string()


@pytest.mark.parametrize("pattern", list(EXPECTED))
def test_every_pattern_reads_right_at_least_two_times_in_three(readings, pattern):
    own = readings[readings["pattern"] == pattern]
    assert len(own) == 2 * len(SEEDS)
    assert own["right"].mean() >= 2 / 3, own[
        ["seed", "verdict", "variation_type", "reason"]
    ].to_string()


def test_never_reliable_beside_a_concern(readings):
    reliable = readings[readings["verdict"] == "reliable"]
    assert not (reliable["variation_type"] == "special_cause_concern").any()
    assert not reliable["signal"].isin(["concern", "both"]).any()


def test_a_concern_is_named_as_a_concern(readings):
    concern = readings[readings["signal"].isin(["concern", "both"])]
    assert concern["verdict"].str.contains("deteriorating|concern").all()


def test_the_batch_results_json_reads_the_planted_truths(tmp_path):
    """The batch's <out>/<org>/03_test_and_measure.results.json, as the held-out checks read it."""
    import json

    from pxlib.report import run_batch

    data_dir = tmp_path / "data"
    truth = write_planted(data_dir, seed=99, reps=1)
    frame = run_batch(data_dir, tmp_path / "out", trusts=["ZT1"], notebooks=["03"], workers=1,
                      progress=False)  # fmt: skip
    assert (frame["status"] == "ok").all(), frame["error"].tolist()
    saved = json.loads((tmp_path / "out" / "ZT1" / "03_test_and_measure.results.json").read_text())
    got = pd.DataFrame(saved["results"])[["unit", "verdict", "variation_type"]]
    merged = truth.merge(got, on="unit", suffixes=("_expected", ""), validate="one_to_one")
    right = (merged["verdict"] == merged["verdict_expected"]) & (
        merged["variation_type"] == merged["variation_type_expected"]
    )
    assert right.mean() >= 7 / 8, merged.to_string()


if __name__ == "__main__":  # python -m tests.test_planted_truths [seeds]: seeds 21-40 by default
    import sys
    import tempfile
    import warnings
    from pathlib import Path

    warnings.simplefilter("ignore")
    seeds = [int(s) for s in sys.argv[1:]] or list(range(21, 41))
    rows = []
    for seed in seeds:
        folder = Path(tempfile.mkdtemp())
        truth = write_planted(folder, seed, reps=2)
        rel = steps.reliability(load_data_dir(folder, "ZT1"), target=0.95, weighted=False)
        got = truth.merge(rel.readings, on="unit", suffixes=("_expected", ""))
        rows.append(got.assign(seed=seed))
    out = pd.concat(rows, ignore_index=True)
    out["right"] = (out["verdict"] == out["verdict_expected"]) & (
        out["variation_type"] == out["variation_type_expected"]
    )
    print(out.groupby("pattern")["right"].agg(["mean", "size"]).to_string())
    print(f"all: {out['right'].mean():.1%} of {len(out)} units read right")
    reliable = out[out["verdict"] == "reliable"]
    print("reliable beside a concern:", int(reliable["signal"].isin(["concern", "both"]).sum()))
