"""Notebook helpers: renderer set-up, suppressed tables, labelled gaps, alt text, widgets.

What every workbook notebook shows passes through here, so that the rules for
what may be shown hold in one place:

- :func:`setup` sets plotly's pxlib template and a renderer whose output
  survives HTML export with no network (:func:`pxlib.spc.theme.use_offline_renderer`);
- :func:`suppress` hides counts and percentages resting on fewer than
  ``min_respondents`` answers (statistics are computed from all data first;
  only what is shown is hidden);
- :func:`suppress_points` does the same for the points of an SPC chart: a
  suppressed week is drawn as a gap, and :func:`label_gaps` labels it;
- :func:`table` renders a DataFrame with a caption and column headers, no index;
- :func:`spc_alt_text` describes a chart in words and :func:`alt` shows that
  description under the figure (screen readers and printed reports get the
  same content as the picture);
- :func:`explorer` wires ipywidgets (unit, date range, target, chart kind,
  rules) to a drawing function, for interactive use.

Library code never displays anything itself: these functions return objects a
notebook cell displays.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.escape import html_text, markdown, md_text
from pxlib.spc.theme import table_styles
from pxlib.workbook.reading import PERCENT, target_share

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


# --- small-number suppression ---------------------------------------------------------


def shown(n, min_respondents: int | None = None) -> np.ndarray:
    """Which counts ``n`` may be shown under the small-number rule of :mod:`pxlib.disclosure`."""
    return ~small_numbers(min_respondents).hides(n)


def suppress(
    frame: pd.DataFrame,
    *,
    n_col: str = "n_respondents",
    count_cols: Sequence[str] = (),
    value_cols: Sequence[str] = (),
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """A display copy with counts and values resting on fewer than ``min_respondents`` hidden.

    Where ``frame[n_col]`` (unweighted respondents) is below the threshold,
    ``n_col`` itself, every ``count_cols`` and every ``value_cols`` cell becomes
    missing, and a column ``note`` says why. Zero respondents are not
    suppressed (there is nothing to disclose). Columns stay numeric, so
    formatting still works; missing cells show as "not shown" in :func:`table`.
    """
    if n_col not in frame.columns:
        from pxlib.errors import ColumnError

        raise ColumnError(f"cannot suppress small numbers: no {n_col!r} column")
    rule = small_numbers(min_respondents)
    out = frame.copy()
    n = pd.to_numeric(out[n_col], errors="coerce")
    small = pd.Series(rule.hides(n) & n.notna().to_numpy(), index=out.index)
    cols = [c for c in (*count_cols, *value_cols) if c in out.columns]
    for col in cols:
        out[col] = out[col].astype("float64").where(~small, np.nan)
    out[n_col] = n.astype("float64").where(~small, np.nan)
    out["note"] = np.where(small, rule.note, "")
    return out


def suppress_points(
    result,
    respondents: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    x: str = "week",
    n_col: str = "n_respondents",
):
    """An SPC result for display, with weeks resting on fewer than ``min_respondents`` blanked.

    The chart's statistics (centre lines, limits, signals) were computed from
    all data and are kept; at each suppressed point the value ``y``, its
    denominator ``n`` and its point-specific limits are set missing, so the
    figure shows a gap and its hover and JSON carry no small number. Returns
    ``(result_for_display, suppressed)`` where ``suppressed`` lists the by
    columns and ``x`` of each hidden point.
    """
    by = list(result.by)
    keys = respondents[[*by, x, n_col]].rename(columns={x: "x"})
    pts = result.points.merge(keys, on=[*by, "x"], how="left", validate="many_to_one")
    n = pd.to_numeric(pts[n_col], errors="coerce")
    small = small_numbers(min_respondents).hides(n) & n.notna().to_numpy()
    for col in ("y", "n", "lcl", "ucl", "lcl_2s", "ucl_2s"):
        if col in pts.columns:
            pts[col] = pts[col].astype("float64").where(~small, np.nan)
    suppressed = pts.loc[small, [*by, "x"]].reset_index(drop=True)
    pts = pts.drop(columns=[n_col])
    shown = dataclasses.replace(result, points=pts)
    return shown, suppressed


def _panel_axes(fig) -> dict[str, tuple[str, str]]:
    """{group label: (xaxis, yaxis)} of a small-multiples figure, read from its point hovers."""
    out: dict[str, tuple[str, str]] = {}
    for trace in fig.data:
        tmpl = str(getattr(trace, "hovertemplate", "") or "")
        if tmpl.startswith("<b>") and "</b>" in tmpl:
            label = html.unescape(tmpl[3 : tmpl.index("</b>")])
            out.setdefault(label, (trace.xaxis or "x", trace.yaxis or "y"))
    return out


def label_gaps(
    fig,
    suppressed: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    min_respondents: int | None = None,
    group: object = None,
):
    """Shade and label each suppressed week of ``fig`` ("fewer than 5 answers: not shown").

    For a single chart (``group`` given or no ``by``) every row of
    ``suppressed`` is drawn; for small multiples each panel gets its own
    group's weeks. The figure is changed in place and returned.
    """
    if suppressed is None or suppressed.empty:
        return fig
    by = list(by)
    week = pd.Timedelta(days=3.5)
    label = small_numbers(min_respondents).note
    if group is not None or not by:
        if group is not None and by:
            key = group if isinstance(group, tuple) else (group,)
            mask = np.logical_and.reduce([suppressed[c] == v for c, v in zip(by, key, strict=True)])
            rows = suppressed[mask]
        else:
            rows = suppressed
        targets = [(rows, "x", "y")]
    else:
        axes = _panel_axes(fig)
        targets = []
        for key, rows in suppressed.groupby(by, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            name = " · ".join(map(str, key)) if len(key) > 1 else str(key[0])
            if name in axes:
                targets.append((rows, *axes[name]))
    first = True
    for rows, xa, ya in targets:
        for xv in rows["x"]:
            dates = isinstance(xv, pd.Timestamp)
            x0, x1 = (xv - week, xv + week) if dates else (xv - 0.5, xv + 0.5)
            fig.add_shape(
                type="rect",
                xref=xa,
                yref=f"{ya} domain",
                x0=x0,
                x1=x1,
                y0=0,
                y1=1,
                fillcolor="#E8EDEE",
                opacity=0.8,
                line_width=0,
                layer="below",
            )
            fig.add_annotation(
                x=xv,
                xref=xa,
                y=0,
                yref=f"{ya} domain",
                text="·",
                showarrow=False,
                hovertext=label,
                font={"size": 14, "color": "#425563"},
            )
            if first:
                fig.add_annotation(
                    x=xv,
                    xref=xa,
                    y=1,
                    yref=f"{ya} domain",
                    yanchor="bottom",
                    text=f"grey band: {label}",
                    showarrow=False,
                    font={"size": 10, "color": "#425563"},
                    xanchor="left",
                )
                first = False
    return fig


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
):
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


def alt(text: str):
    """A caption shown under a figure: its description in words (alt text)."""
    from IPython.display import HTML

    return HTML(
        '<p class="pxlib-alt" role="note" style="font-size:0.9em;color:#425563;max-width:60em">'
        f"<strong>About this chart:</strong> {html_text(text)}</p>"
    )


def md(text: str, /, **values: object):
    """Markdown for display; ``values`` from data are escaped (:func:`pxlib.escape.markdown`).

    ``md("### {unit}", unit=name)``: the template is the workbook's own words,
    every value is shown literally, whatever characters it holds.
    """
    from IPython.display import Markdown

    return Markdown(markdown(text, **values) if values else text)


def _reading_row(readings: pd.DataFrame | None, by: list[str], key: tuple) -> pd.Series | None:
    if readings is None or readings.empty or not by:
        return None if readings is None or readings.empty or by else readings.iloc[0]
    mask = np.logical_and.reduce([readings[c] == v for c, v in zip(by, key, strict=True)])
    rows = readings[mask]
    return rows.iloc[0] if len(rows) else None


def spc_alt_text(
    result,
    *,
    suppressed: pd.DataFrame | None = None,
    group: object = None,
    min_respondents: int | None = None,
    what: str | None = None,
    readings: pd.DataFrame | None = None,
) -> str:
    """A plain-language description of an SPC chart: what, when, phases, latest, signals.

    With ``readings`` each group's signal and verdict are its reading's words
    (:func:`pxlib.workbook.reading.read_units`); without, the MDC icons' labels.
    """
    from pxlib.spc import icons

    by = list(result.by)
    value_text = result.spec.format_value
    what = what or (result.y_label or "the measure")
    kind = {"run": "run chart", "p": "p control chart", "xmr": "XmR chart", "i": "I chart"}.get(
        result.kind, f"{result.kind} chart"
    )
    pts = result.points
    summ = result.summary
    if group is not None and by:
        key = group if isinstance(group, tuple) else (group,)
        for c, v in zip(by, key, strict=True):
            pts = pts[pts[c] == v]
            summ = summ[summ[c] == v]
            if suppressed is not None and len(suppressed):
                suppressed = suppressed[suppressed[c] == v]
    groups = pts.groupby(by, sort=False) if by else [((), pts)]
    n_groups = len(groups) if by else 1
    dated = pd.api.types.is_datetime64_any_dtype(pts["x"])
    if dated and pts["x"].notna().any():
        span = f" from {pts['x'].min():%d %b %Y} to {pts['x'].max():%d %b %Y}"
    elif pd.api.types.is_numeric_dtype(pts["x"]) and pts["x"].notna().any():
        span = f" over weeks {pts['x'].min():g} to {pts['x'].max():g}"
    else:
        span = ""
    head = (
        f"{kind[:1].upper() + kind[1:]} of {what}{span}"
        + (f", one panel for each of {n_groups} groups" if n_groups > 1 else "")
        + "."
    )
    parts = [head]
    for key, frame in groups:
        key = key if isinstance(key, tuple) else (key,)
        s = summ
        for c, v in zip(by, key, strict=True):
            s = s[s[c] == v]
        s = s.sort_values("phase")
        name = " · ".join(map(str, key)) if key else ""
        valued = frame[np.isfinite(frame["y"].to_numpy(float))].sort_values("x")
        bits = []
        if len(s) > 1:
            cls = ", ".join(value_text(v) for v in s["cl"])
            bits.append(f"{len(s)} phases with centre lines {cls}")
        elif len(s):
            bits.append(f"centre line {value_text(s['cl'].iloc[0])}")
        if len(valued):
            last = valued.iloc[-1]
            when = (
                pd.Timestamp(last["x"]).strftime("%d %b %Y")
                if dated
                else (
                    f"week {last['x']:g}"
                    if isinstance(last["x"], int | float | np.number)
                    else str(last["x"])
                )
            )
            bits.append(f"latest value {value_text(last['y'])} ({when})")
        reading = _reading_row(readings, by, key)
        if reading is not None:
            bits.append(str(reading["caption"]).rstrip("."))
        elif len(s):
            vt = str(s["variation_type"].iloc[-1] or "")
            at = str(s["assurance_type"].iloc[-1] or "")
            if vt:
                bits.append(icons.variation_label(vt, result.improvement).split(": ", 1)[-1])
            if at:
                bits.append(icons.assurance_label(at).split(": ", 1)[-1])
        parts.append((f"{name}: " if name else "") + "; ".join(bits) + ".")
    if result.target is not None:
        parts.append(f"The target of {value_text(result.target)} is drawn as a red line.")
    if suppressed is not None and len(suppressed):
        parts.append(
            f"{len(suppressed)} weeks resting on fewer than {small_numbers(min_respondents).threshold} answers are "
            "shown as grey gaps; the lines still use them."
        )
    return " ".join(parts)


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
):
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


# --- figures the workbook draws itself ----------------------------------------------------------


def dot_ci_figure(
    frame: pd.DataFrame,
    *,
    label: str,
    value: str,
    title: str,
    low: str | None = None,
    high: str | None = None,
    n_col: str | None = None,
    min_respondents: int | None = None,
    x_title: str = "%",
    percent: bool = True,
    reference: float | None = None,
    reference_name: str = "Target",
):
    """A horizontal dot plot (with 95 % interval bars when ``low``/``high`` are given).

    Rows whose ``n_col`` is below ``min_respondents`` are drawn without a value
    and labelled "(not shown: fewer than k)". Values are proportions when
    ``percent`` (drawn as %). ``reference`` adds a vertical line (e.g. a target).
    """
    import plotly.graph_objects as go

    from pxlib.spc.theme import NHS_BLUE, NHS_DARK_GREY, TEMPLATE

    f = frame.copy()
    scale = 100.0 if percent else 1.0
    labels = f[label].astype(str)
    vals = f[value].astype(float) * scale
    lo = f[low].astype(float) * scale if low else None
    hi = f[high].astype(float) * scale if high else None
    if n_col is not None:
        n = pd.to_numeric(f[n_col], errors="coerce")
        rule = small_numbers(min_respondents)
        small = pd.Series(rule.hides(n), index=f.index)
        labels = labels.where(~small, labels + f" (not shown: fewer than {rule.threshold})")
        vals = vals.where(~small, np.nan)
        if lo is not None:
            lo, hi = lo.where(~small, np.nan), hi.where(~small, np.nan)
    labels = labels.map(html_text)
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": vals.tolist(),
        "y": labels.tolist(),
        "marker": {"color": NHS_BLUE, "size": 9, "symbol": "circle"},
        "name": "Estimate",
        "hovertemplate": "%{y}: %{x:.0f}" + ("%" if percent else "") + "<extra></extra>",
    }
    if lo is not None:
        trace["error_x"] = {
            "type": "data",
            "symmetric": False,
            "array": (hi - vals).tolist(),
            "arrayminus": (vals - lo).tolist(),
            "color": NHS_DARK_GREY,
            "thickness": 1.5,
        }
        trace["name"] = "Estimate with 95% interval"
    layout = {
        "template": TEMPLATE,
        "title": {"text": html_text(title)},
        "xaxis": {"title": {"text": html_text(x_title)}, "range": [0, 100] if percent else None},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "height": 140 + 28 * len(f),
        "showlegend": True,
    }
    if reference is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": reference * scale,
                "x1": reference * scale,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#DE1B1B", "dash": "dash"},
            }
        ]
        layout["annotations"] = [
            {
                "x": reference * scale,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "text": html_text(reference_name),
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"color": "#DE1B1B"},
            }
        ]
    return go.Figure(data=[trace], layout=layout)


def line_figure(
    frame: pd.DataFrame, *, x: str, ys: dict[str, str], title: str, x_title: str, y_title: str
):
    """Lines with markers, one per column of ``ys`` ({column: legend name})."""
    import plotly.graph_objects as go

    from pxlib.spc.theme import TEMPLATE

    symbols = ["circle", "diamond", "square", "triangle-up"]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": frame[x].tolist(),
            "y": frame[c].tolist(),
            "name": html_text(name),
            "marker": {"symbol": symbols[i % len(symbols)], "size": 8},
        }
        for i, (c, name) in enumerate(ys.items())
    ]
    layout = {
        "template": TEMPLATE,
        "title": {"text": html_text(title)},
        "xaxis": {"title": {"text": html_text(x_title)}},
        "yaxis": {"title": {"text": html_text(y_title)}},
        "height": 380,
    }
    return go.Figure(data=traces, layout=layout)


def spc_view(
    result,
    respondents: pd.DataFrame,
    *,
    group: object = None,
    pdsa: pd.DataFrame | None = None,
    min_respondents: int | None = None,
    x: str = "week",
    what: str | None = None,
    readings: pd.DataFrame | None = None,
    **figure_kw,
) -> list:
    """[figure, alt caption] of an SPC result with small numbers suppressed and gaps labelled.

    With ``readings`` (:func:`pxlib.workbook.reading.read_units`) each group's
    caption is its reading, so the words under a chart are the verdict's own.
    """
    shown, hidden = suppress_points(result, respondents, min_respondents=min_respondents, x=x)
    kw = dict(figure_kw)
    if pdsa is not None and len(pdsa):
        kw["annotations"] = pdsa
    if group is not None:
        kw["group"] = group
    fig = shown.figure(**kw)
    label_gaps(fig, hidden, by=result.by, min_respondents=min_respondents, group=group)
    text = spc_alt_text(
        shown,
        suppressed=hidden,
        group=group,
        min_respondents=min_respondents,
        what=what,
        readings=readings,
    )
    return [fig, alt(text)]


def verdict_md(row) -> object:
    """A unit's verdict, reason and next step as Markdown."""
    return md(
        f"**Verdict: {md_text(row['verdict'])}.** {md_text(row['reason'])}\n\n"
        f"*Next step:* {md_text(row['next_step'])}"
    )


