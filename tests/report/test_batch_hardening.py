"""``pxlib batch`` against a hostile tester: two runs into one ``--out``, record-level
data left behind by failures and kills, exit statuses, ``--as-of``.

Notebooks run on tiny data (:mod:`batch_helpers`) with the fixture notebooks and
three small probes built here: ``03_probe`` records the ``data_dir`` it was given
(and fails for ZZ3), ``04_slow`` marks that it started and sleeps, ``05_as_of``
declares ``as_of``. Tests that need no kernel are fast; the others take seconds.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from batch_helpers import FIXTURES, make_data

from pxlib.errors import (
    EXIT_COULD_NOT_RUN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REPORTS_FAILED,
    BatchError,
    ParameterError,
)
from pxlib.report import add_batch_arguments, batch_guard, run_batch, run_batch_from_args
from pxlib.report import batch as batch_mod

POSIX = os.name == "posix"
LOCK = ".pxlib-batch.lock"
BATCH_PARAMS = 'trust_code: str = "ZZ1"\ndata_dir: str = "."\noutput_dir: str = "."\ninteractive: bool = True\n'
PROBE = """\
import json, stat
from pathlib import Path
staged = Path(data_dir).resolve()
Path(output_dir, "probe.json").write_text(json.dumps({
    "data_dir": str(staged),
    "had_inputs": (staged / "responses.csv").is_file(),
    "root_mode": stat.S_IMODE(staged.parent.stat().st_mode),
}))
if trust_code == "ZZ3":
    raise ValueError("the probe fails for ZZ3")
"""
SLOW = """\
import time
from pathlib import Path
Path(output_dir, "started").write_text(data_dir)
time.sleep(sleep)
"""
AS_OF = """\
import json
from pathlib import Path
Path(output_dir, "as_of.json").write_text(json.dumps({"as_of": as_of}))
"""


def _write_notebook(folder: Path, stem: str, extra_params: str, body: str) -> None:
    params = nbformat.v4.new_code_cell(BATCH_PARAMS + extra_params)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {stem}"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "display_name": "Python (pxlib)",
        "language": "python",
        "name": "pxlib",
    }
    nbformat.write(nb, folder / f"{stem}.ipynb")


def _notebooks(folder: Path) -> Path:
    """The fixture notebooks 01 and 02 beside the three probes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("01_fixture_summary.ipynb", "02_fixture_check.ipynb"):
        shutil.copy(FIXTURES / name, folder / name)
    _write_notebook(folder, "03_probe", "", PROBE)
    _write_notebook(folder, "04_slow", "sleep: float = 0.0\n", SLOW)
    _write_notebook(folder, "05_as_of", 'as_of: str = ""\n', AS_OF)
    return folder


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(data folder, notebooks folder, output folder)."""
    return make_data(tmp_path / "data"), _notebooks(tmp_path / "nbs"), tmp_path / "out"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    return parser.parse_args(list(argv))


def _common(data: Path, nbs: Path, out: Path) -> list[str]:
    return ["--data", str(data), "--out", str(out), "--notebooks-dir", str(nbs), "--no-progress"]


def _staging_of(pid: int, base: str | Path | None = None) -> list[Path]:
    return sorted(Path(base or tempfile.gettempdir()).glob(f"pxlib-staging-{pid}-*"))


def _inside(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def _start_batch(argv: list[str]) -> subprocess.Popen:
    """``pxlib batch ARGV`` in a process group of its own."""
    code = "import sys; from pxlib.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, "batch", *argv],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(pattern: str, out: Path, proc: subprocess.Popen, seconds: float = 120) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(out.glob(pattern))
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"the batch ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"{pattern} did not appear in {out}")


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen]]:
    """Batches started by a test; any still running at the end are killed."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- 1. one batch at a time per --out -------------------------------------------------


