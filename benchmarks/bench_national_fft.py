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
client.get_executor())``, so the result is the same frame; the time the cluster takes to
start is printed apart and is not in the total. For several workers on one machine:
``--scheduler local --workers 4``; on a cluster, start ``dask scheduler`` and
``dask worker tcp://host:8786 --nthreads 1`` on each machine (``pip install dask
distributed``), then ``--scheduler tcp://host:8786``.

Measured (2 cores shared with other work, so figures move by +/-50 % from run to run):

- ``.venv/bin/python benchmarks/bench_national_fft.py`` -- read 5.4 s, tidy 0.2 s, suppress
  0.7 s, chart 0.1 s: **6.3 s in all** (goal 20 s); ``pandas.read_excel`` of the same 24
  files 28.2 s against pxlib's 5.5 s in one process (5.2x).
- ``--keep DIR --scheduler local --workers 2`` -- Dask LocalCluster (ready in 3.8 s, not
  counted): read 7.2 s, 7.9 s in all; ``--workers 4`` on the same 2 cores: 12.0 s (more
  workers than cores only add overhead).

**GP Patient Survey** (``--gpps-practices 6300 --gpps-columns 1000``, the defaults; 0
practices skips it): four practice files, 2022-2023 in the ``Q<n>`` layout and 2024-2025 in
named stems, about 1,000 columns each as published, read by
:func:`pxlib.data.national.read_gpps_dir` into one long frame (21.4 million practice
results), beside pandas ``read_csv`` + ``melt`` (which checks nothing and leaves
suppression codes as numbers); and one item, as notebook 01 reads it.

