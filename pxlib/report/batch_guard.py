"""How a batch looks after its folders and processes: leftovers of killed runs
(work folders, staging, kernel sockets), the log file, the lock that keeps a
second batch out of the same ``<out>`` (:class:`OutLock`, ``flock`` on POSIX),
the private staging folder of the organisations' inputs (mode 0700, outside
``<out>``, removed however the batch ends) and SIGTERM ending a batch as Ctrl-C
does (:class:`BatchTerminated`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pxlib.errors import (
    BatchError,
)

__all__ = [
    "BatchTerminated",
    "OutLock",
    "busy_message",
]

log = logging.getLogger("pxlib.report")

LOCK_NAME = ".pxlib-batch.lock"
#: where older versions staged inputs, inside <out>; removed at start
LEGACY_STAGING_NAME = ".staging"
#: private staging folders: ``pxlib-staging-<pid>-<random>`` in the temp folder
STAGING_PREFIX = "pxlib-staging-"
KERNELS_PREFIX = "pxlib-kernels-"


# --- leftovers of killed runs, kernel sockets, the log --------------------------------


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (it is never signalled)."""
    if pid <= 0:
        return False
    if os.name != "posix":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    """``os.kill(pid, 0)`` would end the process on Windows: ask for its exit code."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _owner_pid(folder: Path, prefix: str) -> int | None:
    """The PID in ``<prefix><pid>-<random>``, or None for another name."""
    pid, sep, _ = folder.name.removeprefix(prefix).partition("-")
    return int(pid) if sep and pid.isdigit() else None


def _remove_dead_folders(base: Path, prefix: str) -> list[Path]:
    """Remove this user's ``<prefix><pid>-*`` folders in ``base`` whose process is gone."""
    removed: list[Path] = []
    for old in base.glob(f"{prefix}*"):
        pid = _owner_pid(old, prefix)
        if pid is None or old.is_symlink() or not old.is_dir() or _pid_alive(pid):
            continue
        try:
            if hasattr(os, "getuid") and old.stat().st_uid != os.getuid():
                continue
        except OSError:  # removed as we looked
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed


