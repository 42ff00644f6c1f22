"""Per-organisation staging of batch inputs.

Before an organisation's notebooks run, its inputs are copied into a folder of
its own (``<staging>/<org>/``, a private temporary folder outside ``--out`` that the
batch removes however it ends) and the notebooks are pointed there, so a
report can only ever see that organisation's records:

* every table is located with :func:`pxlib.data.find_input` and read with
  :func:`pxlib.data.read_table`, the reader validation uses: CSV or Excel,
  UTF-8 or Windows-1252, comma or semicolon separated. It is staged as a UTF-8,
  comma-separated CSV under its canonical name (``responses.xlsx`` is staged as
  ``responses.csv``); cell values are never changed;
* **record-level files** (:data:`RECORD_FILES`, plus any other table with an
  ``org_code`` column that is not listed in :data:`AGGREGATE_FILES`) are
  filtered to the rows whose code, normalised as validation normalises it
  (:func:`pxlib.data.normalise_code`: " ZA1 " is ZA1), equals the
  organisation's code;
* **aggregate and reference files** (:data:`AGGREGATE_FILES`: published
  national figures, the organisation list, the question bank) are copied (byte
  for byte when already a UTF-8 comma-separated CSV of that name);
  :data:`ORG_FILTERED_AGGREGATES` (``units.csv``) are filtered too;
* **national folders** (:data:`AGGREGATE_DIRS`: ``national/``, the files NHS England
  and the survey programmes publish -- FFT workbooks, GP Patient Survey practice files,
  NCPES, CQC and Staff Survey results) are copied whole, byte for byte, to every
  organisation: they are published aggregate figures, read by
  :mod:`pxlib.workbook.national_insight`. Put nothing else in them. Their files are
  hashed together as one input (``national/``);
* anything else is left out (and logged): a file the batch cannot attribute
  to one organisation is not handed to every organisation. Other folders are
  not staged.

Each source file is read once for all organisations (one group-by), so staging
a hundred organisations costs about one pass over the data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pxlib.data.folder import INPUT_SUFFIXES, find_input
from pxlib.data.loaders import normalise_code, normalise_name, read_table
from pxlib.data.schemas import FILE_NAMES, SCHEMAS
from pxlib.errors import BatchError

__all__ = [
    "ORG_COLUMN",
    "RECORD_FILES",
    "AGGREGATE_FILES",
    "ORG_FILTERED_AGGREGATES",
    "AGGREGATE_DIRS",
    "StagingPlan",
    "plan_staging",
    "stage_organisations",
    "staged_name",
    "file_sha256",
    "tree_sha256",
]

log = logging.getLogger("pxlib.report")

ORG_COLUMN = "org_code"
#: record-level files: rows of one organisation only
RECORD_FILES: tuple[str, ...] = ("responses.csv", "pdsa_log.csv", "margins.csv")
#: aggregate / reference files copied whole to every organisation
AGGREGATE_FILES: tuple[str, ...] = (
    "organisations.csv",
    "question_bank.csv",
    "fft_monthly.csv",
    "gpps_practices.csv",
    "README.md",
)
#: reference files that are nonetheless filtered to the organisation
ORG_FILTERED_AGGREGATES: tuple[str, ...] = ("units.csv",)
#: folders of published national files, copied whole to every organisation
AGGREGATE_DIRS: tuple[str, ...] = ("national",)


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def staged_name(name: str) -> str:
    """The name a file is staged under: a table's stem with ``.csv``
    (``responses.xlsx`` -> ``responses.csv``); any other file keeps its name."""
    path = Path(name)
    return path.stem + ".csv" if path.suffix.lower() in INPUT_SUFFIXES else name


#: the schema of each canonical table file, for the other names its org_code goes by
_SCHEMA_OF_FILE = {file: SCHEMAS[key] for key, file in FILE_NAMES.items()}


def _org_column(columns: Iterable[object], name: str) -> str | None:
    """The column holding the organisation code: ``org_code`` itself, else a column
    matching it (or its schema's aliases) as the loaders match column names."""
    columns = [str(c) for c in columns]
    if ORG_COLUMN in columns:
        return ORG_COLUMN
    schema = _SCHEMA_OF_FILE.get(name)
    aliases = schema.column(ORG_COLUMN).aliases if schema is not None else ()
    wanted = {normalise_name(a) for a in (ORG_COLUMN, *aliases)}
    return next((c for c in columns if normalise_name(c) in wanted), None)


def _staged_files(folder: Path) -> list[Path]:
    """The files of a national folder that are staged (hidden and Excel lock files are not)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "~$")) for part in p.relative_to(folder).parts)
    )


def tree_sha256(folder: str | Path) -> str:
    """SHA-256 (hex) of a folder's staged files: their paths (relative, with ``/``) and
    contents, in name order; the same files give the same digest on any system."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for p in _staged_files(folder):
        digest.update(f"{p.relative_to(folder).as_posix()}\0{file_sha256(p)}\n".encode())
    return digest.hexdigest()


def _header(path: Path) -> list[str]:
    return list(read_table(path, nrows=0, notes=[]).columns)


class StagingPlan:
    """What happens to each file of a data folder: ``filter``, ``copy`` or ``skip``.

    ``filtered`` and ``copied`` hold the names files are staged under;
    ``sources`` maps such a name to the file it is read from when they differ
    (``{"responses.csv": "responses.xlsx"}``). ``skipped`` holds source names.
    ``copied_dirs`` holds the national folders copied whole (``["national"]``).
    """

    def __init__(
        self,
        filtered: list[str],
        copied: list[str],
        skipped: list[str],
        sources: dict[str, str] | None = None,
        copied_dirs: list[str] | None = None,
    ) -> None:
        self.filtered = filtered
        self.copied = copied
        self.skipped = skipped
        self.sources = dict(sources or {})
        self.copied_dirs = list(copied_dirs or [])

    def source(self, name: str) -> str:
        """The file in the data folder that the staged file ``name`` is made from."""
        return self.sources.get(name, name)

    def __repr__(self) -> str:
        return (
            f"StagingPlan(filtered={self.filtered}, copied={self.copied}, skipped={self.skipped}, "
            f"copied_dirs={self.copied_dirs})"
        )


def plan_staging(
    data_dir: str | Path,
    record_files: Iterable[str] = RECORD_FILES,
    aggregate_files: Iterable[str] = AGGREGATE_FILES,
    org_filtered: Iterable[str] = ORG_FILTERED_AGGREGATES,
    aggregate_dirs: Iterable[str] = AGGREGATE_DIRS,
) -> StagingPlan:
    """Decide, per file in ``data_dir`` (top level), whether it is filtered, copied or skipped;
    the folders named in ``aggregate_dirs`` (``national/``) are copied whole.

    Tables (CSV or Excel) are located with :func:`find_input` and decided by
    their staged name, so ``responses.xlsx`` is the record-level ``responses.csv``.
    Raises :class:`BatchError` when a listed record-level file has no
    ``org_code`` column (it could not be split by organisation), and
    :class:`~pxlib.errors.DataValidationError` when a table cannot be read or two
    files hold one table.
    """
    data_dir = Path(data_dir)
    record = {staged_name(n) for n in record_files}
    aggregate = {staged_name(n) for n in aggregate_files}
    org_filtered = {staged_name(n) for n in org_filtered}
    known = {n.lower(): n for n in (*record, *aggregate, *org_filtered, *FILE_NAMES.values())}
    filtered, copied, skipped = [], [], []
    sources: dict[str, str] = {}
    wanted_dirs = {d.lower() for d in aggregate_dirs}
    copied_dirs = sorted(
        p.name for p in data_dir.iterdir() if p.is_dir() and p.name.lower() in wanted_dirs
    )
    for path in sorted(p for p in data_dir.iterdir() if p.is_file()):
        if path.name.startswith((".", "~$")):  # hidden files, Excel's lock files
            continue
        table = (path.stem + ".csv").lower()
        if path.suffix.lower() not in INPUT_SUFFIXES and table not in known:
            _plan_other_file(path, record | org_filtered, aggregate, copied, skipped)
            continue
        name = known.get(table, staged_name(path.name))
        if name in sources:
            continue
        source = find_input(data_dir, name)  # refuses two files for one table
        if source is None:  # pragma: no cover - path itself matches
            continue
        sources[name] = source.name
        if name in aggregate and name not in org_filtered:
            _header(source)  # an unreadable file stops the batch before anything runs
            copied.append(name)
            continue
        has_org = _org_column(_header(source), name) is not None
        if name in record or name in org_filtered:
            if not has_org:
                raise BatchError(
                    f"{source}: a record-level file needs an '{ORG_COLUMN}' column to be split "
                    "by organisation; add it, or list the file as aggregate in the batch config"
                )
            filtered.append(name)
        elif has_org:
            filtered.append(name)
        else:
            skipped.append(source.name)
            del sources[name]
    kept = {n: s for n, s in sources.items() if n != s}
    return StagingPlan(filtered, copied, skipped, kept, copied_dirs)


def _plan_other_file(
    path: Path, split: set[str], aggregate: set[str], copied: list[str], skipped: list[str]
) -> None:
    """A file that is not a table (README.md, a config): copied if aggregate, else skipped."""
    if path.name in split:
        raise BatchError(
            f"{path}: a record-level file needs an '{ORG_COLUMN}' column to be split "
            "by organisation, and pxlib reads tables from .csv or .xlsx files only"
        )
    (copied if path.name in aggregate else skipped).append(path.name)


def stage_organisations(
    data_dir: str | Path,
    staging_root: str | Path,
    org_codes: Iterable[str],
    plan: StagingPlan | None = None,
) -> dict[str, dict[str, str]]:
    """Write each organisation's inputs into ``staging_root/<org>/``.

    Returns ``{org: {file name: sha256 of the staged file}}``: the input
    hashes stated in the reports and used by ``--resume``; a national folder is one
    entry, ``"national/"``, with :func:`tree_sha256` of its files.
    """
    data_dir, staging_root = Path(data_dir), Path(staging_root)
    codes = list(dict.fromkeys(normalise_code(str(c)) for c in org_codes))
    plan = plan or plan_staging(data_dir)
    for name in plan.skipped:
        log.warning(
            "staging: %s is not listed as aggregate and has no %s column; not given to the notebooks",
            name,
            ORG_COLUMN,
        )
    for code in codes:
        target = staging_root / code
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
    for name in plan.copied:
        _stage_copy(data_dir / plan.source(name), name, [staging_root / c for c in codes])
    tree_hashes = {}
    for name in plan.copied_dirs:
        _stage_tree(data_dir / name, [staging_root / c / name for c in codes])
        tree_hashes[name + "/"] = tree_sha256(data_dir / name)
    for name in plan.filtered:
        frame = read_table(data_dir / plan.source(name), notes=[])
        column = _org_column(frame.columns, name)
        if column is None:
            raise BatchError(f"{data_dir / plan.source(name)}: no '{ORG_COLUMN}' column")
        groups = dict(tuple(frame.groupby(normalise_code(frame[column]), sort=False)))
        empty = frame.iloc[0:0]
        for code in codes:
            _write_csv(groups.get(code, empty), staging_root / code / name)
    return {
        code: {
            **{
                p.name: file_sha256(p)
                for p in sorted((staging_root / code).iterdir())
                if p.is_file()
            },
            **tree_hashes,
        }
        for code in codes
    }


def _stage_copy(source: Path, name: str, targets: list[Path]) -> None:
    """Copy an aggregate file to every target folder: its bytes when it is not a table
    or already a UTF-8 comma-separated CSV of that name, else the table rewritten so."""
    frame = None
    if source.suffix.lower() in INPUT_SUFFIXES:
        notes: list[str] = []
        frame = read_table(source, notes=notes)
        if source.name == name and not notes:
            frame = None
    for target in targets:
        if frame is None:
            shutil.copyfile(source, target / name)
        else:
            _write_csv(frame, target / name)


def _stage_tree(source: Path, targets: list[Path]) -> None:
    """A national folder's files, byte for byte, into every target folder: copied into the
    first, hard-linked from that staged copy into the others where the file system allows
    (the organisations' folders share it), else copied. The source is never linked."""
    files = _staged_files(source)
    first = None
    for target in targets:
        for path in files:
            rel = path.relative_to(source)
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if first is not None:
                try:
                    os.link(first / rel, dest)
                    continue
                except OSError:
                    pass
            shutil.copyfile(path, dest)
        first = first or target
        target.mkdir(parents=True, exist_ok=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A staged table: UTF-8, comma separated, the source's header and text unchanged."""
    frame.to_csv(path, index=False, encoding="utf-8")
