"""Notebook tools: where a notebook's files are, and notebook hygiene.

**Paths.** The notebooks' ``data_dir`` and ``output_dir`` parameters default to
empty, meaning the project's own ``data/sample`` and ``build/notebook-output``,
found from the pxlib package (:func:`resolve_dirs`). So a notebook runs the same
from the repository root (``papermill notebooks/03_test_and_measure.ipynb out.ipynb``),
from inside ``notebooks/`` and in JupyterLab. The batch always sets both.

**Hygiene.** Stored notebook outputs can disclose patient data (NHS RAP guidance),
so the workbook's notebooks are committed without outputs, except a few *golden*
cells tagged ``keep_output`` whose small, known output nbval checks
(``nbval-check-output``). Run::

    python -m pxlib.workbook.nbtools strip notebooks/*.ipynb     # strip in place
    python -m pxlib.workbook.nbtools strip < in.ipynb > out.ipynb  # as a filter
    python -m pxlib.workbook.nbtools check notebooks/*.ipynb     # exit 1 if not clean
    python -m pxlib.workbook.nbtools refresh notebooks/*.ipynb   # re-run, keep new golden outputs
    python -m pxlib.workbook.nbtools install-filter              # git strips what it stores

``install-filter`` (run by ``make setup`` in a git checkout) registers ``strip``
as the git *clean* filter ``pxlib-strip`` that ``.gitattributes`` names for
``notebooks/*.ipynb``: a notebook opened, run and saved in JupyterLab keeps its
outputs on disk, but git stores (and diffs) it stripped.

Stripping clears outputs and execution counts outside golden cells, run and view
metadata (papermill's, the widget state, timings, scrolled/collapsed), reduces
``language_info`` to the language and sets the kernelspec to the project's
``pxlib`` kernel. It works on plain JSON (no nbformat import, so the git filter
is quick) and writes what nbformat writes, so a clean notebook comes back byte
for byte.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

KEEP_TAG = "keep_output"
CHECK_TAG = "nbval-check-output"
KERNELSPEC = {"name": "pxlib", "display_name": "Python (pxlib)", "language": "python"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
GIT_FILTER = "pxlib-strip"
#: notebook-level metadata a run adds (papermill's record, widget state, timings)
_RUN_METADATA = ("papermill", "widgets", "execution")
#: cell metadata a run or the JupyterLab view adds
_CELL_RUN_METADATA = (
    "papermill",
    "widgets",
    "execution",
    "ExecuteTime",
    "collapsed",
    "scrolled",
    "jp-MarkdownHeadingCollapsed",
    "trusted",
)
#: non-text mimetypes nbformat writes as lists of lines
_SPLIT_MIMES = ("image/svg+xml", "application/javascript")
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_SAMPLE = ("data", "sample")
_OUTPUT = ("build", "notebook-output")


# --- paths -----------------------------------------------------------------------------------


def project_root(start: str | Path | None = None) -> Path | None:
    """The project checkout: the folder holding the pxlib package and ``data/sample``.

    That is the folder beside the package (an editable install or a source
    tree); for an installed pxlib, the nearest folder at or above ``start``
    (default: the working directory) holding ``data/sample/organisations.csv``.
    None when there is neither.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (_PACKAGE_DIR.parent, here, *here.parents):
        if folder.joinpath(*_SAMPLE, "organisations.csv").is_file():
            return folder
    return None


def default_data_dir() -> Path:
    """The project's synthetic sample data (``data/sample``)."""
    from pxlib.errors import DataValidationError

    root = project_root()
    if root is None:
        raise DataValidationError(
            "data_dir is empty and the sample data (data/sample) were not found beside "
            f"pxlib ({_PACKAGE_DIR.parent}) or above {Path.cwd()}: set data_dir to your data folder"
        )
    return root.joinpath(*_SAMPLE)


def default_output_dir() -> Path:
    """``build/notebook-output`` in the project (in the working directory without one)."""
    return (project_root() or Path.cwd()).joinpath(*_OUTPUT)


def resolve_data_dir(value: str | Path = "") -> Path:
    """The data folder a notebook's ``data_dir`` names, as an absolute path.

    Empty: :func:`default_data_dir`. A relative path is looked for in the working
    directory, then the project folder, then its ``notebooks/`` folder (where
    the notebooks' old default ``../data/sample`` pointed from); when it is in
    none of them, the working directory's path is returned and the loader
    says it is not found.
    """
    if not str(value).strip():
        return default_data_dir()
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    root = project_root()
    bases = [Path.cwd()] + ([root, root / "notebooks"] if root else [])
    for base in bases:
        if (base / path).is_dir():
            return (base / path).resolve()
    return (Path.cwd() / path).resolve()


