"""What the measures derive from an organisation's tables, made once and reused.

Two levels, both keyed so that a reused result is the one a new computation
would give:

* **per data object** (:func:`cache_entry`): kept in the
  :class:`pxlib.data.WorkbookData`'s ``__dict__``, keyed on the identity of its
  ``responses``, ``question_bank``, ``margins`` and ``units`` tables (assigning
  a new table starts afresh);
* **shared by contents** (:func:`remembered`): objects whose four tables have
  equal contents (the notebooks of one organisation in a batch kernel, each
  handed its own copy of the same inputs, or a notebook run again) share the
  scored answers and weighted designs. A reused result is a deep copy, and the
  warnings its computation showed are shown again (:mod:`pxlib.warning_log`),
  as a new kernel would show them. :func:`forget_shared` empties the store; the
  batch kernel does so before it serves another organisation, so no record of
  one stays in a kernel reporting on another.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

from pxlib.warning_log import ShownWarning, noting_shown, show_again

__all__ = ["SOURCES", "cache_entry", "remembered", "forget_shared"]

#: the tables every cached result is derived from
SOURCES = ("responses", "question_bank", "margins", "units")
_ATTRIBUTE = "_pxlib_measure_designs"
#: organisations whose results are kept at once (a kernel reports on one at a time)
_SHARED_LIMIT = 2
_SHARED: OrderedDict[str, dict[Any, tuple[Any, list[ShownWarning]]]] = OrderedDict()

T = TypeVar("T")


def _table_digest(table: object) -> bytes:
    """The contents of one source table: columns, dtypes and every value with its index."""
    if table is None:
        return b"none"
    if not isinstance(table, pd.DataFrame):
        return repr(table).encode()
    head = repr((list(map(str, table.columns)), list(map(str, table.dtypes)))).encode()
    values = pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes()
    return head + hashlib.sha256(values).digest()


def contents_key(sources: tuple[object, ...]) -> str:
    """A sha256 of the source tables' contents (:data:`SOURCES` order)."""
    digest = hashlib.sha256()
    for table in sources:
        digest.update(_table_digest(table))
    return digest.hexdigest()


def cache_entry(data: Any) -> dict[str, Any]:
    """The per-data cache, rebuilt when one of its source tables was replaced."""
    sources = tuple(getattr(data, name, None) for name in SOURCES)
    store = getattr(data, "__dict__", None)
    entry = store.get(_ATTRIBUTE) if store is not None else None
    if entry is None or any(a is not b for a, b in zip(entry["sources"], sources, strict=True)):
        entry = {"sources": sources, "scored": {}, "designs": {}, "warned": False, "shared": None}
        if store is not None:
            store[_ATTRIBUTE] = entry
    return entry


def remembered(entry: dict[str, Any], key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or a deep copy of what it gave for tables of the same contents.

    A reused result shows again the warnings its computation showed.
    """
    if entry["shared"] is None:
        contents = contents_key(entry["sources"])
        if contents not in _SHARED:
            _SHARED[contents] = {}
            while len(_SHARED) > _SHARED_LIMIT:
                _SHARED.popitem(last=False)
        _SHARED.move_to_end(contents)
        entry["shared"] = _SHARED[contents]
    shared = entry["shared"]
    if key in shared:
        value, shown = shared[key]
        show_again(shown)
        return copy.deepcopy(value)
    with noting_shown() as shown:
        value = compute()
    shared[key] = (copy.deepcopy(value), shown)
    return value


def forget_shared() -> None:
    """Empty the store shared by contents (per-object caches go with their objects)."""
    _SHARED.clear()
