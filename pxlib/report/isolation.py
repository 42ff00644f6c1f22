"""Per-organisation staging of batch inputs.

Before an organisation's notebooks run, its inputs are copied into a folder of
its own (``<out>/.staging/<org>/``) and the notebooks are pointed there, so a
report can only ever see that organisation's records:

* **record-level files** (:data:`RECORD_FILES`, plus any other CSV with an
  ``org_code`` column that is not listed in :data:`AGGREGATE_FILES`) are
  filtered to the rows whose ``org_code`` equals the organisation's code. They
  are read as text (``dtype=str, keep_default_na=False``) so no value changes,
  and written back with the same header;
* **aggregate and reference files** (:data:`AGGREGATE_FILES`: published
  national figures, the organisation list, the question bank) are copied;
  :data:`ORG_FILTERED_AGGREGATES` (``units.csv``) are filtered too;
* anything else is left out (and logged): a file the batch cannot attribute
  to one organisation is not handed to every organisation.

Each source file is read once for all organisations (one group-by), so staging
a hundred organisations costs about one pass over the data.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pxlib.errors import BatchError

__all__ = [
    "ORG_COLUMN",
    "RECORD_FILES",
    "AGGREGATE_FILES",
    "ORG_FILTERED_AGGREGATES",
    "StagingPlan",
    "plan_staging",
    "stage_organisations",
    "file_sha256",
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


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _csv_header(path: Path) -> list[str]:
    return list(pd.read_csv(path, dtype=str, keep_default_na=False, nrows=0).columns)


class StagingPlan:
    """What happens to each file of a data folder: ``filter``, ``copy`` or ``skip``."""

    def __init__(self, filtered: list[str], copied: list[str], skipped: list[str]) -> None:
        self.filtered = filtered
        self.copied = copied
        self.skipped = skipped

    def __repr__(self) -> str:
        return (
            f"StagingPlan(filtered={self.filtered}, copied={self.copied}, skipped={self.skipped})"
        )


def plan_staging(
    data_dir: str | Path,
    record_files: Iterable[str] = RECORD_FILES,
    aggregate_files: Iterable[str] = AGGREGATE_FILES,
    org_filtered: Iterable[str] = ORG_FILTERED_AGGREGATES,
) -> StagingPlan:
    """Decide, per file in ``data_dir`` (top level), whether it is filtered, copied or skipped.

    Raises :class:`BatchError` when a listed record-level file has no
    ``org_code`` column: it could not be split by organisation.
    """
    data_dir = Path(data_dir)
    record_files, aggregate_files = set(record_files), set(aggregate_files)
    org_filtered = set(org_filtered)
    filtered, copied, skipped = [], [], []
    for path in sorted(p for p in data_dir.iterdir() if p.is_file()):
        name = path.name
        if name.startswith("."):
            continue
        is_csv = name.lower().endswith(".csv")
        if name in aggregate_files and name not in org_filtered:
            copied.append(name)
            continue
        has_org = is_csv and ORG_COLUMN in _csv_header(path)
        if name in record_files or name in org_filtered:
            if not has_org:
                raise BatchError(
                    f"{path}: a record-level file needs an '{ORG_COLUMN}' column to be split "
                    "by organisation; add it, or list the file as aggregate in the batch config"
                )
            filtered.append(name)
        elif has_org:
            filtered.append(name)
        else:
            skipped.append(name)
    return StagingPlan(filtered, copied, skipped)


def stage_organisations(
    data_dir: str | Path,
    staging_root: str | Path,
    org_codes: Iterable[str],
    plan: StagingPlan | None = None,
) -> dict[str, dict[str, str]]:
    """Write each organisation's inputs into ``staging_root/<org>/``.

    Returns ``{org: {file name: sha256 of the staged file}}``: the input
    hashes stated in the reports and used by ``--resume``.
    """
    data_dir, staging_root = Path(data_dir), Path(staging_root)
    codes = list(dict.fromkeys(str(c) for c in org_codes))
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
        for code in codes:
            shutil.copyfile(data_dir / name, staging_root / code / name)
    for name in plan.filtered:
        frame = pd.read_csv(data_dir / name, dtype=str, keep_default_na=False)
        groups = dict(tuple(frame.groupby(ORG_COLUMN, sort=False)))
        empty = frame.iloc[0:0]
        for code in codes:
            groups.get(code, empty).to_csv(staging_root / code / name, index=False)
    return {
        code: {
            p.name: file_sha256(p) for p in sorted((staging_root / code).iterdir()) if p.is_file()
        }
        for code in codes
    }
