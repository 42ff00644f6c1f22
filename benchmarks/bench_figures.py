"""Speed and size of pxlib's SPC figures.

    .venv/bin/python benchmarks/bench_figures.py [--units 50] [--weeks 52] [--repeat 7]

Measures, on synthetic weekly p-chart data (units x weeks, 10-30 responses a
week, some units shifting up or down part way):

- drawing 50 units as small multiples (``SPCResult.figure()``), median of repeats;
- one unit's chart with PDSA annotations and 2-sigma lines;
- the summary table rendered to HTML;
- the JSON size of each figure, and of a report holding 20 single-unit figures
  (plotly.js itself, about 4.8 MB, is written once beside the reports).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from pxlib.spc import chart


def make_data(units: int, weeks: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = pd.date_range("2024-01-01", periods=weeks, freq="W-MON")
    frames = []
    for u in range(units):
        base = rng.uniform(0.6, 0.95)
        step = rng.choice([0.0, 0.0, 0.1, -0.1])
        p = np.clip(base + np.where(np.arange(weeks) >= weeks // 2, step, 0.0), 0.02, 0.98)
        n = rng.integers(10, 31, weeks)
        frames.append(
            pd.DataFrame({"unit": f"Ward {u:02d}", "week": x, "n": n, "yes": rng.binomial(n, p)})
        )
    return pd.concat(frames, ignore_index=True)


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=50)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    data = make_data(args.units, args.weeks)
    t_chart, result = timed(
        lambda: chart(
            data,
            "week",
            "yes",
            "n",
            kind="p",
            by="unit",
            improvement="increase",
            target=0.9,
            rules="mdc",
            y_label="Said it always happened",
        ),
        args.repeat,
    )
    pdsa = pd.DataFrame(
        {
            "unit": "Ward 00",
            "cycle_id": ["C1", "C2", "C3"],
            "start_date": pd.to_datetime(["2024-02-05", "2024-04-01", "2024-06-03"]),
            "end_date": pd.to_datetime(["2024-03-01", "2024-05-01", None]),
            "change_idea": ["Teach-back", "Prompt cards", "Huddle review"],
            "decision": ["adapt", "adopt", ""],
        }
    )
    t_multi, multi = timed(lambda: result.figure(annotations=pdsa), args.repeat)
    t_json, multi_json = timed(lambda: multi.to_json(), args.repeat)
    t_one, one = timed(
        lambda: result.figure(group="Ward 00", annotations=pdsa, show_2sigma=True), args.repeat
    )
    t_table, table_html = timed(lambda: result.summary_table().to_html(), args.repeat)
    singles = [result.figure(group=f"Ward {u:02d}").to_json() for u in range(min(20, args.units))]

    kb = 1024
    print(
        f"data: {args.units} units x {args.weeks} weeks ({len(data)} rows), median of {args.repeat}"
    )
    print(f"chart() (engine, for scale)             {t_chart * 1000:8.1f} ms")
    print(f"small multiples figure, {args.units} units        {t_multi * 1000:8.1f} ms")
    print(f"  its to_json()                         {t_json * 1000:8.1f} ms")
    print(
        f"  JSON size                             {len(multi_json) / kb:8.1f} KiB "
        f"({len(multi.data)} traces)"
    )
    print(
        f"one unit, PDSA + 2-sigma                {t_one * 1000:8.1f} ms, "
        f"{len(one.to_json()) / kb:.1f} KiB"
    )
    print(
        f"summary table to HTML                   {t_table * 1000:8.1f} ms, "
        f"{len(table_html) / kb:.1f} KiB"
    )
    total = sum(len(s) for s in singles)
    print(
        f"report with {len(singles)} single-unit figures       {total / kb / kb:8.2f} MiB of figure JSON "
        f"(mean {total / len(singles) / kb:.1f} KiB a figure)"
    )


if __name__ == "__main__":
    main()
