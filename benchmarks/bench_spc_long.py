"""Long series: pxlib.spc.chart on 1e4, 1e5 and 1e6 points in one series, and 1e6 points
across 10,000 groups (daily series, per-patient g and t charts are ordinary), beside
clinical-qikit (a Python port of qicharts2; qicharts2 itself is R and not in Debian) on
the same data where it is installed.

Run: ``.venv/bin/python benchmarks/bench_spc_long.py [--no-peer] [--repeat 3]`` (the peer
needs ``pip install -r benchmarks/requirements.txt``). Prints, per size, the best of
``--repeat`` wall-clock times, the time per point, the ratio of the time per point to the
previous size's (a method that scales as n log n stays at or below log(n)/log(n_prev),
about 1.25 and 1.2 here; a linear one stays near 1; a quadratic one grows tenfold), and the
peer's time with the ratio peer / pxlib. Targets: 1e6 points in one series in under 2 s,
and scaling no worse than n log n.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd

from pxlib.spc import chart

SIZES = (10_000, 100_000, 1_000_000)
TARGET_SECONDS = 2.0


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def load_peer(skip: bool):
    if skip:
        return None
    try:
        from qikit import qic  # clinical-qikit
    except ImportError:
        print("clinical-qikit not installed: no peer (pip install -r benchmarks/requirements.txt)")
        return None
    return qic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-peer", action="store_true", help="pxlib only")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--peer-max", type=int, default=1_000_000, help="largest series the peer is timed on"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(1)
    qic = load_peer(args.no_peer)
    chart(pd.DataFrame({"x": np.arange(100), "y": rng.normal(size=100)}), "x", "y", kind="i")

    print(f"i chart, one series (best of {args.repeat}):")
    prev = None
    verdicts = []
    for n in SIZES:
        df = pd.DataFrame({"x": np.arange(n), "y": rng.normal(size=n)})
        ours = best_of(lambda df=df: chart(df, "x", "y", kind="i"), args.repeat)
        per = ours / n
        line = f"  {n:>9,} points: pxlib {ours:7.3f} s ({per * 1e6:6.3f} us/point"
        if prev is not None:
            n0, per0 = prev
            bound = math.log(n) / math.log(n0)
            ratio = per / per0
            line += f"; x{ratio:4.2f} per point vs {n0:,}, n log n bound x{bound:4.2f}"
            verdicts.append(ratio <= bound * 1.25)  # 25 % slack for timer noise
        line += ")"
        if qic is not None and n <= args.peer_max:
            theirs = best_of(lambda df=df: qic(data=df, x="x", y="y", chart="i"), 1)
            line += f"; clinical-qikit {theirs:7.3f} s (peer / pxlib = {theirs / ours:.1f})"
        print(line, flush=True)
        prev = (n, per)
    big = ours
    print(
        f"  1e6 points in one series under {TARGET_SECONDS:g} s: "
        f"{'yes' if big < TARGET_SECONDS else 'NO'} ({big:.3f} s); "
        f"scaling at most n log n: {'yes' if all(verdicts) else 'NO'}"
    )

    groups = 10_000
    df = pd.DataFrame(
        {
            "g": np.repeat(np.arange(groups), 100),
            "x": np.tile(np.arange(100), groups),
            "y": rng.normal(size=groups * 100),
        }
    )
    ours = best_of(lambda: chart(df, "x", "y", kind="i", by="g"), args.repeat)
    line = f"i chart, 1,000,000 points across {groups:,} groups of 100: pxlib {ours:7.3f} s"
    if qic is not None:
        theirs = best_of(lambda: qic(data=df, x="x", y="y", facets="g", chart="i"), 1)
        line += f"; clinical-qikit {theirs:7.3f} s (peer / pxlib = {theirs / ours:.1f})"
    print(line, flush=True)


if __name__ == "__main__":
    main()