@pytest.mark.skipif(not POSIX, reason="holds the lock with flock")
def test_a_run_into_a_busy_out_is_refused_naming_the_holder_and_writes_nothing(setup):
    import fcntl

    data, nbs, out = setup
    out.mkdir()
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(
            fd,
            json.dumps(
                {"pid": 1234, "host": "ward-pc", "started": "2026-12-02T03:10:27+00:00"}
            ).encode(),
        )
        with pytest.raises(BatchError) as refused:
            run_batch(
                data, out, trusts=["ZZ1"], notebooks=["01"], notebooks_dir=nbs, progress=False
            )
    finally:
        os.close(fd)
    assert str(refused.value) == (
        f"another pxlib batch (PID 1234 on ward-pc, started 2026-12-02 03:10 UTC) is writing to "
        f"{out.resolve()}; wait for it or choose another --out"
    )
    assert sorted(os.listdir(out)) == [LOCK]  # no log, no plotly.js, no staging


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="uses process groups")
def test_a_second_batch_is_refused_at_once_and_the_first_finishes_intact(setup, running, capsys):
    data, nbs, out = setup
    first = _start_batch(
        [
            *_common(data, nbs, out),
            "--trusts",
            "ZZ1",
            "--notebooks",
            "01",
            "04",
            "--workers",
            "1",
            "--param",
            "sleep=8",  # the second run must come while the first still runs
        ]
    )
    running.append(first)
    _wait_for("ZZ1/.work-04_slow/started", out, first)
    report = out / "ZZ1" / "01_fixture_summary.html"
    before = report.read_bytes()
    capsys.readouterr()

    t0 = time.monotonic()
    status = run_batch_from_args(
        _args(*_common(data, nbs, out), "--trusts", "ZZ1", "010", "--notebooks", "01")
    )
    assert status == EXIT_COULD_NOT_RUN
    assert time.monotonic() - t0 < 10  # refused at once, before any kernel
    err = capsys.readouterr().err
    assert f"another pxlib batch (PID {first.pid} on {socket.gethostname()}, started " in err
    assert f"is writing to {out.resolve()}; wait for it or choose another --out" in err
    assert report.read_bytes() == before
    assert not (out / "010").exists()
    assert _staging_of(first.pid)  # the first run's inputs were not touched

    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == EXIT_OK, stderr
    results = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    assert results["status"].tolist() == ["ok", "ok"]
    assert report.read_bytes() == before
    assert (out / "ZZ1" / "04_slow.html").is_file()
    assert (out / "batch.log").read_text(encoding="utf-8").count("batch started") == 1
    assert not (out / LOCK).exists()  # released
    assert not _staging_of(first.pid)


