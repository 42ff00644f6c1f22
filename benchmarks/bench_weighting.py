"""Raking and weighted-proportion speed: pxlib against weightipy, side by side.

Run:  .venv/bin/python benchmarks/bench_weighting.py [--n 1000000] [--repeat 3]

Needs the benchmark peers (``.venv/bin/pip install -r benchmarks/requirements.txt``);
a peer that is not installed is reported as skipped.

Frame: n respondents, 4 categorical margins of 7/2/9/5 levels (pandas
``category`` columns, then the same as ``str`` columns), targets drawn once.
Every implementation rakes to a max relative gap of 1e-6 (weightipy's
``convcrit`` set to 1e-6; it iterates to about 1e-15 whatever convcrit says, so
pxlib is also timed at 1e-12); the achieved gap to the targets is printed too.
R survey (when ``Rscript`` and r-cran-survey are installed) rakes the same frame
with ``control=list(epsilon=1e-6)`` (its rule: change between sweeps).
Times are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from pxlib.survey import Design
from pxlib.weighting import rake

SIZES = (7, 2, 9, 5)


def make_frame(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    cols, margins = {}, {}
    for k, s in enumerate(SIZES):
        levels = [f"m{k}_l{i}" for i in range(s)]
        p = rng.dirichlet(np.full(s, 3.0))
        cols[f"v{k}"] = pd.Categorical.from_codes(rng.choice(s, n, p=p), levels)
        t = rng.dirichlet(np.full(s, 5.0))
        margins[f"v{k}"] = dict(zip(levels, t, strict=True))
    return pd.DataFrame(cols), margins


def gap(df: pd.DataFrame, w: np.ndarray, margins: dict) -> float:
    w = np.asarray(w, dtype=float)
    worst = 0.0
    for v, tg in margins.items():
        got = pd.Series(w).groupby(df[v].to_numpy()).sum() / w.sum()
        for k, t in tg.items():
            worst = max(worst, abs(got[k] - t) / t)
    return worst


def best(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run_weightipy(df, margins, repeat):
    try:
        import weightipy as wp
    except ImportError:
        return None
    pct = {v: {k: 100 * t for k, t in tg.items()} for v, tg in margins.items()}
    scheme = wp.scheme_from_dict(pct, rim_params={"convcrit": 1e-6, "max_iterations": 1000})
    return best(lambda: wp.weight(df, scheme).to_numpy(), repeat)


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1], stringsAsFactors = TRUE)
mg <- read.csv(args[2], stringsAsFactors = FALSE)
t_design <- system.time(d <- svydesign(id = ~1, weights = ~w, data = df))[["elapsed"]]
vars <- unique(mg$var)
pops <- lapply(vars, function(v) {
  x <- mg[mg$var == v, ]
  out <- data.frame(factor(x$level, levels = levels(df[[v]])), x$total)
  names(out) <- c(v, "Freq")
  out
})
sm <- lapply(vars, function(v) as.formula(paste0("~", v)))
t_rake <- system.time(r <- rake(d, sm, pops, control = list(maxit = 100, epsilon = 1e-6)))[["elapsed"]]
w <- weights(r)
gap <- 0
for (i in seq_along(vars)) {
  got <- tapply(w, df[[vars[i]]], sum)
  tg <- pops[[i]]$Freq[match(names(got), as.character(pops[[i]][[1]]))]
  gap <- max(gap, max(abs(got - tg) / tg))
}
t_prop <- system.time({
  p <- svyciprop(~I(y == 1), r, method = "logit")
  ci <- confint(p)
})[["elapsed"]]
cat(t_design, t_rake, gap, t_prop, "\n")
"""


