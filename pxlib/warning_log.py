"""Note the warnings a computation showed, to show them again when its result is reused.

A cached result (the validated inputs of one organisation in a batch kernel, a
measure's weighted design) must tell the reader what the computation told the
first time: a new kernel would have computed it, and warned, again.
:func:`noting_shown` records what is *shown* while leaving the filters and the
"already shown" registries untouched (``warnings.catch_warnings`` would reset
them, so that a warning already shown once could show again);
:func:`show_again` issues the noted warnings through the filters in force now.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["ShownWarning", "noting_shown", "show_again"]

#: (message, category, filename, lineno) of one shown warning
ShownWarning = tuple[Any, type[Warning], str, int]


@contextmanager
def noting_shown() -> Iterator[list[ShownWarning]]:
    """Within the block, every warning shown is also appended to the yielded list."""
    shown: list[ShownWarning] = []
    before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        shown.append((message, category, filename, lineno))
        return before(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield shown
    finally:
        if warnings.showwarning is show:
            warnings.showwarning = before


def show_again(shown: list[ShownWarning]) -> None:
    """Warn again what was noted, from the same place, through today's filters and registries."""
    for message, category, filename, lineno in shown:
        module = next(
            (m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == filename),
            None,
        )
        registry = vars(module).setdefault("__warningregistry__", {}) if module else None
        warnings.warn_explicit(
            message,
            category,
            filename,
            lineno,
            module=getattr(module, "__name__", None),
            registry=registry,
        )