def test_the_fallback_lock_takes_over_from_a_dead_holder_and_refuses_a_live_one(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(batch_guard, "_HAVE_FLOCK", False)  # as on Windows
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock_file = tmp_path / LOCK
    holder = {"host": socket.gethostname(), "started": "2026-12-02T03:10:00+00:00"}
    lock_file.write_text(json.dumps({**holder, "pid": int(dead.stdout)}))
    with batch_guard.OutLock(tmp_path):
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        with pytest.raises(BatchError, match=f"PID {os.getpid()} on "):
            batch_guard.OutLock(tmp_path).acquire()
    assert not lock_file.exists()
    lock_file.write_text(json.dumps({**holder, "pid": os.getppid()}))  # alive
    with pytest.raises(BatchError, match=f"PID {os.getppid()} on .* started 2026-12-02 03:10 UTC"):
        batch_guard.OutLock(tmp_path).acquire()
    assert lock_file.exists()  # another's lock is left alone


def test_a_file_system_without_flock_falls_back_to_an_exclusive_lock_file(tmp_path, monkeypatch):
    class NoFlock:  # as on some network shares
        LOCK_EX, LOCK_NB = 2, 4

        @staticmethod
        def flock(fd: int, operation: int) -> None:
            raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(batch_guard, "fcntl", NoFlock)
    with batch_guard.OutLock(tmp_path):
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
        with pytest.raises(BatchError, match=f"PID {os.getpid()} on .*delete .*lock"):
            batch_guard.OutLock(tmp_path).acquire()
    assert not (tmp_path / LOCK).exists()


# --- 2. no record-level data left behind ---------------------------------------------


@pytest.mark.notebooks
@pytest.mark.slow
def test_staging_is_private_outside_out_and_gone_after_a_failing_trust(setup, capsys):
    data, nbs, out = setup
    status = run_batch_from_args(
        _args(
            *_common(data, nbs, out),
            "--trusts",
            "ZZ1",
            "ZZ3",
            "--notebooks",
            "01",
            "03",
            "--workers",
            "2",
        )
    )
    assert status == EXIT_REPORTS_FAILED
    results = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    assert results.set_index(["trust_code", "notebook"])["status"].to_dict() == {
        ("ZZ1", "01_fixture_summary"): "ok",
        ("ZZ1", "03_probe"): "ok",
        ("ZZ3", "01_fixture_summary"): "ok",
        ("ZZ3", "03_probe"): "failed",
    }
    seen = json.loads((out / "ZZ1" / "probe.json").read_text())
    staged = Path(seen["data_dir"])
    assert seen["had_inputs"] and staged.name == "ZZ1"
    assert not _inside(staged, out) and not _inside(staged, data)
    assert staged.parent.name.startswith(f"pxlib-staging-{os.getpid()}-")
    if POSIX:
        assert seen["root_mode"] == 0o700
    # nothing of the staging is left, for the failed organisation either
    assert not staged.parent.exists() and not _staging_of(os.getpid())
    assert not (out / ".staging").exists()
    assert not [p for p in out.rglob("*") if p.name == "responses.csv"]
    assert not (out / LOCK).exists()
    # the failure's clean-up removed no finished report
    assert (out / "ZZ3" / "01_fixture_summary.html").is_file()
    assert not (out / "ZZ3" / "03_probe.html").exists()
    # the notebooks were given the staged copy; the provenance names the real data folder
    nb = nbformat.read(out / "ZZ1" / "03_probe.ipynb", as_version=4)
    assert Path(nb.metadata["papermill"]["parameters"]["data_dir"]) == staged
    assert nb.metadata["pxlib"]["parameters"]["data_dir"] == str(data.resolve())
    html = (out / "ZZ1" / "03_probe.html").read_text(encoding="utf-8")
    assert str(data.resolve()) in html and "pxlib-staging-" not in html
    assert "pxlib-staging-" not in (out / "index.html").read_text(encoding="utf-8")


def test_ctrl_c_removes_the_staging_and_releases_the_lock(setup, monkeypatch, capsys):
    data, nbs, out = setup
    seen: list[Path] = []
    handler = signal.getsignal(signal.SIGTERM)

    def interrupted(jobs, *args, **kwargs):
        seen.append(Path(jobs[0].parameters["data_dir"]))
        assert (seen[0] / "responses.csv").is_file()
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_mod, "_run_pool", interrupted)
    status = run_batch_from_args(
        _args(*_common(data, nbs, out), "--trusts", "ZZ1", "--notebooks", "01")
    )
    assert status == EXIT_INTERRUPTED
    assert "interrupted; run again with --resume" in capsys.readouterr().err
    assert seen and not _inside(seen[0], out) and not seen[0].parent.exists()
    assert not (out / ".staging").exists() and not _staging_of(os.getpid())
    assert not (out / LOCK).exists()
    assert signal.getsignal(signal.SIGTERM) == handler  # restored


