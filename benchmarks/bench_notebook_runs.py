"""Time notebooks 03 and 04 as the batch runs them (papermill, batch mode), here and in
another checkout, side by side.

    .venv/bin/python benchmarks/bench_notebook_runs.py [--other PATH] [--repeats 3]

``--other`` is a second checkout of the project (e.g. ``git worktree add /tmp/old <commit>``):
its notebooks run with its own pxlib and sample data (``PYTHONPATH`` points the kernel at
it), so the ratio is this change's cost or gain per notebook run. Prints the median seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("03_test_and_measure", "04_spread_and_sustain")
TRUSTS = ("ZA1", "ZA3")

RUN = """
import sys, papermill as pm
pm.execute_notebook(sys.argv[1], sys.argv[2], kernel_name="pxlib", progress_bar=False,
    cwd=sys.argv[3], parameters=dict(trust_code=sys.argv[4], interactive=False,
    output_dir=sys.argv[5]))
"""


def run_once(repo: Path, notebook: str, trust: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(repo))
    with tempfile.TemporaryDirectory() as tmp:
        nb = repo / "notebooks" / f"{notebook}.ipynb"
        args = [sys.executable, "-c", RUN, str(nb), f"{tmp}/out.ipynb", str(nb.parent), trust, tmp]
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, help="another checkout to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    repos = {"this checkout": HERE}
    if args.other:
        repos["other"] = args.other.resolve()
    for notebook in NOTEBOOKS:
        for trust in TRUSTS:
            medians = {}
            for name, repo in repos.items():
                times = [run_once(repo, notebook, trust) for _ in range(args.repeats)]
                medians[name] = statistics.median(times)
            line = f"{notebook} {trust}: " + ", ".join(f"{k} {v:.2f} s" for k, v in medians.items())
            if len(medians) == 2:
                line += f"  (ratio {medians['this checkout'] / medians['other']:.2f})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