def run_r(df: pd.DataFrame, margins: dict, y: np.ndarray) -> tuple[float, ...] | None:
    """R survey's rake() (and svyciprop) on the same frame, via Rscript; None if absent."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    exe = shutil.which("Rscript")
    if exe is None:
        return None
    n = len(df)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        df.astype(str).assign(w=1.0, y=y.astype(int)).to_csv(tmp / "frame.csv", index=False)
        rows = [(v, k, t * n) for v, tg in margins.items() for k, t in tg.items()]
        pd.DataFrame(rows, columns=["var", "level", "total"]).to_csv(
            tmp / "margins.csv", index=False
        )
        (tmp / "rake.R").write_text(R_SCRIPT)
        res = subprocess.run(
            [exe, str(tmp / "rake.R"), str(tmp / "frame.csv"), str(tmp / "margins.csv")],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            return None
        return tuple(float(x) for x in res.stdout.split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true", help="skip R survey even if Rscript exists")
    args = ap.parse_args()
    df, margins = make_frame(args.n)
    rows = []
    for kind, frame in (("category", df), ("str", df.astype(str))):
        t_px, w_px = best(lambda f=frame: rake(f, margins, tol=1e-6).to_numpy(), args.repeat)
        rows.append((f"pxlib rake ({kind})", t_px, gap(df, w_px, margins)))
        if kind == "category":
            t12, w12 = best(lambda f=frame: rake(f, margins, tol=1e-12).to_numpy(), args.repeat)
            rows.append(("pxlib rake (category, 1e-12)", t12, gap(df, w12, margins)))
        wp = run_weightipy(frame, margins, args.repeat)
        if wp is None:
            rows.append((f"weightipy ({kind})", float("nan"), float("nan")))
        else:
            rows.append((f"weightipy ({kind})", wp[0], gap(df, wp[1], margins)))
    print(
        f"raking {args.n:,} respondents on margins of {'/'.join(map(str, SIZES))} levels "
        "to 1e-6 (best of %d)" % args.repeat
    )
    print(f"{'implementation':28s} {'seconds':>9s} {'max rel gap':>12s}")
    for name, t, g in rows:
        print(f"{name:28s} {t:9.4f} {g:12.2e}")
    for kind in ("category", "str"):
        px = next(t for n, t, _ in rows if n == f"pxlib rake ({kind})")
        wp = next(t for n, t, _ in rows if n == f"weightipy ({kind})")
        if np.isfinite(wp):
            print(f"speed-up over weightipy ({kind}): {wp / px:.1f}x")

    rng = np.random.default_rng(2)
    y = (rng.random(args.n) < 0.7).astype(float)
    r = None if args.no_r else run_r(df, margins, y)
    if r is not None:
        print(
            f"{'R survey rake (factors)':28s} {r[1]:9.4f} {r[2]:12.2e}   "
            f"(+ {r[0]:.2f} s to build the design; stops on change between sweeps)"
        )
    # weighted proportion with its linearised CI
    w = rake(df, margins, tol=1e-6)
    data = df.assign(y=y, w=w.to_numpy())
    plain = Design(data, "w")
    raked = Design(data).rake(margins, tol=1e-6)
    hi = float(np.quantile(raked.weights, 0.99))
    trimmed = raked.trim(upper=hi)  # SEs still from the raking, as R after trimWeights()
    print(f"\nweighted proportion with linearised CI on {args.n:,} rows (best of 10)")
    for name, d, method in (
        ("weighted design, logit CI", plain, "logit"),
        ("weighted design, wilson CI", plain, "wilson"),
        ("weighted design, beta CI", plain, "beta"),
        ("raked design (calibration SE), logit", raked, "logit"),
        ("raked, then trimmed at the 99th pct, logit", trimmed, "logit"),
    ):
        t, e = best(lambda d=d, m=method: d.proportion("y", method=m), 10)
        print(
            f"{name:44s} {1000 * t:7.2f} ms   p={e.estimate:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}]"
        )
    if r is not None:
        print(f"{'R survey svyciprop on the raked design':44s} {1000 * r[3]:7.0f} ms")


if __name__ == "__main__":
    main()
