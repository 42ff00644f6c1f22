"""24 months of national inpatient FFT, read, suppressed and charted: how long it takes.

Builds (not timed) synthetic published inpatient workbooks at national size -- about 42
ICBs and the IS1 group, 150 trusts, 1,200 sites and 4,500 wards, one workbook a month for
24 months, written by :func:`pxlib.data.national.write_fft_workbook` in NHS England's
layout (header rows 10-11, England and Selection rows, ``*`` markers, a terminating row)
-- in a temporary folder, then times:

1. **read** -- :func:`pxlib.data.national.read_fft_dir` of the folder (every level of
   every file, validated), over ``--workers`` processes (default 2);
2. **tidy** -- the ward time series: positive answers, a unit per ward, no-response
   months dropped;
3. **suppress** -- :func:`pxlib.data.national.fft_suppress` of all 24 months at every
   level, re-derived from the published totals, checked against the files' own ``*``;
4. **chart** -- a p chart of every ward (``pxlib.spc.chart(kind="p", by=ward)``) and a
   funnel of every ward in the latest month (``pxlib.spc.funnel``);

beside the plain ``pandas.read_excel(path, sheet_name=None, header=None)`` of the same
files (one process; it does none of the validation), with the ratio. Goal: read and
chart in under 20 s on 2 cores.

Run: ``.venv/bin/python benchmarks/bench_national_fft.py`` (``--months 6`` for a quicker
look, ``--baseline-files 6`` to time pandas on fewer files and scale up,
``--profile`` to see where one file's read spends its time, ``--keep DIR`` to build
into ``DIR`` and reuse it on the next run).

``--scheduler local`` runs the per-file reads on a Dask ``LocalCluster`` of
``--workers`` single-threaded processes; ``--scheduler tcp://host:8786`` on an existing
Dask scheduler (its workers must see the folder at the same path and have pxlib
installed). Either way the reads go through ``read_fft_dir(..., executor=
client.get_executor())``, so the result is the same frame.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.national import (
    fft_aggregate,
    fft_suppress,
    read_fft,
    read_fft_dir,
    write_fft_workbook,
)
from pxlib.data.national.fft_layouts import ANSWERS, IS1_CODE
from pxlib.data.national.fft_stats import percentages
from pxlib.spc import chart, funnel

MODES = (
    "mode_sms",
    "mode_electronic_discharge",
    "mode_electronic_home",
    "mode_paper_discharge",
    "mode_paper_home",
    "mode_telephone",
    "mode_online",
    "mode_other",
)


def national_wards(seed: int, icbs: int, trusts: int, sites: int, wards: int) -> pd.DataFrame:
    """The fixed national structure: every ward with its site, trust and ICB."""
    rng = np.random.default_rng(seed)
    n_is = max(1, trusts // 15)
    trust_icb = np.concatenate([np.arange(trusts - n_is) % icbs, np.full(n_is, -1)])
    site_trust = np.concatenate([np.arange(trusts), rng.integers(0, trusts, sites - trusts)])
    ward_site = np.concatenate([np.arange(sites), rng.integers(0, sites, wards - sites)])
    t = site_trust[ward_site]
    icb = trust_icb[t]
    independent = icb < 0
    org = np.array([f"Z{k:03d}" for k in range(trusts)])[t]
    frame = pd.DataFrame(
        {
            "icb_code": np.where(independent, IS1_CODE, [f"ZQ{k:02d}" for k in np.maximum(icb, 0)]),
            "org_code": org,
            "org_name": np.where(
                independent,
                [f"{o} Clinics Ltd" for o in org],
                [f"{o} Hospitals NHS Trust" for o in org],
            ),
            "site_code": [f"{o}{s:04d}" for o, s in zip(org, ward_site, strict=True)],
            "site_name": [f"Site {s}" for s in ward_site],
            "first_speciality": rng.choice(
                ["300 - GENERAL MEDICINE", "100 - GENERAL SURGERY", "430 - GERIATRIC MEDICINE"],
                wards,
            ),
            "second_speciality": None,
        }
    )
    frame["ward"] = "Ward " + frame.groupby("site_code").cumcount().add(1).astype(str)
    frame["mean"] = np.where(rng.random(wards) < 0.08, 3.0, rng.gamma(3.0, 25.0, wards))
    frame["good"] = rng.beta(18, 2, wards)
    return frame.sort_values(["icb_code", "org_code", "site_code"], ignore_index=True)


def month_frames(structure: pd.DataFrame, period: pd.Timestamp, seed: int) -> dict:
    """One month's full counts at every level."""
    rng = np.random.default_rng(seed)
    n = rng.poisson(structure["mean"].to_numpy())
    g = structure["good"].to_numpy()
    probs = np.column_stack(
        [g * 0.7, g * 0.3, (1 - g) * 0.4, (1 - g) * 0.25, (1 - g) * 0.2, (1 - g) * 0.15]
    )
    counts = np.array([rng.multinomial(k, p) for k, p in zip(n, probs, strict=True)])
    ward = structure.drop(columns=["mean", "good"]).copy()
    ward[list(ANSWERS)] = counts.astype(float)
    ward["total_responses"] = n.astype(float)
    ward["total_eligible"] = np.round(n / rng.uniform(0.15, 0.35, len(n))).astype(float)
    ward["pct_positive"], ward["pct_negative"] = percentages(ward)
    ward = ward.assign(setting="inpatient", level="ward", period=period, suppressed=False)
    trust = fft_aggregate(ward, "trust")
    split = np.array(
        [
            rng.multinomial(int(k), np.full(len(MODES), 1 / len(MODES)))
            for k in trust["total_responses"]
        ]
    )
    trust[list(MODES)] = split.astype(float)
    icb = fft_aggregate(ward, "icb")
    icb["icb_name"] = np.where(
        icb["icb_code"] == IS1_CODE,
        "INDEPENDENT SECTOR PROVIDERS",
        "NHS " + icb["icb_code"] + " ICB",
    )
    return {"icb": icb, "trust": trust, "site": fft_aggregate(ward, "site"), "ward": ward}