@contextlib.contextmanager
def _kernel_runtime() -> Iterator[str | None]:
    """A folder for this run's kernel sockets (POSIX; None elsewhere), removed at the end.

    Folders left by runs that were killed (their process is gone) are removed
    first, so sockets of hard-killed kernels do not pile up in the temp folder.
    """
    if os.name != "posix":
        yield None
        return
    base = Path(tempfile.gettempdir())
    _remove_dead_folders(base, KERNELS_PREFIX)
    folder = tempfile.mkdtemp(prefix=f"{KERNELS_PREFIX}{os.getpid()}-", dir=base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_partial_writes(out_dir: Path) -> None:
    """Delete what a killed run left half-done in ``out_dir``.

    Temporary files (``.<name>.<random>.tmp``: every output is written to one
    and renamed into place, so a leftover is never a finished output) and
    report work folders (``<org>/.work-<notebook>``). Called under the
    ``--out`` lock: no other batch is writing there.
    """
    for leftover in [*out_dir.glob(".*.tmp"), *out_dir.glob("*/.*.tmp")]:
        leftover.unlink(missing_ok=True)
    for work in out_dir.glob("*/.work-*"):
        if work.is_dir() and not work.is_symlink():
            shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """Batch log records also go to ``path`` for the duration."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        handler.close()


# --- one batch at a time per output folder -------------------------------------------

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
#: hold the lock with flock (released by the OS however its holder ends); else O_EXCL
_HAVE_FLOCK: bool = fcntl is not None
#: flock errors of file systems without flock (some network shares): use the fallback
_NO_FLOCK_ERRNOS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", 95)})
#: a fallback lock file nobody could read is taken over after this many seconds
_UNREADABLE_LOCK_SECONDS = 60.0


def _format_started(value: object) -> str:
    """``2026-12-02T03:10:27+00:00`` -> ``2026-12-02 03:10 UTC``."""
    try:
        when = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def busy_message(holder: Mapping[str, Any] | None, out_dir: Path) -> str:
    """The refusal a second batch into ``out_dir`` prints."""
    if holder:
        who = (
            f"another pxlib batch (PID {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"started {_format_started(holder.get('started', '?'))})"
        )
    else:
        who = "another pxlib batch"
    return f"{who} is writing to {out_dir}; wait for it or choose another --out"


class OutLock:
    """One batch at a time writes to an output folder: ``<out>/.pxlib-batch.lock``.

    On POSIX the file is held with ``flock(LOCK_EX | LOCK_NB)``: the operating
    system releases it when the holder ends, even by SIGKILL, so a lock is
    never stale. Elsewhere it is created with ``O_CREAT | O_EXCL``, and one
    whose process (on this host) is gone is taken over. The file's content
    (JSON: pid, host, started) only names the holder in the refusal.
    Use as a context manager; :meth:`acquire` raises
    :class:`~pxlib.errors.BatchError` when another batch holds it.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_NAME
        self._fd: int | None = None
        self._flocked = False

    def __enter__(self) -> OutLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise :class:`BatchError` naming its holder."""
        if self._fd is not None:
            return
        fd = self._take_flock() if _HAVE_FLOCK else None
        self._flocked = fd is not None
        if fd is None:
            fd = self._take_exclusive()
        try:
            info = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(info) + "\n").encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up and remove the file (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._flocked:  # removed while still held: a waiting opener sees it gone
            self.path.unlink(missing_ok=True)
            os.close(fd)
        else:  # Windows cannot remove an open file
            os.close(fd)
            self.path.unlink(missing_ok=True)

    def holder(self, wait: float = 0.0) -> dict[str, Any] | None:
        """The lock file's content (None when unreadable), read again for up to ``wait`` s.

        A holder writes it just after taking the lock, so a reader may briefly
        find it empty.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    return data
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def _busy(self, holder: Mapping[str, Any] | None, fallback: bool = False) -> BatchError:
        message = busy_message(holder, self.out_dir)
        if fallback:  # a lock file is not released by the system: say how to clear one
            message += f" (if no batch is running there, delete {self.path})"
        return BatchError(message)

    def _open(self) -> tuple[int, bool]:
        """The lock file opened for writing, and whether this call created it."""
        while True:
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
            except FileExistsError:
                pass
            try:
                return os.open(self.path, os.O_RDWR), False
            except FileNotFoundError:  # removed as we looked: create it
                continue

    def _take_flock(self) -> int | None:
        """The lock file, held with flock; None where its file system cannot flock."""
        while True:
            fd, created = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._busy(self.holder(wait=1.0)) from None
            except OSError as exc:
                os.close(fd)
                if exc.errno not in _NO_FLOCK_ERRNOS:
                    raise
                if created:
                    self.path.unlink(missing_ok=True)
                log.info("%s: this file system cannot flock; using an exclusive file", self.path)
                return None
            except BaseException:
                os.close(fd)
                raise
            try:
                same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:
                return fd
            os.close(fd)  # its holder removed it as we opened it: open the new one

    def _take_exclusive(self) -> int:
        for _ in range(5):
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self.holder(wait=1.0)
                if not self._is_stale(holder):
                    raise self._busy(holder, fallback=True) from None
                log.info("taking over the lock of a batch that ended: %s", holder)
                self.path.unlink(missing_ok=True)
        raise self._busy(self.holder(), fallback=True)

    def _is_stale(self, holder: Mapping[str, Any] | None) -> bool:
        """A fallback lock whose process is gone (only checkable on this host)."""
        if holder is None:
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return True
            return age > _UNREADABLE_LOCK_SECONDS
        pid = holder.get("pid")
        return (
            holder.get("host") == socket.gethostname()
            and isinstance(pid, int)
            and not _pid_alive(pid)
        )


def _remove_legacy_staging(out_dir: Path) -> None:
    """Remove ``<out>/.staging`` left by older versions (record-level data; under the lock)."""
    legacy = out_dir / LEGACY_STAGING_NAME
    if legacy.is_symlink():
        legacy.unlink()
    elif legacy.is_dir():
        shutil.rmtree(legacy, ignore_errors=True)
        log.info("removed %s, staged inputs left by an older pxlib", legacy)


# --- private staging ------------------------------------------------------------------


def _staging_base(staging_dir: str | Path | None, out_dir: Path) -> Path:
    """Where the private staging folder goes: ``staging_dir`` or the temp folder.

    Refused inside ``out_dir`` (the folder people share).
    """
    base = Path(staging_dir or tempfile.gettempdir()).resolve()
    if base == out_dir or base.is_relative_to(out_dir):
        raise BatchError(
            f"the staging folder {base} is inside --out {out_dir}: staged inputs hold "
            "record-level data and must be kept outside the folder of reports"
        )
    return base


def _remove_staging(root: Path, out_dir: Path) -> None:
    """Delete a staging folder this batch made (never anything inside ``out_dir``)."""
    if root.resolve().is_relative_to(out_dir):  # pragma: no cover - refused at start
        raise BatchError(f"refusing to delete {root}: it is inside --out {out_dir}")
    shutil.rmtree(root, ignore_errors=True)
    if root.exists():
        log.warning(
            "could not remove the staging folder %s: delete it (it holds record-level data)", root
        )


@contextlib.contextmanager
def _private_staging(base: Path, out_dir: Path, keep: bool = False) -> Iterator[Path]:
    """A new ``<base>/pxlib-staging-<pid>-<random>`` (mode 0700), removed at the end.

    Staging folders of batches whose process is gone (killed outright) are
    removed first. ``keep=True`` leaves this one (to debug) and logs where it is.
    """
    base.mkdir(parents=True, exist_ok=True)
    for old in _remove_dead_folders(base, STAGING_PREFIX):
        log.info("removed %s, staged inputs of a batch that was killed", old)
    root = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=base))
    try:
        yield root
    finally:
        if keep:
            log.warning(
                "staging kept in %s (keep_staging): it holds record-level data; delete it when done",
                root,
            )
        else:
            _remove_staging(root, out_dir)


# --- SIGTERM ends a batch as Ctrl-C does ---------------------------------------------


class BatchTerminated(KeyboardInterrupt):
    """SIGTERM arrived during a batch; handled as Ctrl-C (clean-up runs, exit 130)."""


def _interrupt_workers() -> None:
    """Pass an interruption on to the pool's workers (as a terminal's Ctrl-C reaches them)."""
    if os.name != "posix":
        return
    try:
        children = multiprocessing.active_children()
    except Exception:  # pragma: no cover - the pool changing as we look
        return
    for child in children:
        if child.pid:
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGINT)


@contextlib.contextmanager
def _sigterm_interrupts(forward_to_workers: bool) -> Iterator[None]:
    """For the duration, SIGTERM raises :class:`BatchTerminated` in the main thread.

    So ``finally`` clauses run (staging removed, lock released). A further
    SIGTERM during the clean-up is ignored; the previous handler is restored at
    the end. Does nothing outside the main thread (signals go to it only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    fired = False

    def on_sigterm(signum: int, frame: object) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        if forward_to_workers:
            _interrupt_workers()
        raise BatchTerminated("SIGTERM")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
