"""The trust's wards' monthly Friends and Family Test % positive as p control charts
(:func:`fft_ward_trend`, :func:`pxlib.spc.chart`), ward-months resting on too few responses
shown as gaps.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import SmallNumbers, small_numbers
from pxlib.errors import ChartWarning
from pxlib.escape import markdown, md_text
from pxlib.workbook.national_insight.common import (
    labelled,
    month_span,
    month_text,
    normalised_code,
)
from pxlib.workbook.national_insight.fft_window import (
    FFT_TITLE,
    fft_window_for,
    mode_sentence,
    pooled_positive,
)
from pxlib.workbook.national_insight.files import NationalFiles
from pxlib.workbook.national_insight.section import Section

__all__ = ["fft_ward_trend"]

_PCT_DEFINITION = (
    "% positive is the share of all answers that were very good or good, don't know "
    "included in the denominator, as NHS England computes it"
)


def _shown_pct(value: float, n: float, rule: SmallNumbers) -> str:
    if rule.hides([n])[0]:
        return rule.note
    return fmt.percent(value)


def fft_ward_trend(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> Section:
    """The trust's wards' monthly FFT % positive over the last ``months`` months: a p
    control chart per ward (``pxlib.spc.chart(kind="p", by="ward_label")``; y = very good
    + good, n = all responses), ward-months resting on fewer than ``min_respondents``
    responses (or suppressed by NHS England) shown as gaps. ``table``: each ward's months,
    responses and pooled % positive (in ward order, not ranked)."""
    from pxlib.spc import chart
    from pxlib.spc.vocabulary import variation_label
    from pxlib.workbook.display import label_gaps, suppress_points

    code = normalised_code(trust_code)
    title = f"{FFT_TITLE}: ward by ward, month by month"
    window = fft_window_for(
        data_dir, trust_code, title, months=months, organisations=organisations, workers=workers
    )
    if isinstance(window, Section):
        return window
    rule = small_numbers(min_respondents)
    rows = window.wards[window.wards["n"] > 0]
    trust = labelled(window.name, code)
    if rows.empty:
        text = markdown("{trust} has no ward with FFT responses in the months chosen.", trust=trust)
        return Section("fft_trend", title, text, available=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        result = chart(
            rows,
            "period",
            "positive",
            "n",
            kind="p",
            by="ward_label",
            multiply=100,
            improvement="increase",
            y_label="FFT: % positive",
        )
    respondents = rows[["ward_label", "period", "n"]].rename(columns={"n": "n_respondents"})
    shown, hidden = suppress_points(
        result, respondents, min_respondents=min_respondents, x="period"
    )
    # a ward whose published months add up to fewer than the threshold shows no centre line
    pooled = pooled_positive(rows, "ward_label").set_index("ward_label")
    pooled_n = pooled["n"]
    thin = [w for w in rows["ward_label"].unique() if rule.hides([pooled_n.get(w, 0)])[0]]
    if thin:
        pts = shown.points.copy()
        mask = pts["ward_label"].isin(thin)
        pts.loc[mask, ["cl", "lcl", "ucl"]] = np.nan
        shown = shown.with_points(pts)
    figure = shown.figure(title=f"FFT % positive by month, wards of {trust}")
    label_gaps(figure, hidden, by=shown.by, min_respondents=min_respondents)
    gaps = int(shown.points["y"].isna().sum())

    summary = result.summary.sort_values("phase").groupby("ward_label", sort=False).tail(1)
    concern = summary.loc[summary["variation_type"] == "special_cause_concern", "ward_label"]
    better = summary.loc[summary["variation_type"] == "special_cause_improvement", "ward_label"]

    alt = [
        f"p control charts of the monthly FFT percentage positive, one panel for each of "
        f"{fmt.count(rows['ward_label'].nunique(), 'ward')} of {trust}, {month_span(rows['period'])}."
    ]
    for label, frame in shown.points.groupby("ward_label", sort=True):
        s = summary[summary["ward_label"] == label]
        bits = []
        if len(s) and label not in thin:
            bits.append(f"centre line {fmt.percent(s['cl'].iloc[0], share=False)}")
        valued = frame[np.isfinite(frame["y"].to_numpy(float))].sort_values("x")
        if len(valued):
            last = valued.iloc[-1]
            bits.append(f"latest {fmt.percent(last['y'], share=False)} ({month_text(last['x'])})")
        else:
            bits.append("no month with enough responses to show")
        if len(s) and s["variation_type"].iloc[0]:
            bits.append(variation_label(s["variation_type"].iloc[0], "increase").lower())
        alt.append(f"{label}: " + "; ".join(bits) + ".")
    if gaps:
        alt.append(
            f"{fmt.count(gaps, 'ward-month')} with fewer than {rule.threshold} responses, or "
            "suppressed by NHS England, are gaps."
        )

    table_rows = []
    for label, frame in rows.groupby("ward_label", sort=True):
        n = float(pooled_n.get(label, 0))
        pct = float(pooled["positive"].get(label, 0)) / n if n else np.nan
        table_rows.append(
            {
                "Ward": label,
                "Site": str(frame["site_name"].iloc[-1]),
                "Months with responses": fmt.number(len(frame)),
                "Responses": fmt.number(frame["n"].sum()),
                "% positive (months published)": _shown_pct(pct, n, rule),
            }
        )
    signals = []
    if len(concern):
        signals.append(
            "special cause of **concern** at the latest month: "
            + ", ".join(md_text(w) for w in sorted(concern))
        )
    if len(better):
        signals.append(
            "special cause of **improvement** at the latest month: "
            + ", ".join(md_text(w) for w in sorted(better))
        )
    text = " ".join(
        [
            markdown(
                "Monthly FFT results of the {k} wards of {trust}, {span} (the latest published "
                "months). ",
                k=rows["ward_label"].nunique(),
                trust=trust,
                span=month_span(rows["period"]),
            )
            + f"{_PCT_DEFINITION}.",
            ("Charts: " + "; ".join(signals) + ".")
            if signals
            else "Charts: no ward shows special cause variation (common cause only).",
            f"Months resting on fewer than {rule.threshold} responses are not shown (gaps), "
            "nor those NHS England suppressed (`*`); the limits still use every published "
            "month.",
            "NHS England: the FFT is for change over time within an organisation, not for "
            "comparing providers.",
            mode_sentence(window.trusts, [code], rule),
        ]
    )
    data = shown.points[["ward_label", "x", "y", "n", "cl", "lcl", "ucl", "point_type"]]
    return Section(
        "fft_trend",
        title,
        text,
        table=pd.DataFrame(table_rows),
        table_caption=f"Friends and Family Test, wards of {trust}, {month_span(rows['period'])}",
        figure=figure,
        alt=" ".join(alt),
        data=data.rename(columns={"x": "period", "y": "pct_positive"}).reset_index(drop=True),
    )