def test_an_exception_removes_the_staging_too_unless_kept_to_debug(setup, monkeypatch, caplog):
    data, nbs, out = setup

    def broken(jobs, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(batch_mod, "_run_pool", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_batch(data, out, trusts=["ZZ1"], notebooks=["01"], notebooks_dir=nbs, progress=False)
    assert not _staging_of(os.getpid()) and not (out / ".staging").exists()
    assert not (out / LOCK).exists()

    base = out.parent / "debug-staging"
    base.mkdir()
    with pytest.raises(RuntimeError):
        run_batch(
            data,
            out,
            trusts=["ZZ1"],
            notebooks=["01"],
            notebooks_dir=nbs,
            progress=False,
            keep_staging=True,
            staging_dir=base,
        )
    kept = _staging_of(os.getpid(), base)
    assert len(kept) == 1 and (kept[0] / "ZZ1" / "responses.csv").is_file()
    assert f"staging kept in {kept[0]}" in (out / "batch.log").read_text(encoding="utf-8")


def test_a_staging_folder_inside_out_is_refused(setup):
    data, nbs, out = setup
    with pytest.raises(BatchError, match="outside"):
        run_batch(
            data,
            out,
            trusts=["ZZ1"],
            notebooks=["01"],
            notebooks_dir=nbs,
            progress=False,
            staging_dir=out / "tmp",
        )
    assert not out.exists()


def test_staging_of_dead_runs_and_a_legacy_staging_folder_are_removed_at_start(setup, monkeypatch):
    data, nbs, out = setup
    base = out.parent / "tmp"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_dir = base / f"pxlib-staging-{int(dead.stdout)}-abc123"
    alive_dir = base / f"pxlib-staging-{os.getppid()}-def456"
    other = base / "pxlib-staging-notapid-x"
    for folder in (dead_dir, alive_dir, other):
        (folder / "ZZ1").mkdir(parents=True)
        (folder / "ZZ1" / "responses.csv").write_text("org_code\nZZ1\n")
    legacy = out / ".staging" / "ZZ1"
    legacy.mkdir(parents=True)
    (legacy / "responses.csv").write_text("org_code,comment\nZZ1,secret\n")
    monkeypatch.setattr(batch_mod, "_run_pool", lambda *a, **k: None)
    run_batch(
        data,
        out,
        trusts=["ZZ1"],
        notebooks=["01"],
        notebooks_dir=nbs,
        progress=False,
        staging_dir=base,
    )
    assert not dead_dir.exists()
    assert alive_dir.exists() and other.exists()
    assert not (out / ".staging").exists()


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="sends signals to a process group")
def test_sigterm_ends_a_batch_with_130_and_leaves_no_staging(setup, running):
    data, nbs, out = setup
    proc = _start_batch(
        [
            *_common(data, nbs, out),
            "--trusts",
            "ZZ1",
            "--notebooks",
            "01",
            "04",
            "--workers",
            "1",
            "--param",
            "sleep=120",
        ]
    )
    running.append(proc)
    marker = _wait_for("ZZ1/.work-04_slow/started", out, proc)
    staged = Path(marker.read_text())
    assert staged.is_dir() and not _inside(staged, out)  # not inside --out while running
    os.kill(proc.pid, signal.SIGTERM)  # the main process only, as `kill PID` does
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, stderr
    assert "interrupted; run again with --resume" in stderr
    assert not staged.parent.exists() and not (out / ".staging").exists()
    assert not (out / LOCK).exists()
    assert not list(out.rglob(".work-*"))
    page = (out / "ZZ1" / "01_fixture_summary.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")  # finished reports are kept


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="kills a process group")
def test_the_staging_of_a_killed_batch_is_removed_by_the_next_start(setup, running, monkeypatch):
    data, nbs, out = setup
    proc = _start_batch(
        [
            *_common(data, nbs, out),
            "--trusts",
            "ZZ1",
            "--notebooks",
            "04",
            "--workers",
            "1",
            "--param",
            "sleep=120",
        ]
    )
    running.append(proc)
    staged = Path(_wait_for("ZZ1/.work-04_slow/started", out, proc).read_text())
    os.killpg(proc.pid, signal.SIGKILL)  # the run, its workers and kernels: no clean-up
    proc.wait()
    assert (staged / "responses.csv").is_file()  # left behind ...
    work = out / "ZZ1" / ".work-04_slow"
    assert work.is_dir()
    monkeypatch.setattr(batch_mod, "_run_pool", lambda *a, **k: None)  # no need to run reports
    run_batch(data, out, trusts=["010"], notebooks=["04"], notebooks_dir=nbs, progress=False)
    assert not staged.exists() and not staged.parent.exists()  # ... until the next start
    assert not work.exists()  # nor its half-done work folder inside --out
    assert not (out / ".staging").exists()