def resolve_output_dir(value: str | Path = "") -> Path:
    """The folder a notebook's ``output_dir`` names: empty for :func:`default_output_dir`,
    a relative path from the working directory."""
    if not str(value).strip():
        return default_output_dir()
    return (Path.cwd() / Path(value).expanduser()).resolve()


def resolve_dirs(data_dir: str | Path = "", output_dir: str | Path = "") -> tuple[Path, Path]:
    """``(data folder, output folder)`` for a notebook's ``data_dir`` and ``output_dir``."""
    return resolve_data_dir(data_dir), resolve_output_dir(output_dir)


# --- stripping -------------------------------------------------------------------------------


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _coalesce_streams(outputs: list) -> list:
    """Consecutive stream outputs of one name as one (as JupyterLab shows them)."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and out.get("output_type") == "stream"
            and prev.get("output_type") == "stream"
            and out.get("name") == prev.get("name")
        ):
            as_list = isinstance(prev.get("text"), list) or isinstance(out.get("text"), list)
            text = _text(prev.get("text", "")) + _text(out.get("text", ""))
            prev["text"] = text.splitlines(True) if as_list else text
            continue
        merged.append(out)
    return merged


def strip_notebook(nb: dict[str, Any]) -> bool:
    """Strip outputs in place (golden cells kept); returns True when something changed.

    ``nb`` is an nbformat notebook or the plain dict of its JSON.
    """
    changed = False
    for cell in nb["cells"]:
        metadata = cell.get("metadata", {})
        for key in _CELL_RUN_METADATA:
            if key in metadata:
                del metadata[key]
                changed = True
        if cell.get("cell_type") != "code":
            continue
        if KEEP_TAG in _tags(cell):
            # nbval skips ("unrun reference cell") a cell with outputs but no execution count:
            # golden cells keep a fixed count of 1 so that re-stripping changes nothing
            outputs = cell.get("outputs", [])
            merged = _coalesce_streams(outputs)
            if len(merged) != len(outputs):
                cell["outputs"] = merged
                changed = True
            want = 1 if merged else None
            if cell.get("execution_count") != want:
                cell["execution_count"] = want
                changed = True
            for out in merged:
                if "execution_count" in out and out["execution_count"] != want:
                    out["execution_count"] = want
                    changed = True
                if isinstance(out.get("metadata"), dict):
                    for key in _CELL_RUN_METADATA:
                        if key in out["metadata"]:
                            del out["metadata"][key]
                            changed = True
            continue
        if cell.get("outputs"):
            cell["outputs"] = []
            changed = True
        if cell.get("execution_count") is not None:
            cell["execution_count"] = None
            changed = True
    metadata = nb["metadata"]
    for key in _RUN_METADATA:
        if key in metadata:
            del metadata[key]
            changed = True
    if dict(metadata.get("kernelspec", {})) != KERNELSPEC:
        metadata["kernelspec"] = dict(KERNELSPEC)
        changed = True
    if dict(metadata.get("language_info", {})) != LANGUAGE_INFO:
        metadata["language_info"] = dict(LANGUAGE_INFO)
        changed = True
    return changed


def _split_lines(nb: dict) -> None:
    """Multi-line strings as lists of lines, as nbformat writes them."""
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(True)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and isinstance(out.get("text"), str):
                out["text"] = out["text"].splitlines(True)
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str) and (mime.startswith("text/") or mime in _SPLIT_MIMES):
                    out["data"][mime] = value.splitlines(True)


def dumps(nb: dict) -> str:
    """A notebook's JSON as nbformat writes it (indent 1, sorted keys, final newline).

    Splits multi-line strings of ``nb`` into lists of lines in place, as nbformat does.
    """
    _split_lines(nb)
    return (
        json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"
    )


def strip_text(text: str) -> str:
    """A notebook file's text, stripped (what the git filter stores).

    Not a version 4 notebook: ``ValueError``. A clean notebook comes back unchanged.
    """
    nb = json.loads(text)
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or "cells" not in nb:
        raise ValueError("not a version 4 Jupyter notebook")
    nb.setdefault("metadata", {})
    if not strip_notebook(nb):
        return text
    return dumps(nb)


def problems(nb: dict[str, Any]) -> list[str]:
    """Why a notebook is not clean (outputs outside golden cells, wrong kernel); empty if clean."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        tags = _tags(cell)
        if cell.get("outputs") and KEEP_TAG not in tags:
            out.append(f"cell {i} has outputs but no '{KEEP_TAG}' tag")
        if KEEP_TAG in tags and CHECK_TAG not in tags:
            out.append(f"cell {i} keeps its output but is not tagged '{CHECK_TAG}'")
        if KEEP_TAG in tags and cell.get("outputs") and cell.get("execution_count") is None:
            out.append(
                f"cell {i} keeps its output but has no execution count (nbval would not check it)"
            )
    if nb["metadata"].get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
        out.append(f"kernelspec is not '{KERNELSPEC['name']}'")
    return out


