"""What a batch kernel runs so that one kernel can serve many reports, one after another.

Imported INSIDE a report kernel by :mod:`pxlib.report.kernels`, never by the
batch itself. Starting a kernel and importing numpy, pandas, plotly and pxlib
costs about as much CPU as a whole report, so a worker keeps its kernel and,
between two reports, puts it back into the state it had when it was new:

* :func:`prepare` (as the kernel starts): block optional modules a report
  does without and import the notebooks' modules; :func:`snapshot` (just before
  the first report) records the process state a notebook can change;
* :func:`reset` (before every report but the first): clear the user namespace,
  the output history and the execution counter (``IPython``'s ``reset``, as
  ``%reset -f``), then restore what the snapshot holds: working directory,
  environment variables, ``sys.path``, warning filters (and so the
  "already shown" registries), logging levels and handlers, pandas and numpy
  options, plotly's default renderer and template, and clear pxlib's
  ``lru_cache``\\ s and any widget left open. What a notebook imported stays
  imported: that is the point.

No variable of one report is visible to the next: :func:`reset` checks that
the namespace holds exactly the names a new kernel has, and the batch starts a
new kernel should that check (or anything else here) fail.

:func:`memoise_loading` lets the notebooks of ONE organisation share the
validated inputs: ``pxlib.data.load_data_dir`` called again with the same
folder, arguments and file contents returns a deep copy of the first result
(warnings it gave are given again, as a new kernel would); the scored answers
and weighted designs derived from them are shared the same way
(:mod:`pxlib.workbook.measure_cache`). :func:`reset` forgets both whenever the
next report reads another folder, so nothing of one organisation's records stays
in a kernel that serves another.

What does stay, by design: the published national files parsed by
:mod:`pxlib.workbook.national_insight` (the FFT workbooks), kept by their
contents' hash. They are aggregate figures NHS England publishes, copied byte for
byte to every organisation, so every report of the batch would parse the same.
"""

from __future__ import annotations

import copy
import functools
import gc
import importlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pxlib.warning_log import noting_shown, show_again

__all__ = ["prepare", "snapshot", "reset", "memoise_loading", "forget_loaded"]

_SNAPSHOT: dict[str, Any] | None = None
#: {key: (result, [warnings shown])} of load_data_dir for the folder being reported on
_LOADED: dict[tuple[Any, ...], tuple[Any, list[tuple[Any, ...]]]] = {}
_LOADED_DIR: list[str | None] = [None]


def prepare(blocked: Iterable[str] = (), modules: Iterable[str] = (), memo: bool = True) -> None:
    """Block ``blocked`` and import ``modules`` (failures ignored), as the kernel starts;
    figures then keep only their JSON (:func:`pxlib.spc.theme.use_report_renderer`).

    The :func:`snapshot` is taken later, just before the kernel's first report
    (the kernel changes a little more of its state once it is running).
    """
    from pxlib.report.kernels import block_unused_modules

    block_unused_modules(blocked)  # first: importing plotly can import jsonschema
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # a name that is not a module, or an optional one
            pass
    from pxlib.spc.theme import use_report_renderer

    use_report_renderer()
    if memo:
        memoise_loading()


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _pandas_options() -> dict[str, Any]:
    """Every pandas option's value (none when pandas is not imported)."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return {}
    try:
        from pandas._config import config

        keys = [k for k in config._registered_options if k not in config._deprecated_options]
    except Exception:  # pragma: no cover - another pandas layout
        return {}
    out = {}
    for key in keys:
        try:
            out[key] = pd.get_option(key)
        except Exception:  # pragma: no cover - an option that cannot be read
            continue
    return out


def _loggers() -> dict[str, tuple[int, list[Any], bool, bool]]:
    """Level, handlers, propagation and ``disabled`` of every logger that exists now."""
    out = {"": (logging.root.level, list(logging.root.handlers), True, logging.root.disabled)}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            out[name] = (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
    return out


def snapshot() -> bool:
    """Record the process state a notebook may change (once, just before the first report)."""
    global _SNAPSHOT
    shell = _shell()
    np = sys.modules.get("numpy")
    pio = sys.modules.get("plotly.io")
    # first what may import more (plotly's renderers import plotly.tools, which adds a
    # warning filter), last the filters, loggers and paths those imports may change
    state: dict[str, Any] = {
        "plotly": (pio.renderers.default, pio.templates.default) if pio is not None else None,
        "pandas": _pandas_options(),
        "numpy": (np.get_printoptions(), np.geterr()) if np is not None else None,
        "recursionlimit": sys.getrecursionlimit(),
    }
    state.update(
        loggers=_loggers(),
        logging_disable=logging.root.manager.disable,
        cwd=os.getcwd(),
        environ=dict(os.environ),
        path=list(sys.path),
        filters=list(warnings.filters),
        showwarning=warnings.showwarning,
        user_ns=dict(shell.user_ns) if shell is not None else {},
    )
    _SNAPSHOT = state
    # what exists now (modules, their tables) lives as long as the kernel: out of the
    # collector's sight, so the full collections of IPython's reset and of the reports
    # themselves look at the reports' objects only
    gc.freeze()
    return True


def _restore_loggers(saved: dict[str, tuple[int, list[Any], bool, bool]]) -> None:
    for name, (level, handlers, propagate, disabled) in saved.items():
        logger = logging.root if name == "" else logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.disabled = disabled


def _restore_pandas(saved: dict[str, Any]) -> None:
    pd = sys.modules.get("pandas")
    if not saved or pd is None:
        return
    for key, value in _pandas_options().items():
        if key in saved and not (value is saved[key] or value == saved[key]):
            pd.set_option(key, saved[key])


def _clear_caches() -> None:
    """``cache_clear()`` every ``functools`` cache of pxlib's modules."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "pxlib" or name.startswith("pxlib.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and hasattr(value, "cache_info"):
                clear()