def unit_view(
    rel,
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
    out = [anchor, *spc_view(
        rel.result,
        rel.weekly,
        group=unit,
        pdsa=pdsa,
        min_respondents=min_respondents,
        what="the weekly share of patients for whom it happened",
        readings=rel.readings,
    )]
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


def choose(draw: Callable[..., None], **controls):
    """Widgets for any keyword controls ({name: ipywidgets widget}) calling ``draw(**values)``."""
    import ipywidgets as w

    out = _wire(draw, controls)
    return w.VBox([_controls_row(controls.values()), out])


def funnel_view(
    result,
    table: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    unit: str = "unit",
    label: str = "",
) -> list:
    """[figure, alt caption] of a funnel plot; units resting on too few answers are left out."""
    pts = result.points
    n = table.set_index(unit)["n_respondents"]
    rule = small_numbers(min_respondents)
    small = pd.Series(
        rule.hides(pts[unit].map(n).fillna(0)) | (pts[unit].map(n).fillna(0) == 0).to_numpy(),
        index=pts.index,
    )
    shown = dataclasses.replace(result, points=pts[~small].reset_index(drop=True))
    fig = shown.figure()
    above = shown.points[
        shown.points["signal"].astype(bool) & (shown.points["y"] > shown.points["cl"])
    ]
    below = shown.points[
        shown.points["signal"].astype(bool) & (shown.points["y"] < shown.points["cl"])
    ]
    cl = float(shown.points["cl"].iloc[0]) if len(shown.points) else float("nan")
    text = (
        f"Funnel plot of the share of patients for whom it happened, per unit{', ' + label if label else ''}: "
        f"each unit's value against its number of answers (effective sample size), with 95% and "
        f"99.8% limits around the average of {result.spec.format_value(cl)}. "
    )
    text += f"Above the limits: {', '.join(map(str, above[unit]))}. " if len(above) else ""
    text += f"Below the limits: {', '.join(map(str, below[unit]))}. " if len(below) else ""
    if not len(above) and not len(below):
        text += "No unit is outside the limits: the differences between units are within chance. "
    if small.any():
        text += f"{int(small.sum())} units with fewer than {rule.threshold} answers are not shown."
    return [fig, alt(text.strip())]
