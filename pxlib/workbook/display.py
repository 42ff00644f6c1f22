"""Notebook display: renderer set-up, tables, captions, Markdown, chart views, widgets.

What every workbook notebook shows passes through here; this module only
displays what other modules compute:

- :func:`setup` sets plotly's pxlib template and a renderer whose output
  survives HTML export with no network (:func:`pxlib.spc.theme.use_offline_renderer`);
- :func:`table` renders a DataFrame with a caption and column headers, no index;
- :func:`alt` shows a figure's description in words under it, :func:`md` Markdown;
- :func:`spc_view`, :func:`funnel_view` and :func:`unit_view` show the figures and
  words of :mod:`pxlib.workbook.views` (small numbers suppressed, gaps labelled);
- :func:`explorer` and :func:`choose` wire ipywidgets (unit, date range, target,
  chart kind, rules) to a drawing function, for interactive use.

Names the notebooks call as ``wd.<name>`` that are computed elsewhere are
re-exported: :func:`~pxlib.workbook.views.suppress`,
:func:`~pxlib.workbook.views.suppress_points`, :func:`~pxlib.workbook.views.label_gaps`,
:func:`~pxlib.workbook.views.spc_alt_text` (:mod:`pxlib.workbook.views`),
:func:`~pxlib.workbook.plots.dot_ci_figure`, :func:`~pxlib.workbook.plots.line_figure`
(:mod:`pxlib.workbook.plots`) and :data:`PERCENT`.

Library code never displays anything itself: these functions return objects a
notebook cell displays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.escape import html_text, markdown, md_text
from pxlib.spc.theme import table_styles
from pxlib.workbook.plots import dot_ci_figure, line_figure
from pxlib.workbook.reading import PERCENT, target_share
from pxlib.workbook.views import (
    funnel_chart_view,
    label_gaps,
    spc_alt_text,
    spc_chart_view,
    suppress,
    suppress_points,
)

if TYPE_CHECKING:
    from IPython.display import HTML, Markdown
    from pandas.io.formats.style import Styler

    from pxlib.spc.result import FunnelResult, SPCResult
    from pxlib.workbook.steps import Reliability

__all__ = [
    "CONTROL_MIN_WIDTH",
    "PERCENT",
    "RULE_CHOICES",
    "SUPPRESSED",
    "alt",
    "choose",
    "dot_ci_figure",
    "explorer",
    "funnel_view",
    "label_gaps",
    "line_figure",
    "md",
    "setup",
    "spc_alt_text",
    "spc_view",
    "suppress",
    "suppress_points",
    "table",
    "unit_view",
    "verdict_md",
]


SUPPRESSED = "not shown"
RULE_CHOICES = (
    ("Anhøj (run rules and 3-sigma)", "anhoej"),
    ("Making Data Count", "mdc"),
    ("IHI run-chart rules", "ihi"),
)


def setup(interactive: bool = True) -> str:
    """Set the pxlib plotly template and the export-safe renderer; returns the renderer name."""
    from pxlib.spc.theme import use_offline_renderer, use_template

    use_template()
    pd.set_option("display.max_rows", 60)
    return use_offline_renderer()


# --- tables -------------------------------------------------------------------------------


def table(
    frame: pd.DataFrame,
    caption: str,
    *,
    columns: dict[str, str] | None = None,
    percent: Sequence[str] = (),
    integer: Sequence[str] = (),
    decimals: dict[str, int] | None = None,
    dates: Sequence[str] = (),
    escape: bool = True,
) -> Styler:
    """A pandas Styler with a caption, column headers and no index, for display.

    ``percent`` columns hold proportions (0.95 shows as 95%), ``integer`` whole
    counts; missing cells read "not shown". ``columns`` renames headers to
    plain words (applied last, after formatting). Text is HTML-escaped unless
    ``escape`` is False (for cells holding icons built by pxlib).
    """
    shown = frame.copy()
    formats: dict[str, Callable] = {}
    for c in percent:
        formats[c] = fmt.percent
    for c in integer:
        formats[c] = lambda v: fmt.number(round(float(v)))
    for c, d in (decimals or {}).items():
        formats[c] = lambda v, d=d: fmt.number(v, d)
    for c in dates:
        formats[c] = fmt.date
    # any other number reads as people write it (never a float's six decimals), a flag as yes/no
    for c in shown.columns:
        if c in formats or not pd.api.types.is_numeric_dtype(shown[c]):
            continue
        formats[c] = fmt.yes_no if pd.api.types.is_bool_dtype(shown[c]) else fmt.number
    # a missing number reads "not shown" where the row was suppressed (its note says so), or
    # everywhere when the table has no note column; otherwise it is left blank (not applicable)
    if "note" in shown.columns:
        hidden_row = shown["note"].fillna("").astype(str).str.contains(SUPPRESSED)
    else:
        hidden_row = pd.Series(True, index=shown.index)
    for c, f in formats.items():
        if c not in shown.columns:
            continue
        missing = shown[c].isna()
        blank = np.where(hidden_row & (c not in dates), SUPPRESSED, "")
        shown[c] = [b if m else f(v) for v, m, b in zip(shown[c], missing, blank, strict=True)]
    if escape:
        for c in shown.columns:
            if c not in formats and (
                shown[c].dtype == object or pd.api.types.is_string_dtype(shown[c])
            ):
                shown[c] = shown[c].map(lambda v: v if pd.isna(v) else html_text(str(v)))
    if columns:
        shown = shown.rename(columns=columns)
    styler = shown.style.format(na_rep="").hide(axis="index").set_caption(html_text(caption))
    return styler.set_table_styles(table_styles(vertical_align="top"))


# --- words for figures ---------------------------------------------------------------------------


def alt(text: str) -> HTML:
    """A caption shown under a figure: its description in words (alt text)."""
    from IPython.display import HTML

    return HTML(
        '<p class="pxlib-alt" role="note" style="font-size:0.9em;color:#425563;max-width:60em">'
        f"<strong>About this chart:</strong> {html_text(text)}</p>"
    )


def md(text: str, /, **values: object) -> Markdown:
    """Markdown for display; ``values`` from data are escaped (:func:`pxlib.escape.markdown`).

    ``md("### {unit}", unit=name)``: the template is the workbook's own words,
    every value is shown literally, whatever characters it holds.
    """
    from IPython.display import Markdown

    return Markdown(markdown(text, **values) if values else text)


# --- widgets ----------------------------------------------------------------------------------


def _in_widget(draw: Callable[..., None]) -> Callable[..., None]:
    """``draw`` run with plotly's mimetype renderer only.

    Inside an ipywidgets Output, plotly's ``notebook`` renderer (which injects
    plotly.js as HTML) can stall the kernel's output under papermill, and widget
    outputs are never exported anyway: JupyterLab draws the mimetype itself.
    """
    import functools

    @functools.wraps(draw)
    def wrapped(*args, **kwargs):
        import plotly.io as pio

        before = pio.renderers.default
        pio.renderers.default = "plotly_mimetype"
        try:
            return draw(*args, **kwargs)
        finally:
            pio.renderers.default = before

    return wrapped


def _render_into(out, draw: Callable[..., None], kwargs: dict) -> None:
    """Run ``draw(**kwargs)`` and put what it displays into the Output widget ``out``.

    The outputs are captured in the kernel and assigned to ``out.outputs``
    rather than routed through ``with out:``, which redirects the running
    cell's messages to the widget: under papermill/nbclient that redirection
    can race with the cell's end and leave the run waiting until its timeout.
    """
    from IPython.utils.capture import capture_output

    with capture_output(display=True) as cap:
        _in_widget(draw)(**kwargs)
    outputs = []
    if cap.stdout:
        outputs.append({"output_type": "stream", "name": "stdout", "text": cap.stdout})
    if cap.stderr:
        outputs.append({"output_type": "stream", "name": "stderr", "text": cap.stderr})
    outputs += [
        {"output_type": "display_data", "data": o.data, "metadata": o.metadata or {}}
        for o in cap.outputs
    ]
    out.outputs = tuple(outputs)


def _wire(draw: Callable[..., None], controls: dict):
    """An Output widget redrawn by ``draw(**values)`` now and whenever a control changes."""
    import ipywidgets as w

    out = w.Output()

    def refresh(change=None):
        _render_into(out, draw, {k: c.value for k, c in controls.items()})

    for c in controls.values():
        c.observe(refresh, names="value")
    refresh()
    return out


def explorer(
    draw: Callable[..., None],
    *,
    units: Sequence[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    target: float,
    kinds: Sequence[str] = ("p", "run"),
    rules: bool = True,
) -> Any:
    """ipywidgets controls (unit, date range, target, chart kind, rules) calling ``draw``.

    ``draw(unit=..., start=..., end=..., target=..., kind=..., rules=...)`` is
    called once with the initial values and again whenever a control changes;
    its displayed output appears below the controls. Returns the widget box.
    """
    import ipywidgets as w

    weeks = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="W-MON")
    if len(weeks) < 2:
        weeks = pd.DatetimeIndex([pd.Timestamp(start), pd.Timestamp(end)])
    options = [(d.strftime("%d %b %Y"), d) for d in weeks]
    controls = {
        "unit": w.Dropdown(options=list(units), description="Unit"),
        "dates": w.SelectionRangeSlider(
            options=options,
            index=(0, len(options) - 1),
            description="Weeks",
            # room for the readout "01 Sep 2025 – 24 Aug 2026" beside the slider
            layout=w.Layout(width="100%", max_width="48em"),
        ),
        "target": w.Text(
            value=PERCENT.format_value(100 * target_share(target)),
            description="Target",
            placeholder="e.g. 95%",
            continuous_update=False,
            layout=w.Layout(width="14em"),
        ),
        "kind": w.ToggleButtons(options=list(kinds), description="Chart"),
    }
    if rules:
        controls["rules"] = w.Dropdown(options=list(RULE_CHOICES), description="Rules")

    def _call(unit, dates, target, kind, rules="anhoej"):
        from IPython.display import display

        from pxlib.errors import ChartError

        try:
            share = target_share(target)
        except ChartError as err:
            display(md(f"**Target not understood:** {md_text(err)}. Type 95, 95% or 0.95."))
            return
        draw(unit=unit, start=dates[0], end=dates[1], target=share, kind=kind, rules=rules)

    out = _wire(_call, controls)
    return w.VBox(
        [
            _controls_row([controls["unit"], controls["kind"]]),
            controls["dates"],
            _controls_row([controls["target"], *([controls["rules"]] if rules else [])]),
            out,
        ]
    )


def spc_view(
    result: SPCResult,
    respondents: pd.DataFrame,
    *,
    group: object = None,
    pdsa: pd.DataFrame | None = None,
    min_respondents: int | None = None,
    x: str = "week",
    what: str | None = None,
    readings: pd.DataFrame | None = None,
    **figure_kw: Any,
) -> list:
    """[figure, alt caption] of an SPC result with small numbers suppressed and gaps labelled.

    With ``readings`` (:func:`pxlib.workbook.reading.read_units`) each group's
    caption is its reading, so the words under a chart are the verdict's own.
    """
    view = spc_chart_view(
        result,
        respondents,
        group=group,
        pdsa=pdsa,
        min_respondents=min_respondents,
        x=x,
        what=what,
        readings=readings,
        **figure_kw,
    )
    return [view.figure, alt(view.alt_text)]


def verdict_md(row: pd.Series) -> object:
    """A unit's verdict, reason and next step as Markdown."""
    return md(
        f"**Verdict: {md_text(row['verdict'])}.** {md_text(row['reason'])}\n\n"
        f"*Next step:* {md_text(row['next_step'])}"
    )


