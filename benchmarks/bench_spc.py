"""Speed of pxlib.spc.chart against clinical-qikit (a Python port of qicharts2).

p charts for 1,000 units x 52 weeks, every rule set pxlib has (Anhøj + 3-sigma, Making
Data Count, IHI), beside clinical-qikit's ``qic(..., facets=..., chart="p")`` (its
default Anhøj rules) on the same data in the same run; then 10,000 units x 52 weeks for
pxlib alone. Run: ``.venv/bin/python benchmarks/bench_spc.py`` (needs
``pip install -r benchmarks/requirements.txt``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from pxlib.spc import chart


def make_data(units: int, weeks: int = 52, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 120, size=units * weeks)
    p = np.repeat(rng.uniform(0.6, 0.95, size=units), weeks)
    return pd.DataFrame(
        {
            "unit": np.repeat([f"U{i:05d}" for i in range(units)], weeks),
            "week": np.tile(pd.date_range("2024-01-01", periods=weeks, freq="7D"), units),
            "y": rng.binomial(n, p),
            "n": n,
        }
    )


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run_pxlib(df):
    return chart(df, "week", "y", "n", kind="p", by="unit", rules=["anhoej", "mdc", "ihi"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--big", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--peer-repeat", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    df = make_data(args.units)
    run_pxlib(df)  # warm-up (imports, caches)
    t_px = best_of(lambda: run_pxlib(df), args.repeat)
    print(f"pxlib        {args.units:>6} units x 52 weeks, p chart, all rules: {t_px:8.3f} s")

    try:
        import qikit
    except ImportError:
        qikit = None
        print("clinical-qikit not installed: pip install -r benchmarks/requirements.txt")
    if qikit is not None:

        def run_qikit():
            return qikit.qic(x="week", y="y", n="n", data=df, facets="unit", chart="p")

        t_qk = best_of(run_qikit, args.peer_repeat)
        print(
            f"clinical-qikit {qikit.__version__:<5} same data, chart='p' (Anhøj):      {t_qk:8.3f} s"
        )
        print(f"ratio qikit / pxlib: {t_qk / t_px:8.1f} x")

        # the same numbers? (both implement qicharts2's p chart; qikit leaves UCL > 1 unclipped)
        ours = run_pxlib(df).points
        theirs = run_qikit().data.rename(columns={"facet": "unit", "x": "week"})
        both = ours.merge(
            theirs, left_on=["unit", "x"], right_on=["unit", "week"], suffixes=("", "_qk")
        )
        diff = np.nanmax(np.abs(both["ucl"] - np.clip(both["ucl_qk"], 0, 1)))
        agree = (both["sigma_signal"] == both["sigma_signal_qk"]).mean()
        agree_runs = (both["runs_signal"] == both["runs_signal_qk"]).mean()
        print(
            f"check: {len(both)} points matched; max |ucl difference| = {diff:.1e}; "
            f"sigma signals agree {agree:.1%}, runs signals agree {agree_runs:.1%} "
            "(qikit's runs_signal is not qicharts2's phase-level Anhøj signal, which pxlib reproduces)"
        )

    big = make_data(args.big, seed=2)
    run_pxlib(big.head(52 * 10))
    t_big = best_of(lambda: run_pxlib(big), max(1, args.repeat // 2))
    print(f"pxlib        {args.big:>6} units x 52 weeks, p chart, all rules: {t_big:8.3f} s")


if __name__ == "__main__":
    main()