# --- 4. --as-of ------------------------------------------------------------------------


@pytest.mark.notebooks
@pytest.mark.slow
def test_as_of_from_a_config_reaches_the_notebooks_that_declare_it(setup, tmp_path):
    data, nbs, out = setup
    config = tmp_path / "batch.yaml"
    config.write_text(
        f"data: {data}\nout: {out}\nnotebooks_dir: {nbs}\ntrusts: [ZZ1]\n"
        "notebooks: ['05']\nas_of: 2026-12-02\n"
    )
    assert run_batch_from_args(_args("--config", str(config), "--no-progress")) == EXIT_OK
    assert json.loads((out / "ZZ1" / "as_of.json").read_text()) == {"as_of": "2026-12-02"}
    assert "as_of = 02 Dec 2026" in (out / "index.html").read_text(encoding="utf-8")
    assert not _staging_of(os.getpid())  # and no staging after a run where all succeeded


@pytest.mark.parametrize("bad", ["2026-13-01", "02/12/2026", "20261202", "2026-12-2"])
def test_a_malformed_as_of_date_exits_2_before_anything_is_written(setup, bad, capsys):
    data, nbs, out = setup
    status = run_batch_from_args(
        _args(*_common(data, nbs, out), "--notebooks", "05", "--as-of", bad)
    )
    assert status == EXIT_COULD_NOT_RUN
    err = capsys.readouterr().err
    assert "--as-of" in err and "YYYY-MM-DD" in err
    assert not out.exists()


def test_as_of_is_skipped_for_notebooks_that_do_not_declare_it(setup, monkeypatch):
    data, nbs, out = setup
    got: list = []
    monkeypatch.setattr(batch_mod, "_run_pool", lambda jobs, *a, **k: got.extend(jobs))
    run_batch(
        data,
        out,
        trusts=["ZZ1"],
        notebooks=["01", "05"],
        notebooks_dir=nbs,
        progress=False,
        as_of="2026-12-02",
    )
    params = {job.notebook: job.parameters for job in got}
    assert "as_of" not in params["01_fixture_summary"]
    assert params["05_as_of"]["as_of"] == "2026-12-02"


def test_as_of_given_twice_is_refused(setup):
    data, nbs, out = setup
    with pytest.raises(ParameterError, match="--as-of or --param as_of"):
        run_batch(
            data,
            out,
            notebooks=["05"],
            notebooks_dir=nbs,
            params={"as_of": "2026-01-01"},
            as_of="2026-12-02",
        )
    assert not out.exists()


def _ignore_sigint_and_sleep() -> None:
    import signal as _signal
    import time as _time

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    _time.sleep(60)


@pytest.mark.skipif(not POSIX, reason="signals")
def test_a_worker_that_ignores_the_interruption_is_ended_after_the_grace(monkeypatch):
    """Leaving an interrupted pool never waits for a cell that goes on running."""
    import multiprocessing
    import time

    from pxlib.report import pool as batch_module

    monkeypatch.setattr(batch_module, "WORKER_GRACE_SECONDS", 0.5)
    worker = multiprocessing.get_context("spawn").Process(target=_ignore_sigint_and_sleep)
    worker.start()
    time.sleep(1.0)
    os.kill(worker.pid, signal.SIGINT)
    started = time.monotonic()
    batch_module._stop_workers([worker])
    assert not worker.is_alive()
    assert time.monotonic() - started < 10