def strip_files(paths: Iterable[str | Path], *, check: bool = False) -> list[str]:
    """Strip (or with ``check`` only inspect) notebook files; returns messages of what is/was wrong."""
    messages = []
    for path in paths:
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if check:
            messages += [f"{path}: {p}" for p in problems(json.loads(text))]
            continue
        stripped = strip_text(text)
        if stripped != text:
            path.write_text(stripped, encoding="utf-8", newline="\n")
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
    golden = {c.get("id"): c.get("outputs", []) for c in done.cells if KEEP_TAG in _tags(c)}
    for cell in nb.cells:
        if cell.get("id") in golden:
            cell["outputs"] = golden[cell["id"]]
    strip_notebook(nb)
    nbformat.write(nb, path)
    return path


# --- the git filter --------------------------------------------------------------------------


def filter_command(python: str | Path | None = None) -> str:
    """The command git runs to strip a notebook (``filter.pxlib-strip.clean``)."""
    exe = Path(python or sys.executable).as_posix()
    return f'"{exe}" -m pxlib.workbook.nbtools strip'


def install_git_filter(root: str | Path | None = None, *, python: str | None = None) -> str | None:
    """Register the ``pxlib-strip`` clean filter in the checkout's git config; say what was done.

    Does nothing outside a git checkout or without git. Idempotent: the config is
    only written when it differs; None when it was already there.
    """
    root = Path(root) if root else project_root()
    if root is None or not (root / ".git").exists():
        return "not a git checkout: no git filter installed"
    git = shutil.which("git")
    if git is None:
        return "git not found: no git filter installed"
    key = f"filter.{GIT_FILTER}.clean"
    command = filter_command(python)
    current = subprocess.run(
        [git, "config", "--local", "--get", key], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    if current == command:
        return None
    subprocess.run([git, "config", "--local", key, command], cwd=root, check=True)
    return f"git filter {GIT_FILTER} installed: git stores notebooks/*.ipynb stripped of outputs"


def _filter_stdin() -> int:
    data = sys.stdin.buffer.read()
    try:
        out = strip_text(data.decode("utf-8")).encode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        # not a notebook git can strip: say so and fail, so git keeps the file as it is
        print(f"pxlib-strip: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


_COMMANDS = ("strip", "check", "refresh", "install-filter")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in _COMMANDS and argv[0] not in ("-h", "--help"):
        # the older form: nbtools [--check | --refresh] PATHS
        command = "check" if "--check" in argv else "refresh" if "--refresh" in argv else "strip"
        argv = [command] + [a for a in argv if a not in ("--check", "--refresh")]
    parser = argparse.ArgumentParser(
        prog="python -m pxlib.workbook.nbtools",
        description="Strip notebook outputs (golden cells kept), check, refresh golden outputs, "
        "and register the git filter that strips what git stores.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    strip = sub.add_parser(
        "strip", help="strip files in place; with no files, stdin to stdout (the git filter)"
    )
    strip.add_argument("paths", nargs="*", help="notebook files")
    check = sub.add_parser("check", help="report, do not change; exit 1 if not clean")
    check.add_argument("paths", nargs="+", help="notebook files")
    refresh = sub.add_parser("refresh", help="re-run with defaults and keep the new golden outputs")
    refresh.add_argument("paths", nargs="+", help="notebook files")
    sub.add_parser("install-filter", help="register the pxlib-strip git filter in this checkout")
    args = parser.parse_args(argv)

    if args.command == "install-filter":
        message = install_git_filter()
        if message:
            print(message)
        return 0
    if args.command == "strip" and not args.paths:
        return _filter_stdin()
    if args.command == "refresh":
        for path in args.paths:
            print(f"{refresh_golden(path)}: golden outputs refreshed")
        return 0
    messages = strip_files(args.paths, check=args.command == "check")
    for m in messages:
        print(m)
    return 1 if (args.command == "check" and messages) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
