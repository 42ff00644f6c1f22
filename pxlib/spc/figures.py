"""Where SPC figures were drawn before :mod:`pxlib.spc.plot`: the public names, kept
importable from here for notebooks and code written against ``pxlib.spc.figures``."""

from __future__ import annotations

from pxlib.spc.plot import (
    KIND_NAMES,
    LINE_NAMES,
    PDSA_COLUMNS,
    POINT_STYLES,
    attention_order,
    funnel_figure,
    phases_from_pdsa,
    rule_in_words,
    spc_figure,
    summary_table,
)

__all__ = [
    "KIND_NAMES",
    "LINE_NAMES",
    "PDSA_COLUMNS",
    "POINT_STYLES",
    "attention_order",
    "funnel_figure",
    "phases_from_pdsa",
    "rule_in_words",
    "spc_figure",
    "summary_table",
]