def _build_one(task) -> str:
    folder, structure, period, seed = task
    path = Path(folder) / f"friends-and-family-test-inpatient-data-{period:%B-%Y}.xlsx".lower()
    if not path.exists():
        write_fft_workbook(
            month_frames(structure, period, seed),
            path,
            period=period,
            notes=("SYNTHETIC benchmark data",),
        )
    return str(path)


def build(folder: Path, args) -> list[Path]:
    structure = national_wards(args.seed, args.icbs, args.trusts, args.sites, args.wards)
    periods = pd.date_range("2023-09-01", periods=args.months, freq="MS")
    tasks = [(str(folder), structure, p, args.seed + k) for k, p in enumerate(periods)]
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        return [Path(p) for p in pool.map(_build_one, tasks)]


def _pandas_read(path: str) -> int:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    return sum(s.size for s in sheets.values())


def timed(label: str, fn, figures: dict):
    t = time.perf_counter()
    out = fn()
    figures[label] = time.perf_counter() - t
    print(f"  {label:<34} {figures[label]:7.2f} s", flush=True)
    return out


def executor_for(args):
    """(executor, closer) for --scheduler, or (None, no-op)."""
    if not args.scheduler:
        return None, lambda: None
    from dask.distributed import Client, LocalCluster

    if args.scheduler == "local":
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)

        def close():
            client.close()
            cluster.close()
    else:
        client = Client(args.scheduler)
        close = client.close
    return client.get_executor(), close