def unit_view(
    rel: Reliability,
    unit: str,
    *,
    pdsa: pd.DataFrame | None = None,
    min_respondents: int | None = None,
) -> list:
    """What notebook 03 shows for one unit: its chart, the caption and the verdict (displayables).

    The chart is ``rel.result`` (made to agree with the readings) and the
    caption and verdict are the unit's reading: one source for all three.
    """
    from IPython.display import HTML

    from pxlib.report.results import unit_anchor

    anchor = HTML(f'<a id="{unit_anchor(unit)}"></a>')  # the index links here
    weekly = rel.weekly[rel.weekly["unit"] == unit]
    if weekly.empty:
        return [anchor, md("No survey answers for {unit} in the weeks chosen.", unit=unit)]
    out = [
        anchor,
        *spc_view(
            rel.result,
            rel.weekly,
            group=unit,
            pdsa=pdsa,
            min_respondents=min_respondents,
            what="the weekly share of patients for whom it happened",
            readings=rel.readings,
        ),
    ]
    row = rel.readings[rel.readings["unit"] == unit]
    if len(row):
        out.append(verdict_md(row.iloc[0]))
    return out


#: the smallest width a slider or box keeps when the page is narrow (never a bare handle)
CONTROL_MIN_WIDTH = "20em"


def _controls_row(controls) -> object:
    """The controls side by side, wrapping onto a new line before any would be squeezed.

    Each keeps its label whole (``description_width: initial``) and at least
    :data:`CONTROL_MIN_WIDTH`, so a slider never shrinks to a bare handle.
    """
    import ipywidgets as w

    for control in controls:
        if hasattr(control, "style") and hasattr(control.style, "description_width"):
            control.style.description_width = "initial"
        control.layout.min_width = control.layout.min_width or CONTROL_MIN_WIDTH
    return w.Box(
        list(controls),
        layout=w.Layout(display="flex", flex_flow="row wrap", grid_gap="0.4em 1.5em", width="100%"),
    )


def choose(draw: Callable[..., None], **controls: Any) -> Any:
    """Widgets for any keyword controls ({name: ipywidgets widget}) calling ``draw(**values)``."""
    import ipywidgets as w

    out = _wire(draw, controls)
    return w.VBox([_controls_row(controls.values()), out])


def funnel_view(
    result: FunnelResult,
    table: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    unit: str = "unit",
    label: str = "",
) -> list:
    """[figure, alt caption] of a funnel plot; units resting on too few answers are left out."""
    view = funnel_chart_view(result, table, min_respondents=min_respondents, unit=unit, label=label)
    return [view.figure, alt(view.alt_text)]
