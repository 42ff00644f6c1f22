"""The ``pxlib`` command line: ``demo``, ``sample``, ``batch``, ``validate``, ``kernel``.

Every ``make`` target is a thin call of one of these, so conda and Windows users
run the same thing without a Unix shell.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from pxlib import __version__

REPO_ROOT = Path(__file__).resolve().parents[1]
KERNEL_NAME = "pxlib"
KERNEL_DISPLAY_NAME = "Python (pxlib)"


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
    print(f"Wrote {len(paths)} synthetic sample files to {Path(args.out).resolve()} (seed {args.seed}).")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from pxlib.data import load_data_dir
    from pxlib.errors import PxlibError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = load_data_dir(args.data, args.trust, strict=False)
        except PxlibError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for name in ("organisations", "units", "question_bank", "responses", "pdsa_log", "margins", "fft", "gpps"):
        print(f"{name:>14}: {len(getattr(data, name)):>8} valid rows")
    for note in data.notes:
        print(f"note: {note}")
    if data.rejected.empty:
        print("No rows rejected.")
        return 0
    print(f"{len(data.rejected)} rows rejected:")
    for rec in data.rejected.head(args.limit).itertuples(index=False):
        print(f"  {rec.file}, row {rec.row}, column {rec.column}: {rec.reason}")
    if args.rejected_out:
        data.rejected.to_csv(args.rejected_out, index=False)
        print(f"Every rejected row, with its reason: {args.rejected_out}")
    return 1


def _cmd_kernel(args: argparse.Namespace) -> int:
    path = ensure_kernel(args.name)
    print(f"Kernel '{args.name}' is registered at {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from pxlib.report import run_batch

    ensure_kernel()
    data_dir = Path(args.data)
    out_dir = Path(args.out)
    print(f"Running the workbook for every sample trust in {data_dir} (reports in {out_dir}) ...")
    results = run_batch(data_dir, out_dir, trusts="all", workers=args.workers, resume=True)
    index = out_dir / "index.html"
    failed = results[results["status"] == "failed"]
    print(f"{(results['status'] == 'ok').sum()} reports made, {len(failed)} failed, "
          f"{(results['status'] == 'skipped').sum()} unchanged since the last run.")
    print(f"Open the index: {index.resolve()}")
    return 1 if len(failed) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pxlib",
        description="Always Events workbook: SPC and survey weighting for NHS improvement teams.",
    )
    parser.add_argument("--version", action="version", version=f"pxlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the workbook on the sample data and write HTML reports")
    demo.add_argument("--data", default=str(REPO_ROOT / "data" / "sample"), help="data folder")
    demo.add_argument("--out", default=str(REPO_ROOT / "build" / "reports"), help="where reports go")
    demo.add_argument("--workers", type=int, default=None, help="parallel notebooks (default: cores)")
    demo.set_defaults(func=_cmd_demo)

    sample = sub.add_parser("sample", help="write the synthetic sample data")
    sample.add_argument("--seed", type=int, default=None, help="random seed (default: the sample's)")
    sample.add_argument("--out", default="data/sample", help="output folder")
    sample.set_defaults(func=_cmd_sample)

    validate = sub.add_parser("validate", help="check a data folder and list every rejected row")
    validate.add_argument("data", help="data folder (files named as in data/sample)")
    validate.add_argument("--trust", default=None, help="check one organisation's rows only")
    validate.add_argument("--limit", type=int, default=50, help="rejected rows to print")
    validate.add_argument("--rejected-out", default=None, help="write every rejected row to this CSV")
    validate.set_defaults(func=_cmd_validate)

    kernel = sub.add_parser("kernel", help="register the project's Jupyter kernel in this environment")
    kernel.add_argument("--name", default=KERNEL_NAME)
    kernel.set_defaults(func=_cmd_kernel)

    batch = sub.add_parser("batch", help="run notebooks for many organisations in parallel")
    from pxlib.report import add_batch_arguments, run_batch_from_args

    add_batch_arguments(batch)
    batch.set_defaults(func=run_batch_from_args)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) == "sample" and args.seed is None:
        from pxlib.data.sample import DEFAULT_SEED

        args.seed = DEFAULT_SEED
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
