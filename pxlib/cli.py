"""The ``pxlib`` command line: ``demo``, ``sample``, ``batch``, ``validate``, ``kernel``.

Every ``make`` target is a thin call of one of these, so conda and Windows users
run the same thing without a Unix shell. Exit statuses are the constants of
:mod:`pxlib.errors`, listed in each command's ``--help``; an ordinary failure is
one line on stderr, never a traceback (``PXLIB_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import textwrap
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from pxlib import __version__
from pxlib.errors import (
    EXIT_COULD_NOT_RUN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REPORTS_FAILED,
    EXIT_ROWS_REJECTED,
    PxlibError,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
KERNEL_NAME = "pxlib"
KERNEL_DISPLAY_NAME = "Python (pxlib)"
#: what each exit status means, in the words of ``--help``
EXIT_MEANINGS = {
    EXIT_OK: "success: everything ran and nothing was set aside",
    EXIT_COULD_NOT_RUN: "could not run: bad options, a missing or unreadable input file, "
    "an unexpected error",
    EXIT_ROWS_REJECTED: "validate: the data loaded, but rows were rejected (each listed "
    "with its file, row, column and reason)",
    EXIT_REPORTS_FAILED: "demo, batch: the run finished, but one or more reports failed "
    "(see results.csv)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); demo and batch keep the reports already finished",
}
DEBUG_VARIABLE = "PXLIB_DEBUG"


def exit_status_epilog(*statuses: int) -> str:
    """The ``exit statuses:`` section of a ``--help`` (all of them when none are named)."""
    chosen = statuses or tuple(EXIT_MEANINGS)
    lines = [f"  {status:<4} {EXIT_MEANINGS[status]}" for status in chosen]
    return "exit statuses:\n" + "\n".join(lines)


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register the named Jupyter kernel inside this environment (``--sys-prefix``) if missing.

    A kernelspec in the environment's own prefix is never shared with another
    checkout on the same machine, unlike a per-user one.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    manager = KernelSpecManager()
    specs = manager.find_kernel_specs()
    prefix_dir = Path(sys.prefix) / "share" / "jupyter" / "kernels" / name
    if name in specs and Path(specs[name]).resolve() == prefix_dir.resolve():
        return specs[name]
    from ipykernel.kernelspec import install

    return install(kernel_name=name, display_name=KERNEL_DISPLAY_NAME, prefix=sys.prefix)


def _cmd_sample(args: argparse.Namespace) -> int:
    from pxlib.data.sample import write_sample

    paths = write_sample(args.out, seed=args.seed)
    print(
        f"Wrote {len(paths)} synthetic sample files to {Path(args.out).resolve()} (seed {args.seed})."
    )
    return 0


def _iso_date(text: str) -> datetime.date:
    """``--as-of`` values: a date written YYYY-MM-DD."""
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


def _cmd_validate(args: argparse.Namespace) -> int:
    import pxlib.data

    as_of = args.as_of or datetime.date.today()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = pxlib.data.load_data_dir(args.data, args.trust, strict=False, as_of=as_of)
        except PxlibError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_COULD_NOT_RUN
    print(f"{Path(args.data)} (dates checked against the as-of date {as_of:%Y-%m-%d}):")
    for name in pxlib.data.FILE_NAMES:
        source = data.sources.get(name)
        where = source.name if source else f"no {name} file"
        print(f"{name:>17}: {len(getattr(data, name)):>8} valid rows  ({where})")
    for note in data.notes:
        print(f"note: {note}")
    if data.rejected.empty:
        print("No rows rejected.")
        return EXIT_OK
    print(f"{len(data.rejected)} rows rejected:")
    for rec in data.rejected.head(args.limit).itertuples(index=False):
        print(f"  {rec.file}, row {rec.row}, column {rec.column}: {rec.reason}")
    if args.rejected_out:
        data.rejected.to_csv(args.rejected_out, index=False)
        print(f"Every rejected row, with its reason: {args.rejected_out}")
    return EXIT_ROWS_REJECTED


def _cmd_kernel(args: argparse.Namespace) -> int:
    path = ensure_kernel(args.name)
    print(f"Kernel '{args.name}' is registered at {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import pxlib.report

    ensure_kernel()
    data_dir = Path(args.data)
    out_dir = Path(args.out)
    print(f"Running the workbook for every sample trust in {data_dir} (reports in {out_dir}) ...")
    results = pxlib.report.run_batch(
        data_dir, out_dir, trusts="all", workers=args.workers, resume=True
    )
    index = out_dir / "index.html"
    failed = results[results["status"] == "failed"]
    print(
        f"{(results['status'] == 'ok').sum()} reports made, {len(failed)} failed, "
        f"{(results['status'] == 'skipped').sum()} unchanged since the last run."
    )
    print(f"Open the index: {index.resolve()}")
    return EXIT_REPORTS_FAILED if len(failed) else EXIT_OK


def _cmd_batch(args: argparse.Namespace) -> int:
    import pxlib.report

    status = int(pxlib.report.run_batch_from_args(args) or 0)
    # run_batch_from_args has said 1 for "reports failed"; the CLI's status for it is 4
    return EXIT_REPORTS_FAILED if status == 1 else status


#: what each command does (the first line of its ``--help``) and examples of its use
COMMANDS: dict[str, dict[str, object]] = {
    "demo": {
        "help": "run the workbook on the sample data and write HTML reports",
        "description": "Run the workbook (notebooks 01 to 04) for every organisation in the "
        "synthetic sample data, in parallel, and write an offline HTML report per organisation "
        "and notebook with an index page linking them. Reports whose inputs have not changed "
        "since the last run are kept, so a second run is quick.",
        "examples": [
            ("pxlib demo", "reports in build/reports; open build/reports/index.html"),
            ("pxlib demo --workers 2 --out /tmp/reports", "two notebooks at a time, elsewhere"),
        ],
    },
    "sample": {
        "help": "write the synthetic sample data",
        "description": "Write the synthetic sample data: fictional organisations (codes starting "
        "with Z) with survey answers, PDSA cycles, population margins and national survey "
        "extracts, and a README stating the patterns planted in them. The same seed gives the "
        "same files, byte for byte.",
        "examples": [
            ("pxlib sample --out data/sample", "regenerate the committed sample"),
            ("pxlib sample --seed 7 --out /tmp/sample-7", "another sample, for training"),
        ],
    },
    "validate": {
        "help": "check a data folder and list every rejected row",
        "description": "Check a data folder without making any report: every file is read as "
        "the reports read it, and every rejected row is listed with its file, row, column and "
        "reason (nothing is dropped silently, nothing is changed).",
        "examples": [
            ("pxlib validate data/sample", "the sample: no rows rejected"),
            (
                "pxlib validate mydata --rejected-out rejected.csv",
                "your folder; every rejected row also written to a CSV",
            ),
            (
                "pxlib validate mydata --trust RXX --as-of 2026-03-31",
                "one organisation; dates after 31 March 2026 rejected",
            ),
        ],
    },
    "kernel": {
        "help": "register the project's Jupyter kernel in this environment",
        "description": f"Register the Jupyter kernel '{KERNEL_DISPLAY_NAME}' (name '{KERNEL_NAME}') "
        "inside this environment, not per user, so two checkouts on one machine never share "
        "it. The notebooks and the batch run on it; `make setup` registers it.",
        "examples": [
            ("pxlib kernel", "register (or confirm) the pxlib kernel"),
            ("jupyter kernelspec list", "see where it is registered"),
        ],
    },
    "batch": {
        "help": "run notebooks for many organisations in parallel",
        "description": "Run the chosen notebooks for the chosen organisations in parallel and "
        "write, under --out, an offline HTML report and the executed notebook per organisation "
        "and notebook, results.csv (one row per report: ok, failed or skipped, and why) and "
        "index.html with each organisation's key results. A failing organisation never stops "
        "the others.",
        "examples": [
            (
                "pxlib batch --data mydata --out build/reports --trusts all",
                "every trust and other provider in mydata/organisations.csv",
            ),
            (
                "pxlib batch --data mydata --out build/reports --trusts RXX RYY --notebooks 03 04",
                "two organisations, notebooks 03 and 04 only",
            ),
            (
                "pxlib batch --data mydata --out build/reports --param target=0.9",
                "a 90% aim in every notebook that has a target parameter",
            ),
            (
                "pxlib batch --config batch.yaml --resume",
                "options from a file; redo only what changed",
            ),
        ],
    },
}


def examples_epilog(examples: Iterable[tuple[str, str]]) -> str:
    """The ``examples:`` section of a ``--help``: each command, then what it does."""
    lines = []
    for command, what in examples:
        lines += [f"  {command}", f"      {what}"]
    return "examples:\n" + "\n".join(lines)


def _parser(sub, name: str, *statuses: int) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` has its description, examples and exit statuses."""
    info = COMMANDS[name]
    epilog = examples_epilog(cast("list[tuple[str, str]]", info["examples"]))
    if statuses:
        epilog += "\n\n" + exit_status_epilog(*statuses)
    return sub.add_parser(
        name,
        help=info["help"],
        description=textwrap.fill(str(info["description"]), width=79),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``pxlib`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="pxlib",
        description=textwrap.fill(
            "Always Events workbook: SPC and survey weighting for NHS improvement teams. "
            "Check your data (validate), make reports for many organisations (batch), try "
            "everything on the synthetic sample (demo, sample); `pxlib COMMAND --help` says more.",
            width=79,
        ),
        epilog=examples_epilog(
            [
                ("pxlib demo", "reports for every sample organisation in build/reports"),
                ("pxlib validate mydata", "check your own data folder first"),
                (
                    "pxlib batch --data mydata --out build/reports --trusts all",
                    "then make its reports",
                ),
            ]
        )
        + "\n\n"
        + exit_status_epilog()
        + f"\n\nSet {DEBUG_VARIABLE}=1 to see the traceback of an unexpected error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pxlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ran = (EXIT_OK, EXIT_COULD_NOT_RUN, EXIT_REPORTS_FAILED, EXIT_INTERRUPTED)

    demo = _parser(sub, "demo", *ran)
    demo.add_argument("--data", default=str(REPO_ROOT / "data" / "sample"), help="data folder")
    demo.add_argument(
        "--out", default=str(REPO_ROOT / "build" / "reports"), help="where reports go"
    )
    demo.add_argument(
        "--workers", type=int, default=None, help="parallel notebooks (default: cores)"
    )
    demo.set_defaults(func=_cmd_demo)

    sample = _parser(sub, "sample", EXIT_OK, EXIT_COULD_NOT_RUN)
    sample.add_argument(
        "--seed", type=int, default=None, help="random seed (default: the sample's)"
    )
    sample.add_argument("--out", default="data/sample", help="output folder")
    sample.set_defaults(func=_cmd_sample)

    validate = _parser(
        sub, "validate", EXIT_OK, EXIT_COULD_NOT_RUN, EXIT_ROWS_REJECTED, EXIT_INTERRUPTED
    )
    validate.add_argument("data", help="data folder (files named as in data/sample, .csv or .xlsx)")
    validate.add_argument("--trust", default=None, help="check one organisation's rows only")
    validate.add_argument(
        "--as-of",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="reject dates after this day (default: today)",
    )
    validate.add_argument("--limit", type=int, default=50, help="rejected rows to print")
    validate.add_argument(
        "--rejected-out", default=None, help="write every rejected row to this CSV"
    )
    validate.set_defaults(func=_cmd_validate)

    kernel = _parser(sub, "kernel", EXIT_OK, EXIT_COULD_NOT_RUN)
    kernel.add_argument("--name", default=KERNEL_NAME, help=f"kernel name (default: {KERNEL_NAME})")
    kernel.set_defaults(func=_cmd_kernel)

    batch = _parser(sub, "batch", *ran)
    from pxlib.report import add_batch_arguments

    add_batch_arguments(batch)
    batch.set_defaults(func=_cmd_batch)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``pxlib`` command and return its exit status (see ``pxlib --help``).

    A :class:`~pxlib.errors.PxlibError` is its message on stderr; any other error
    is one line asking for a report (the traceback with ``PXLIB_DEBUG=1``).
    """
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "command", None) == "sample" and args.seed is None:
            from pxlib.data.sample import DEFAULT_SEED

            args.seed = DEFAULT_SEED
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("pxlib: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PxlibError as exc:
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        print(f"pxlib: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        print(
            f"pxlib: unexpected error ({type(exc).__name__}): {exc}. Please report it; "
            f"run with {DEBUG_VARIABLE}=1 for the traceback.",
            file=sys.stderr,
        )
        return EXIT_COULD_NOT_RUN


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