def run(folder: Path, files: list[Path], args) -> dict:
    figures: dict[str, float] = {}
    executor, close = executor_for(args)
    try:
        print(
            f"pxlib, {len(files)} files, "
            + (f"Dask {args.scheduler}" if executor else f"{args.workers} worker processes")
        )
        frames = timed(
            "read (read_fft_dir, all levels)",
            lambda: read_fft_dir(
                folder, setting="inpatient", workers=args.workers, executor=executor
            ),
            figures,
        )
    finally:
        close()
    wards = frames["ward"]

    def tidy():
        w = wards[wards["total_responses"] > 0]
        return w.assign(
            positive=w["very_good"] + w["good"],
            unit=w["org_code"] + "|" + w["site_code"] + "|" + w["ward"],
        )

    series = timed("tidy (ward time series)", tidy, figures)

    def suppress():
        out = fft_suppress({lev: frames[lev] for lev in ("icb", "trust", "site", "ward")})
        for lev, f in out.items():
            agree = (f["suppressed"].to_numpy() == frames[lev]["suppressed"].to_numpy()).all()
            if not agree:
                raise SystemExit(f"suppression disagrees with the files at {lev} level")
        return out

    timed("suppress (all levels, all months)", suppress, figures)

    def charts():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spc = chart(series, "period", "positive", "total_responses", kind="p", by="unit")
            latest = series[series["period"] == series["period"].max()].dropna(subset=["positive"])
            fun = funnel(latest, "unit", "positive", "total_responses")
        return spc, fun

    spc, fun = timed("chart (p chart + funnel, every ward)", charts, figures)
    figures["pxlib total"] = sum(figures.values())
    print(
        f"  {'pxlib total':<34} {figures['pxlib total']:7.2f} s   "
        f"({wards['ward'].size:,} ward-months, {series['unit'].nunique():,} wards charted, "
        f"{len(spc.points):,} points, {len(fun.points):,} funnel points)"
    )
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--icbs", type=int, default=42)
    ap.add_argument("--trusts", type=int, default=150)
    ap.add_argument("--sites", type=int, default=1200)
    ap.add_argument("--wards", type=int, default=4500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument(
        "--baseline-files",
        type=int,
        default=None,
        help="time pandas.read_excel on this many files and scale (default: all)",
    )
    ap.add_argument("--scheduler", default=None, help="'local' or a Dask scheduler address")
    ap.add_argument("--profile", action="store_true", help="profile one file's read_fft")
    ap.add_argument("--keep", type=Path, default=None, help="build into (and reuse) this folder")
    args = ap.parse_args()

    tmp = None
    if args.keep:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_fft_")
        folder = Path(tmp.name)
    t = time.perf_counter()
    files = build(folder, args)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(
        f"built {len(files)} workbooks ({size:.0f} MB) in {time.perf_counter() - t:.0f} s "
        f"(not timed): {args.icbs} ICBs + IS1, {args.trusts} trusts, {args.sites} sites, "
        f"{args.wards} wards"
    )

    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(read_fft, files[0])
        pstats.Stats(prof).sort_stats("cumulative").print_stats(18)

    figures = run(folder, files, args)

    k = len(files) if args.baseline_files is None else min(args.baseline_files, len(files))
    t = time.perf_counter()
    for f in files[:k]:
        _pandas_read(str(f))
    base = (time.perf_counter() - t) * len(files) / k
    t = time.perf_counter()
    read_fft_dir(folder, setting="inpatient", workers=1)
    one = time.perf_counter() - t
    print(
        "\nreading side by side, one process"
        + (f" (pandas on {k} files, scaled)" if k < len(files) else "")
    )
    print(f"  {'pandas.read_excel (no validation)':<34} {base:7.2f} s")
    print(f"  {'pxlib read_fft_dir, workers=1':<34} {one:7.2f} s   ratio {base / one:.1f}x")
    goal = figures["pxlib total"]
    print(
        f"\ngoal: read + tidy + suppress + chart under 20 s on {args.workers} cores: "
        f"{goal:.1f} s -> {'met' if goal < 20 else 'NOT met'}"
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
