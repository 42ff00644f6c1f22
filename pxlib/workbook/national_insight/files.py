"""The files of a data folder's ``national/`` folder: told apart by name, each data set read
once (:class:`NationalFiles`), the FFT workbooks parsed once per contents in a process
(:func:`published`).

Files are told apart by name (:func:`find_national`): FFT workbooks are the
``.xlsx``/``.xlsm`` files not named below; GPPS practice files
``GPPS_<YYYY>_...Practice....csv`` (as published); NCPES a name containing ``cpes`` or
``cancer``; CQC an ``.ods`` file or a name containing ``benchmark`` or a survey code such
as ``IP20``; NHS Staff Survey a name containing ``staff``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from pxlib.errors import PxlibError, PxlibWarning

if TYPE_CHECKING:
    from pxlib.data.national import FFTLevels

__all__ = ["NATIONAL_DIR", "NationalFiles", "Unreadable", "find_national", "published"]

#: the folder of the data folder holding the national files
NATIONAL_DIR = "national"

_GPPS_NAME = re.compile(r"^gpps_\d{4}_.*practice.*\.(csv|xlsx)$", re.I)
_CQC_NAME = re.compile(r"benchmark|(?<![a-z])(ip|cmh|uec)\d{2}(?!\d)|trust_scores", re.I)
_TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".ods")


#: published files already read in this process: {(kind, contents digest): value}
_PUBLISHED: dict[tuple[str, str], Any] = {}
_PUBLISHED_KEEP = 2


def _digest(paths: Iterable[Path]) -> str:
    """SHA-256 of the files' names and bytes, in the order given."""
    import hashlib

    from pxlib.report.isolation import file_sha256

    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def published(kind: str, paths: list[Path], read: Callable[[], Any]) -> Any:
    """``read()``, or a copy of what it gave for the same files (by content) before in
    this process. A batch kernel makes many organisations' reports in turn
    (:mod:`pxlib.report.kernel_state`) and each has the same published national files
    (copied byte for byte to every organisation: aggregate figures, no record of anyone),
    so they are parsed once; a frame from them names files, never a folder. Errors are
    not kept (their text names the folder)."""
    key = (kind, _digest(paths))
    if key not in _PUBLISHED:
        value = read()
        while len(_PUBLISHED) >= _PUBLISHED_KEEP:
            _PUBLISHED.pop(next(iter(_PUBLISHED)))
        _PUBLISHED[key] = value
    value = _PUBLISHED[key]
    if isinstance(value, dict):
        return type(value)({k: v.copy() for k, v in value.items()})
    return value.copy()


@dataclass
class NationalFiles:
    """The national files of a data folder, told apart by name (module docstring), with
    each data set read once (``*_frame`` methods; a reading error is raised again)."""

    folder: Path
    fft: list[Path] = field(default_factory=list)
    gpps: list[Path] = field(default_factory=list)
    ncpes: list[Path] = field(default_factory=list)
    cqc: list[Path] = field(default_factory=list)
    staff: list[Path] = field(default_factory=list)
    _cache: dict[object, tuple[Any, PxlibError | None]] = field(default_factory=dict, repr=False)

    def _once(self, key: object, read: Callable[[], Any]) -> Any:
        if key not in self._cache:
            try:
                self._cache[key] = (read(), None)
            except PxlibError as exc:
                self._cache[key] = (None, exc)
        value, error = self._cache[key]
        if error is not None:
            raise error
        return value

    def fft_frames(self, workers: int = 1) -> FFTLevels:
        """Inpatient FFT of every workbook: :func:`pxlib.data.national.read_fft_dir`, shared
        with the kernel's later reports by the workbooks' contents (:func:`published`)."""
        from pxlib.data.national import read_fft_dir

        def read() -> FFTLevels:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PxlibWarning)
                levels = read_fft_dir(
                    self.folder, setting="inpatient", files=self.fft, workers=workers
                )
                return cast("FFTLevels", levels)  # level=None: every level

        return self._once("fft", lambda: published("fft", self.fft, read))

    def gpps_frame(self, item: str) -> pd.DataFrame:
        """One item of every GPPS practice file: :func:`pxlib.data.national.read_gpps_dir`."""
        from pxlib.data.national import read_gpps_dir

        return self._once(("gpps", item), lambda: read_gpps_dir(self.folder, items=[item]))

    def ncpes_frame(self) -> pd.DataFrame:
        from pxlib.data.national import read_ncpes

        return self._once(
            "ncpes", lambda: pd.concat([read_ncpes(p) for p in self.ncpes], ignore_index=True)
        )

    def cqc_frame(self) -> pd.DataFrame:
        from pxlib.data.national import read_cqc

        return self._once(
            "cqc", lambda: pd.concat([read_cqc(p).scores for p in self.cqc], ignore_index=True)
        )

    def staff_frame(self) -> pd.DataFrame:
        from pxlib.data.national import read_staff_survey

        return self._once(
            "staff",
            lambda: pd.concat([read_staff_survey(p) for p in self.staff], ignore_index=True),
        )


class Unreadable(PxlibError):
    """A national data set that cannot be used as it is (the message says why)."""


def find_national(data_dir: str | Path | NationalFiles) -> NationalFiles:
    """The national files of ``data_dir/national/`` (none when the folder is absent)."""
    if isinstance(data_dir, NationalFiles):
        return data_dir
    folder = Path(data_dir) / NATIONAL_DIR
    found = NationalFiles(folder)
    if not folder.is_dir():
        return found
    for p in sorted(folder.iterdir()):
        name = p.name.lower()
        if (
            not p.is_file()
            or name.startswith((".", "~$"))
            or p.suffix.lower() not in _TABLE_SUFFIXES
        ):
            continue
        if _GPPS_NAME.match(p.name):
            found.gpps.append(p)
        elif "staff" in name:
            found.staff.append(p)
        elif "cpes" in name or "cancer" in name:
            found.ncpes.append(p)
        elif p.suffix.lower() == ".ods" or _CQC_NAME.search(p.stem):
            found.cqc.append(p)
        elif p.suffix.lower() in (".xlsx", ".xlsm"):
            found.fft.append(p)
    return found
