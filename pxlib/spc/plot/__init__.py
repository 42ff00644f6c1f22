"""Plotly figures of SPC results in the Making Data Count style.

:func:`spc_figure` draws an :class:`~pxlib.spc.result.SPCResult` (one chart, or
small multiples when the result has several groups), :func:`summary_table`
tabulates each group's latest position with its icons, :func:`funnel_figure`
draws a :class:`~pxlib.spc.result.FunnelResult`.

What a reader sees, and why:

- points coloured by ``point_type`` in the MDC colours (common cause #7B7D7D,
  improvement #289DE0, concern #FAB428, neutral #361475) **and** drawn with a
  different marker symbol per type, so colour is never the only signal (both from
  :mod:`pxlib.spc.vocabulary`);
- a hover label on every point in plain words: the date, the value, n, the
  centre line and limits, and every rule that fired ("7 points in a row above the
  centre line: improvement");
- centre line and process limits drawn per phase (a new phase restarts the
  lines, with a label), an optional 2-sigma line, the target in MDC red;
- the MDC variation and assurance icons in the corner (:mod:`pxlib.spc.icons`);
- PDSA cycles as labelled markers on the x axis with the change idea in the hover;
  labels of cycles close together are stacked (up to three high), the rest shown
  on hover only, and phase labels are stacked the same way;
- titles wrapped at word boundaries, never cut; small multiples spaced so that no
  panel title meets the tick labels of the row above;
- funnel plots with every unit's name in its hover and the outliers named beside
  their points;
- targets written one way ("Target (95%)" on a chart in percent, "Target (95)" on
  any other), by :meth:`ChartSpec.format_value`.

Figures are built as plain dicts and validated once, with the slim
:data:`pxlib.spc.theme.TEMPLATE`, so that 50 small multiples draw in well under a
second and a figure's JSON stays small.

The modules, one concern each:

- :mod:`~pxlib.spc.plot.figure`: ``spc_figure`` (one chart, small multiples);
- :mod:`~pxlib.spc.plot.panel`: one chart's traces;
- :mod:`~pxlib.spc.plot.annotations`: phases and PDSA cycles, ``phases_from_pdsa``;
- :mod:`~pxlib.spc.plot.layout`: titles, legend, margins, icons, panel headers;
- :mod:`~pxlib.spc.plot.xaxis`: where x values and labels fall, tick labels;
- :mod:`~pxlib.spc.plot.words`: line names, rules in words, the subtitle;
- :mod:`~pxlib.spc.plot.groups`: group frames and labels, ``attention_order``;
- :mod:`~pxlib.spc.plot.values`: table values as figure code needs them;
- :mod:`~pxlib.spc.plot.table`: ``summary_table``;
- :mod:`~pxlib.spc.plot.funnel`: ``funnel_figure``.
"""

from __future__ import annotations

from pxlib.spc.plot.annotations import PDSA_COLUMNS, phases_from_pdsa
from pxlib.spc.plot.figure import spc_figure
from pxlib.spc.plot.funnel import funnel_figure
from pxlib.spc.plot.groups import attention_order
from pxlib.spc.plot.table import summary_table
from pxlib.spc.plot.words import LINE_NAMES, rule_in_words
from pxlib.spc.vocabulary import KIND_NAMES, POINT_STYLES

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