- every item: pxlib 12.7-14.0 s, pandas read_csv + melt 2.7-5.0 s (pxlib 0.2-0.4x: it
  validates every cell, parses suppression codes and carries 14 columns, among them each
  result's base and the reason it is suppressed); one item: 2.5 s for the four files.
  Stacking the years kept the text columns categorical; it had turned 21 million rows into
  Python strings and back (49 s before, 14 s now).

Where the time goes (``--profile``): about 0.2 s a file, two thirds of it turning the sheet
XML into cells (:mod:`pxlib.data.national.xlsx_cells`: one regular expression, then numpy),
the rest validating and building the frames. On 2 cores shared with other work the
process pool often gains little over one process (the best 2-process read seen: 3.6 s).
"""

from __future__ import annotations

import argparse
import cProfile
import os
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
    read_gpps_dir,
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


def build_gpps(folder: Path, args) -> list[Path]:
    """GPPS practice files at national size: ``--gpps-practices`` practices in 4 years (2022
    and 2023 in the Q<n> layout, 2024 and 2025 in named stems), written by
    :func:`pxlib.data.national.sample_surveys.write_sample_gpps` (3 questions), then widened
    with more questions in the year's naming to about ``--gpps-columns`` columns, as the
    published files have (about 1,000-1,100)."""
    from pxlib.data.national.sample_surveys import write_sample_gpps

    gpps = folder / "gpps"
    paths = sorted(gpps.glob("GPPS_*.csv"))
    if len(paths) == 4:
        return paths
    n = args.gpps_practices
    practices = pd.DataFrame(
        {
            "org_code": [f"Z{i:05d}" for i in range(n)],
            "org_name": [f"Fictional Practice {i} (synthetic)" for i in range(n)],
            "parent_code": [f"ZQ{i % args.icbs:02d}" for i in range(n)],
        }
    )
    rng = np.random.default_rng(args.seed)
    paths = write_sample_gpps(gpps, seed=args.seed, practices=practices)
    for path in paths:
        frame = pd.read_csv(path)
        stems = path.name.startswith(("GPPS_2024", "GPPS_2025"))
        extra: dict[str, np.ndarray] = {}
        q = 0
        while frame.shape[1] + len(extra) < args.gpps_columns:
            q += 1
            shares = rng.dirichlet(np.ones(5), size=n).round(4)
            base = rng.integers(80, 300, size=n).astype(float)
            if stems:
                extra[f"extra{q}.pcteval"] = shares[:, :2].sum(axis=1)
                extra[f"extra{q}.baseevalw"] = base
                extra.update({f"extra{q}_{k + 1}.pct": shares[:, k] for k in range(5)})
            else:
                extra[f"Q{100 + q}base"] = base
                extra.update({f"Q{100 + q}_{k + 1}pct": shares[:, k] for k in range(5)})
                extra[f"Q{100 + q}_12pct"] = shares[:, :2].sum(axis=1)
        pd.concat([frame, pd.DataFrame(extra)], axis=1).to_csv(path, index=False)
    return paths


def _pandas_gpps(path: Path) -> pd.DataFrame:
    """The plain pandas way to a long frame of one file: read_csv, then melt the result
    columns by practice code (no layouts, no suppression, no validation)."""
    frame = pd.read_csv(path)
    code = "ad_practicecode" if "ad_practicecode" in frame.columns else "Practice_Code"
    results = [c for c in frame.columns if c.endswith(("pct", ".pcteval"))]
    return frame.melt(id_vars=[code], value_vars=results, var_name="item", value_name="pct")


def run_gpps(paths: list[Path]) -> dict:
    """read_gpps_dir of the folder (validated, long) beside pandas read_csv + melt."""
    figures: dict[str, float] = {}
    print(f"\nGP Patient Survey, {len(paths)} practice files")
    label = "read (read_gpps_dir, every item)"
    long = timed(label, lambda: read_gpps_dir(paths[0].parent), figures)
    timed(
        "read one item (as notebook 01 does)",
        lambda: read_gpps_dir(paths[0].parent, items=["overall_experience"]),
        figures,
    )
    t = time.perf_counter()
    melted = pd.concat([_pandas_gpps(p) for p in paths], ignore_index=True)
    base = time.perf_counter() - t
    print(
        f"  {'pandas read_csv + melt (no checks)':<34} {base:7.2f} s   ratio "
        f"{base / figures[label]:.1f}x   ({len(long):,} practice results, "
        f"{long['practice_code'].nunique():,} practices; pandas {len(melted):,} rows)"
    )
    return figures


def _pandas_read(path: str) -> int:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    return sum(s.size for s in sheets.values())


READ = "read (read_fft_dir, all levels)"


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
    t = time.perf_counter()
    executor, close = executor_for(args)
    if executor is not None:
        print(
            f"Dask {args.scheduler}: client ready in {time.perf_counter() - t:.1f} s "
            "(not in the total)"
        )
    try:
        print(
            f"pxlib, {len(files)} files, "
            + (
                f"Dask {args.scheduler} ({args.workers} workers)"
                if executor
                else f"{args.workers} worker processes"
            )
        )
        frames = timed(
            READ,
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
    ap.add_argument(
        "--gpps-practices", type=int, default=6300, help="GP practices per GPPS file (0: none)"
    )
    ap.add_argument("--gpps-columns", type=int, default=1000, help="columns per GPPS file")
    args = ap.parse_args()

    tmp = None
    if args.keep:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_fft_")
        folder = Path(tmp.name)
    t = time.perf_counter()
    before = len(list(folder.glob("*.xlsx")))
    files = build(folder, args)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(
        f"{'reused' if before >= len(files) else 'built'} {len(files)} workbooks ({size:.0f} MB) "
        f"in {time.perf_counter() - t:.0f} s "
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
    print("\nside by side (pandas / pxlib: how many times faster pxlib is)")
    print(f"  {'':<38} {'pandas':>8} {'pxlib':>8} {'ratio':>7}")
    rows = [
        ("read, one process", base, one),
        (
            f"read, pxlib on {args.workers} {'Dask workers' if args.scheduler else 'processes'}",
            base,
            figures[READ],
        ),
        ("pandas read alone vs pxlib total", base, goal),
    ]
    for label, a, b in rows:
        print(f"  {label:<38} {a:7.2f}s {b:7.2f}s {a / b:6.1f}x")
    print(
        f"\ngoal: read + tidy + suppress + chart under 20 s on 2 cores ({os.cpu_count()} here, "
        f"{args.workers} {'Dask workers' if args.scheduler else 'processes'}): "
        f"{goal:.1f} s -> {'met' if goal < 20 else 'NOT met'}"
    )
    if args.gpps_practices:
        t = time.perf_counter()
        paths = build_gpps(folder, args)
        print(
            f"\nbuilt 4 GPPS practice files ({args.gpps_practices:,} practices, about "
            f"{args.gpps_columns:,} columns) in {time.perf_counter() - t:.0f} s (not timed)"
        )
        run_gpps(paths)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
