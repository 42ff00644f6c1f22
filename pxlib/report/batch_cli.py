"""``pxlib batch`` on the command line: its options (:func:`add_batch_arguments`)
and the run (:func:`run_batch_from_args`), which prints one line for people and
returns the exit status (:mod:`pxlib.errors`), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pxlib.errors import (
    EXIT_COULD_NOT_RUN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REPORTS_FAILED,
    BatchError,
    PxlibError,
)
from pxlib.report import isolation
from pxlib.report.batch import run_batch
from pxlib.report.batch_setup import load_config
from pxlib.report.params import parse_param_pairs

__all__ = [
    "add_batch_arguments",
    "run_batch_from_args",
]

# --- command line ----------------------------------------------------------------------


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pxlib batch`` options to ``parser``."""
    parser.add_argument(
        "--data", metavar="DIR", help="folder of input files with organisations.csv"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="folder the reports, index and results.csv go to"
    )
    parser.add_argument(
        "--trusts",
        nargs="+",
        metavar="CODE",
        help="organisation codes, or 'all' (every trust and other provider; the default)",
    )
    parser.add_argument(
        "--notebooks",
        nargs="+",
        metavar="PREFIX",
        help="notebooks by file-name prefix, e.g. 03 04 (default: 01 to 04, not the workshop)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="parallel reports (default: the cores)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        default=None,
        help="skip reports whose inputs, parameters, notebook and pxlib version are unchanged",
    )
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        metavar="NAME=VALUE",
        help="a notebook parameter (checked against the notebooks' parameters cells)",
    )
    parser.add_argument("--config", metavar="FILE", help="batch.yaml with any of these options")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (workers with one thread each; shared file system)",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="longest a cell may run (default 600)"
    )
    parser.add_argument("--kernel", metavar="NAME", help="Jupyter kernel name (default: pxlib)")
    parser.add_argument(
        "--notebooks-dir", metavar="DIR", help="folder of notebooks (default: the workbook's)"
    )
    parser.add_argument(
        "--plotlyjs",
        choices=("directory", "embed"),
        help="plotly.js written once beside the reports (default) or embedded in each",
    )
    parser.add_argument(
        "--self-contained",
        action="store_true",
        default=None,
        help="embed plotly.js in every report (about 4.8 MB each) so a report copied on its "
        "own still draws its charts (same as --plotlyjs embed)",
    )
    parser.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the date the reports are as of, given to every notebook that declares 'as_of'",
    )
    parser.add_argument(
        "--staging-dir",
        metavar="DIR",
        help="where each organisation's inputs are staged while its reports run, never inside "
        "--out (default: the temp folder; on a Dask cluster of several machines, a folder "
        "every worker sees)",
    )
    parser.add_argument(
        "--fresh-kernels",
        action="store_true",
        default=None,
        help="a new kernel for every report (slower; by default each worker keeps its kernel "
        "and clears it between reports)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_batch_from_args(args: argparse.Namespace) -> int:
    """Run ``pxlib batch``; return its exit status (:mod:`pxlib.errors`).

    ``EXIT_OK`` (0) every report made or unchanged; ``EXIT_COULD_NOT_RUN`` (2)
    bad set-up or another batch writing to ``--out``; ``EXIT_REPORTS_FAILED``
    (4) some reports failed; ``EXIT_INTERRUPTED`` (130) Ctrl-C or SIGTERM.
    """
    try:
        config = load_config(args.config) if getattr(args, "config", None) else {"params": {}}

        def pick(name: str, attr: str | None = None, default: Any = None) -> Any:
            value = getattr(args, attr or name, None)
            return value if value is not None else config.get(name, default)

        data, out = pick("data"), pick("out")
        if not data or not out:
            raise BatchError(
                "pxlib batch needs --data DIR and --out DIR (or data: and out: in --config)"
            )
        cli_params = parse_param_pairs(getattr(args, "param", None))
        params = {**config.get("params", {}), **cli_params}
        trusts = pick("trusts", default="all")
        frame = run_batch(
            data,
            out,
            trusts=trusts,
            notebooks=pick("notebooks"),
            workers=pick("workers"),
            resume=bool(pick("resume", default=False)),
            params=params,
            notebooks_dir=pick("notebooks_dir"),
            kernel_name=pick("kernel", default="pxlib"),
            scheduler=pick("scheduler"),
            timeout=pick("timeout", default=600.0),
            start_timeout=config.get("start_timeout", 60.0),
            plotlyjs="embed"
            if pick("self_contained", default=False)
            else pick("plotlyjs", default="directory"),
            progress=False if getattr(args, "no_progress", False) else None,
            text_params=cli_params.keys(),
            record_files=config.get("record_files", isolation.RECORD_FILES),
            aggregate_files=config.get("aggregate_files", isolation.AGGREGATE_FILES),
            org_filtered_files=config.get("org_filtered_files", isolation.ORG_FILTERED_AGGREGATES),
            warm_imports=config.get("warm_imports"),
            as_of=pick("as_of"),
            staging_dir=pick("staging_dir"),
            fresh_kernels=bool(pick("fresh_kernels", default=False)),
        )
    except PxlibError as exc:
        print(f"pxlib batch: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except KeyboardInterrupt:
        print("pxlib batch: interrupted; run again with --resume to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    out_path = Path(out).resolve()
    n_failed = int((frame["status"] == "failed").sum())
    print(
        f"{int((frame['status'] == 'ok').sum())} reports made, "
        f"{int((frame['status'] == 'skipped').sum())} unchanged, {n_failed} failed "
        f"(details in {out_path / 'results.csv'}).\nIndex: {out_path / 'index.html'}"
    )
    return EXIT_REPORTS_FAILED if n_failed else EXIT_OK
