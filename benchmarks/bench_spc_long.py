"""Long series: pxlib.spc.chart on 1e4 to 1e6 points in one series, and 1e6 points across
10,000 groups (daily series, per-patient g and t charts are ordinary), beside
clinical-qikit on the sizes it finishes.

Run: ``.venv/bin/python benchmarks/bench_spc_long.py [--no-peer]`` (the peer needs
``pip install -r benchmarks/requirements.txt``). Prints seconds and, where both ran, the
ratio. The Anhøj thresholds are one binomial quantile per phase, so time grows about
linearly with the number of points.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from pxlib.spc import chart


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-peer", action="store_true", help="pxlib only")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(1)
    qic = None
    if not args.no_peer:
        try:
            from qikit import qic  # clinical-qikit
        except ImportError:
            print("clinical-qikit not installed: pxlib only")
    for n in (10_000, 100_000, 1_000_000):
        df = pd.DataFrame({"x": np.arange(n), "y": rng.normal(size=n)})
        ours = timed(lambda df=df: chart(df, "x", "y", kind="i"))
        line = f"i chart, {n:>9,} points in one series: pxlib {ours:6.2f} s"
        if qic is not None and n <= 10_000:
            theirs = timed(lambda df=df: qic(df, x="x", y="y", chart="i"))
            line += f"; clinical-qikit {theirs:6.2f} s (ratio {theirs / ours:.0f}x)"
        print(line, flush=True)
    groups = 10_000
    df = pd.DataFrame(
        {
            "g": np.repeat(np.arange(groups), 100),
            "x": np.tile(np.arange(100), groups),
            "y": rng.normal(size=groups * 100),
        }
    )
    ours = timed(lambda: chart(df, "x", "y", kind="i", by="g"))
    print(f"i chart, 1,000,000 points across {groups:,} groups: pxlib {ours:6.2f} s")


if __name__ == "__main__":
    main()
