"""Notebook hygiene: strip outputs before committing, keeping the golden cells.

Stored notebook outputs can disclose patient data (NHS RAP guidance), so the
workbook's notebooks are committed without outputs, except a few *golden*
cells tagged ``keep_output`` whose small, known output nbval checks
(``nbval-check-output``). Run::

    python -m pxlib.workbook.nbtools notebooks/*.ipynb            # strip in place
    python -m pxlib.workbook.nbtools --check notebooks/*.ipynb    # exit 1 if not clean
    python -m pxlib.workbook.nbtools --refresh notebooks/*.ipynb  # re-run, keep new golden outputs

Stripping also clears execution counts and run metadata (papermill's, the
widget state) and sets the kernelspec to the project's ``pxlib`` kernel.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

KEEP_TAG = "keep_output"
KERNELSPEC = {"name": "pxlib", "display_name": "Python (pxlib)", "language": "python"}
_RUN_METADATA = ("papermill", "widgets", "execution")


def strip_notebook(nb) -> bool:
    """Strip outputs in place (golden cells kept); returns True when something changed."""
    changed = False
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        for key in _RUN_METADATA:
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed = True
        if KEEP_TAG in tags:
            # nbval skips ("unrun reference cell") a cell with outputs but no execution count:
            # golden cells keep a fixed count of 1 so that re-stripping changes nothing
            want = 1 if cell.get("outputs") else None
            if cell.get("execution_count") != want:
                cell["execution_count"] = want
                changed = True
            for out in cell.get("outputs", []):
                if "execution_count" in out and out["execution_count"] != want:
                    out["execution_count"] = want
                    changed = True
            continue
        if cell.get("outputs"):
            cell["outputs"] = []
            changed = True
        if cell.get("execution_count") is not None:
            cell["execution_count"] = None
            changed = True
    for key in _RUN_METADATA:
        if key in nb.metadata:
            del nb.metadata[key]
            changed = True
    if dict(nb.metadata.get("kernelspec", {})) != KERNELSPEC:
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        changed = True
    return changed


def problems(nb) -> list[str]:
    """Why a notebook is not clean (outputs outside golden cells, wrong kernel); empty if clean."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.get("outputs") and KEEP_TAG not in tags:
            out.append(f"cell {i} has outputs but no '{KEEP_TAG}' tag")
        if KEEP_TAG in tags and "nbval-check-output" not in tags:
            out.append(f"cell {i} keeps its output but is not tagged 'nbval-check-output'")
        if KEEP_TAG in tags and cell.get("outputs") and cell.get("execution_count") is None:
            out.append(
                f"cell {i} keeps its output but has no execution count (nbval would not check it)"
            )
    if nb.metadata.get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
        out.append(f"kernelspec is not '{KERNELSPEC['name']}'")
    return out


def strip_files(paths: Iterable[str | Path], *, check: bool = False) -> list[str]:
    """Strip (or with ``check`` only inspect) notebook files; returns messages of what is/was wrong."""
    import nbformat

    messages = []
    for path in paths:
        path = Path(path)
        nb = nbformat.read(path, as_version=4)
        if check:
            messages += [f"{path}: {p}" for p in problems(nb)]
        elif strip_notebook(nb):
            nbformat.write(nb, path)
            messages.append(f"{path}: stripped")
    return messages


def refresh_golden(
    path: str | Path, *, kernel_name: str = KERNELSPEC["name"], timeout: int = 300
) -> Path:
    """Execute a notebook with its default parameters and store its new golden outputs.

    Runs ``path`` under papermill (in its own folder, as nbval does), copies the
    outputs of the ``keep_output`` cells (matched by cell id) into the notebook,
    strips everything else and writes it back. Use after changing a notebook
    whose golden cells print something new.
    """
    import tempfile

    import nbformat
    import papermill as pm

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        pm.execute_notebook(
            str(path),
            str(out),
            kernel_name=kernel_name,
            cwd=str(path.parent),
            parameters={"output_dir": str(Path(tmp) / "output")},
            progress_bar=False,
            execution_timeout=timeout,
        )
        done = nbformat.read(out, as_version=4)
    golden = {
        c.get("id"): c.get("outputs", [])
        for c in done.cells
        if KEEP_TAG in c.get("metadata", {}).get("tags", [])
    }
    for cell in nb.cells:
        if cell.get("id") in golden:
            cell["outputs"] = golden[cell["id"]]
    strip_notebook(nb)
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pxlib.workbook.nbtools", description=__doc__.split("\n")[0]
    )
    parser.add_argument("paths", nargs="+", help="notebook files")
    parser.add_argument(
        "--check", action="store_true", help="report, do not change; exit 1 if not clean"
    )
    args = parser.parse_args(argv)
    messages = strip_files(args.paths, check=args.check)
    for m in messages:
        print(m)
    return 1 if (args.check and messages) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
