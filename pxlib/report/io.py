"""Atomic writes: a file replaced whole or not at all.

Every file the batch and the notebooks leave beside the reports (the reports
themselves, ``results.csv``, the resume manifest, ``*.results.json``, the
index, ``plotly.min.js``) is written through :func:`atomic_write_text`, so a
killed run never leaves a file that looks complete but is cut short.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_text"]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path``: a temporary file, then ``os.replace``.

    The folder is made if missing; the file gets the permissions an ordinary
    new file would (the umask's), not the owner-only ones of a temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        # mkstemp creates the file readable by its owner only; give it the permissions
        # an ordinary file would get, so reports on a shared drive can be opened by colleagues.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