def _close_widgets() -> None:
    widgets = sys.modules.get("ipywidgets")
    if widgets is not None:
        try:
            widgets.Widget.close_all()
        except Exception:  # pragma: no cover - an ipywidgets without close_all
            pass


def reset(data_dir: str | None = None) -> list[str]:
    """Put the kernel back as :func:`snapshot` found it; return what could not be restored.

    ``data_dir``: the folder the next report reads; what was loaded from any
    other folder is forgotten. An empty list means the kernel is as new (the
    runner starts a new kernel otherwise).
    """
    if _SNAPSHOT is None:
        return ["no snapshot was taken when the kernel started"]
    saved = _SNAPSHOT
    problems: list[str] = []
    if data_dir is None or _LOADED_DIR[0] != str(data_dir):
        forget_loaded()
    _close_widgets()
    os.chdir(saved["cwd"])
    shell = _shell()
    if shell is not None:
        shell.reset(new_session=True)  # namespace, In/Out, execution count back to 1
        for key, value in saved["user_ns"].items():  # "_", "__doc__" ... that reset drops
            if key not in shell.user_ns:
                shell.user_ns[key] = value
        extra = sorted(set(shell.user_ns) - set(saved["user_ns"]))
        missing = sorted(set(saved["user_ns"]) - set(shell.user_ns))
        if extra or missing:
            problems.append(f"namespace differs from a new kernel's: +{extra} -{missing}")
    if dict(os.environ) != saved["environ"]:
        for key in set(os.environ) - set(saved["environ"]):
            del os.environ[key]
        for key, value in saved["environ"].items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        if hasattr(time, "tzset"):
            time.tzset()
    sys.path[:] = saved["path"]
    warnings.resetwarnings()  # also forgets which warnings were shown ("default": once a place)
    warnings.filters[:] = saved["filters"]
    warnings.showwarning = saved["showwarning"]
    _restore_loggers(saved["loggers"])
    logging.disable(saved["logging_disable"])
    _restore_pandas(saved["pandas"])
    np = sys.modules.get("numpy")
    if np is not None and saved["numpy"] is not None:
        np.set_printoptions(**saved["numpy"][0])
        np.seterr(**saved["numpy"][1])
    pio = sys.modules.get("plotly.io")
    if pio is not None and saved["plotly"] is not None:
        pio.renderers.default, pio.templates.default = saved["plotly"]
    sys.setrecursionlimit(saved["recursionlimit"])
    _clear_caches()
    return problems


# --- the validated inputs, shared by the notebooks of one organisation ------------------


def _fingerprint(folder: Path) -> tuple[tuple[str, str], ...]:
    """(name, sha256) of every file in ``folder``: a changed file is loaded again."""
    from pxlib.report.isolation import file_sha256

    return tuple((p.name, file_sha256(p)) for p in sorted(folder.iterdir()) if p.is_file())


def forget_loaded() -> None:
    """Drop every memoised ``load_data_dir`` result, and what the measures derived from it."""
    _LOADED.clear()
    _LOADED_DIR[0] = None
    measure_cache = sys.modules.get("pxlib.workbook.measure_cache")
    if measure_cache is not None:
        measure_cache.forget_shared()


def memoise_loading() -> None:
    """Make ``pxlib.data.load_data_dir`` remember its result for the current folder."""
    try:
        import pxlib.data as data
    except Exception:  # pragma: no cover - a kernel without pxlib
        return
    real = data.load_data_dir
    if getattr(real, "__pxlib_memo__", False):
        return

    @functools.wraps(real)
    def load_data_dir(data_dir: Any, trust_code: Any = None, **kwargs: Any) -> Any:
        import datetime

        folder = Path(data_dir)
        try:
            key = (
                str(folder.resolve()),
                trust_code,
                tuple(sorted((k, repr(v)) for k, v in kwargs.items())),
                datetime.date.today().isoformat(),  # as_of defaults to today
                _fingerprint(folder),
            )
        except OSError:  # not a folder: let the loader say so
            return real(data_dir, trust_code, **kwargs)
        if key in _LOADED:
            result, shown = _LOADED[key]
            show_again(shown)
            return copy.deepcopy(result)
        with noting_shown() as shown:  # shown as ever, and noted
            result = real(data_dir, trust_code, **kwargs)
        if _LOADED_DIR[0] != key[0]:
            forget_loaded()
            _LOADED_DIR[0] = key[0]
        _LOADED[key] = (copy.deepcopy(result), shown)
        return result

    load_data_dir.__pxlib_memo__ = True  # type: ignore[attr-defined]
    data.load_data_dir = load_data_dir
