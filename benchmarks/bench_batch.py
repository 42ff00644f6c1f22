"""Throughput of ``pxlib batch`` against a plain sequential loop, side by side.

For every sample organisation × notebook (by default notebooks 03 and 04 of
the workbook, or two stand-in notebooks that import pandas + plotly and draw a
figure when the workbook's are not there):

* **baseline**: ``papermill`` CLI, then ``jupyter nbconvert --to html`` CLI,
  one notebook after another (what a team would script by hand);
* **pxlib batch** with 1, 2, ... workers: papermill and the HTML export in
  process; first with a new kernel per report (``fresh_kernels=True``, started
  and warmed ahead), then as by default, each worker keeping its kernel and
  clearing it between reports (:mod:`pxlib.report.kernel_state`).

Prints seconds per report, the speed-up and the exported size per
organisation. Measured on 2 shared cores (notebooks 01-04, 24 reports): papermill
+ nbconvert CLIs 18.7 s a report; pxlib batch with a new kernel per report 2.02-2.11 s
(1 worker) and 1.55-1.57 s (2 workers); with kernels reused (each worker taking one
organisation's reports at a time, the scored answers and designs shared between them)
1.14-1.17 s and 0.69-0.70 s: 1.14-1.17 and 1.38-1.40 core-seconds a report. Run-to-run
noise on this machine is about 20 %. Run from the repository root::

    .venv/bin/python benchmarks/bench_batch.py                 # workbook 03 04 if present
    .venv/bin/python benchmarks/bench_batch.py --stand-in      # stand-in notebooks
    .venv/bin/python benchmarks/bench_batch.py --workers 1 2 --notebooks 03 04
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

PARAMS = """trust_code: str = "ZA1"  # organisation code
data_dir: str = "../data/sample"  # input folder
output_dir: str = "."  # where results are written
interactive: bool = True  # the batch sets False
"""
SETUP = """from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.io as pio

from pxlib.report import record_results

try:
    from pxlib.spc.theme import use_offline_renderer

    use_offline_renderer()
except ImportError:
    pio.renderers.default = "plotly_mimetype+notebook"
responses = pd.read_csv(Path(data_dir) / "responses.csv", dtype=str, keep_default_na=False)
responses = responses[responses["org_code"] == trust_code]
"""
WEEKLY = """ae = responses[responses["question_id"] == "AE1"].copy()
ae["week"] = pd.to_datetime(ae["response_date"]).dt.to_period("W").dt.start_time
weekly = ae.assign(always=ae["answer"].eq("Always")).groupby(["unit", "week"], as_index=False).agg(
    always=("always", "mean"), n=("always", "size")
)
fig = px.line(weekly, x="week", y="always", color="unit", title=f"{trust_code}: share answering Always")
fig"""
RECORD = """last = weekly.sort_values("week").groupby("unit").tail(1)
_ = record_results(output_dir, "{stem}", [
    {{"unit": r.unit, "latest_value": r.always, "n": r.n, "verdict": "stand-in"}} for r in last.itertuples()
])"""
BY_AGE = """by_age = responses[responses["question_id"] == "AE1"].assign(
    always=lambda d: d["answer"].eq("Always")
).groupby(["age_band", "unit"], as_index=False)["always"].mean()
fig = px.bar(by_age, x="age_band", y="always", color="unit", barmode="group")
fig"""


def stand_in_notebooks(folder: Path) -> Path:
    """Two notebooks shaped like the workbook's: parameters, pandas, plotly, record_results."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"kernelspec": {"name": "pxlib", "display_name": "Python (pxlib)", "language": "python"}}
    for stem, cells in {
        "03_bench_measure": [WEEKLY, RECORD.format(stem="03_bench_measure")],
        "04_bench_spread": [WEEKLY, BY_AGE, RECORD.format(stem="04_bench_spread")],
    }.items():
        nb = nbformat.v4.new_notebook(metadata=meta)
        params = nbformat.v4.new_code_cell(PARAMS)
        params.metadata["tags"] = ["parameters"]
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {stem}"),
            params,
            nbformat.v4.new_code_cell(SETUP),
        ]
        nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
        nbformat.write(nb, folder / f"{stem}.ipynb")
    return folder


def trusts(data_dir: Path) -> list[str]:
    import pandas as pd

    orgs = pd.read_csv(data_dir / "organisations.csv", dtype=str, keep_default_na=False)
    return orgs.loc[orgs["org_type"].isin(["trust", "other_provider"]), "org_code"].tolist()


