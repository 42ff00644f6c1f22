"""Server-side time of one widget change in notebook 03's explorer, against redrawing all units.

    .venv/bin/python benchmarks/bench_widgets.py [--trust ZA1] [--repeat 9]

A change of unit, weeks, target, chart kind or rules in the explorer calls the
notebook's ``draw``: one unit's reading (``steps.reliability(units=[unit])``)
and its view (``wd.unit_view``), turned into the bundle the browser receives.
This times that call (median of repeats, after one warm-up, data already
loaded as in a running notebook) for each kind of change, and, side by side,
the batch path that draws every unit of the trust. Goal: under 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bundle(items) -> None:
    """What IPython sends to the browser for each displayed item."""
    for item in items:
        if hasattr(item, "_repr_mimebundle_"):
            item._repr_mimebundle_()
        elif hasattr(item, "_repr_html_"):
            item._repr_html_()
        elif hasattr(item, "_repr_markdown_"):
            item._repr_markdown_()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trust", default="ZA1")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from pxlib.data import load_data_dir
    from pxlib.workbook import display as wd
    from pxlib.workbook import steps

    data = load_data_dir(ROOT / "data" / "sample", args.trust)
    rel = steps.reliability(data)
    units = sorted(rel.weekly["unit"].unique())
    weeks = rel.weekly["week"]
    start, end = weeks.min(), weeks.max()

    def draw(unit, start=start, end=end, target=0.95, kind="p", rules="anhoej"):
        one = steps.reliability(
            data, target=target, kind=kind, rules=rules, units=[unit], start=start, end=end
        )
        _bundle(wd.unit_view(one, unit, pdsa=data.pdsa_log))

    changes = {
        "pick a unit": lambda i: draw(units[i % len(units)]),
        "move the weeks": lambda i: draw(units[0], start=weeks.sort_values().iloc[i % 10 * 2]),
        "type a target": lambda i: draw(units[0], target=0.80 + 0.01 * (i % 10)),
        "switch p / run chart": lambda i: draw(units[0], kind=("p", "run")[i % 2]),
        "switch rules": lambda i: draw(units[0], rules=("anhoej", "mdc", "ihi")[i % 3]),
    }

    def all_units(_i):
        _bundle([view for unit in units for view in wd.unit_view(rel, unit, pdsa=data.pdsa_log)])

    print(
        f"pxlib: one widget change in notebook 03 ({args.trust}, {len(units)} units), "
        f"median of {args.repeat} after a warm-up"
    )
    for name, change in {**changes, f"batch: draw all {len(units)} units": all_units}.items():
        change(0)
        times = []
        for i in range(args.repeat):
            t = time.perf_counter()
            change(i + 1)
            times.append(time.perf_counter() - t)
        ms = 1000 * statistics.median(times)
        verdict = (
            "" if name.startswith("batch") else ("  ok" if ms < 300 else "  SLOWER than 300 ms")
        )
        print(f"  {name:<28} {ms:7.0f} ms{verdict}")


if __name__ == "__main__":
    main()