def baseline(notebooks: list[Path], codes: list[str], data_dir: Path, out: Path) -> float:
    """papermill CLI then nbconvert CLI, one report after another."""
    t0 = time.perf_counter()
    for code in codes:
        folder = out / code
        folder.mkdir(parents=True, exist_ok=True)
        for nb in notebooks:
            target = folder / nb.name
            subprocess.run(
                [
                    str(VENV_BIN / "papermill"),
                    str(nb),
                    str(target),
                    "-k",
                    "pxlib",
                    "-r",
                    "trust_code",
                    code,
                    "-r",
                    "data_dir",
                    str(data_dir),
                    "-r",
                    "output_dir",
                    str(folder),
                    "-p",
                    "interactive",
                    "False",
                    "--cwd",
                    str(nb.parent),
                    "--no-progress-bar",
                ],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [str(VENV_BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(target)],
                check=True,
                capture_output=True,
            )
    return time.perf_counter() - t0


def folder_mb(folder: Path, pattern: str = "*") -> float:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=str(REPO / "data" / "sample"))
    parser.add_argument("--notebooks-dir", default=None)
    parser.add_argument("--notebooks", nargs="+", default=["03", "04"])
    parser.add_argument("--stand-in", action="store_true", help="use the stand-in notebooks")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    from pxlib.report import run_batch, select_notebooks

    data_dir = Path(args.data).resolve()
    work = Path(tempfile.mkdtemp(prefix="pxlib-bench-"))
    nb_dir = Path(args.notebooks_dir) if args.notebooks_dir else REPO / "notebooks"
    prefixes = args.notebooks
    try:
        chosen = None if args.stand_in else select_notebooks(nb_dir, prefixes)
    except Exception as exc:  # the workbook's notebooks are not there yet
        print(f"workbook notebooks {prefixes} not usable ({exc}); using stand-ins")
        chosen = None
    if chosen is None:
        nb_dir, prefixes = stand_in_notebooks(work / "notebooks"), ["03", "04"]
        chosen = select_notebooks(nb_dir, prefixes)
    codes = trusts(data_dir)
    n = len(codes) * len(chosen)
    print(
        f"{len(codes)} organisations x {len(chosen)} notebooks ({', '.join(p.stem for p in chosen)}) "
        f"= {n} reports; {os.cpu_count()} cores; load average "
        f"{os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan'):.2f}"
    )
    rows = []
    try:
        if not args.skip_baseline:
            secs = baseline(chosen, codes, data_dir, work / "baseline")
            rows.append(
                (
                    "papermill CLI + nbconvert CLI, sequential",
                    secs,
                    folder_mb(work / "baseline", "*.html"),
                )
            )
        for w, fresh in [(w, f) for w in args.workers for f in (True, False)]:
            out = work / f"batch-{w}{'-fresh' if fresh else ''}"
            t0 = time.perf_counter()
            frame = run_batch(
                data_dir,
                out,
                trusts="all",
                notebooks=prefixes,
                notebooks_dir=nb_dir,
                workers=w,
                progress=False,
                fresh_kernels=fresh,
            )
            secs = time.perf_counter() - t0
            failed = frame[frame["status"] == "failed"]
            if len(failed):
                print(failed.to_string())
            rows.append(
                (
                    f"pxlib batch, {w} worker(s), "
                    + ("a new kernel per report" if fresh else "kernels reused"),
                    secs,
                    folder_mb(out, "*.html") + folder_mb(out, "plotly.min.js"),
                )
            )
        base = rows[0][1] if not args.skip_baseline else None
        print(f"\n{'method':<55} {'total s':>8} {'s/report':>9} {'speed-up':>9} {'HTML MB':>8}")
        for name, secs, mb in rows:
            speed = f"{base / secs:8.2f}x" if base else "       -"
            print(f"{name:<55} {secs:8.1f} {secs / n:9.2f} {speed:>9} {mb:8.1f}")
        last = work / f"batch-{args.workers[-1]}"
        per_org = [folder_mb(last / c, "*.html") for c in codes]
        print(
            f"\nexported HTML per organisation (pxlib batch): {min(per_org):.2f}-{max(per_org):.2f} MB, "
            f"plus plotly.min.js {folder_mb(last, 'plotly.min.js'):.1f} MB once for all; "
            f"executed .ipynb per organisation {folder_mb(last / codes[0], '*.ipynb'):.2f} MB"
        )
        if not args.skip_baseline:
            print(
                f"baseline HTML per organisation: {folder_mb(work / 'baseline' / codes[0], '*.html'):.1f} MB "
                "(plotly.js inside every page)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
