"""GP Patient Survey results of the trust's catchment practices (:func:`gpps_section`):
``organisations.csv`` rows with ``org_type`` gp_practice and ``catchment_of`` the trust,
weighted percentages and bases as published, the 2024 break in the series stated on the
chart (:func:`pxlib.data.national.series_break`) and the lines not joined across it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.escape import markdown, md_text
from pxlib.workbook.national_insight.common import (
    labelled,
    normalised_code,
    org_name,
    organisations_for,
    title_html,
)
from pxlib.workbook.national_insight.files import NationalFiles, find_national
from pxlib.workbook.national_insight.section import Section, missing_section, read_or_reason

__all__ = ["gpps_section"]


def _catchment(orgs: pd.DataFrame | None, code: str) -> pd.DataFrame:
    cols = {"org_code", "org_type", "catchment_of"}
    if orgs is None or not cols <= set(orgs.columns):
        return pd.DataFrame(columns=["org_code", "org_name"])
    of = orgs["catchment_of"].astype(str).str.strip().str.upper()
    own = orgs["org_code"].astype(str).str.strip().str.upper() == code  # a practice itself
    rows = orgs[(orgs["org_type"].astype(str) == "gp_practice") & ((of == code) | own)]
    return rows.reset_index(drop=True)


def _gpps_figure(shown: pd.DataFrame, label: str, title: str, breaks: list[int]) -> Any:
    import plotly.graph_objects as go

    from pxlib.data.national.gpps import gpps_series
    from pxlib.escape import html_text
    from pxlib.spc.theme import TEMPLATE

    fig = go.Figure(layout={"template": TEMPLATE, "height": 420})
    symbols = ["circle", "diamond", "square", "triangle-up", "x", "star"]
    for i, (practice, frame) in enumerate(shown.groupby("practice", sort=True)):
        frame = frame.sort_values("year")
        first = True
        for _, seg in frame.groupby(frame["year"].map(gpps_series), sort=False):
            fig.add_trace(
                go.Scatter(
                    x=seg["year"].tolist(),
                    y=(seg["pct"] * 100).tolist(),
                    mode="lines+markers",
                    name=html_text(practice),
                    legendgroup=html_text(practice),
                    showlegend=first,
                    marker={"symbol": symbols[i % len(symbols)], "size": 8},
                    hovertemplate=html_text(practice) + " %{x}: %{y:.0f}%<extra></extra>",
                    connectgaps=False,
                )
            )
            first = False
    for year in breaks:
        fig.add_vline(x=year - 0.5, line_dash="dash", line_color="#425563")
        fig.add_annotation(
            x=year - 0.5,
            y=1.02,
            yref="paper",
            text=html_text(f"{year}: new series, not comparable with earlier years"),
            showarrow=False,
            xanchor="left",
        )
    fig.update_layout(
        title={"text": title_html(title)},
        margin={"t": 110},
        xaxis={"title": {"text": "Survey year"}, "dtick": 1},
        yaxis={"title": {"text": "% of respondents (weighted)"}},
    )
    return fig


def gpps_section(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    item: str = "overall_experience",
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
) -> Section:
    """GP Patient Survey results of the trust's catchment practices for ``item`` (a stable
    key of :data:`pxlib.data.national.gpps.GPPS_ITEMS` or a published column name), every
    year of the files: a line per practice, not joined across a series break (2018, 2024),
    which the chart and the text state. Percentages and bases are as published (the
    weighted file's weighted percentages; the base column named), a practice-year with a
    base below ``min_respondents`` or suppressed by the survey (-97) not shown."""
    from pxlib.data.national.gpps import GPPS_ITEMS, SERIES_BREAKS, series_break

    national = find_national(data_dir)
    code = normalised_code(trust_code)
    orgs = organisations_for(data_dir, organisations)
    title = "GP Patient Survey: the trust's catchment practices"
    if not national.gpps:
        return missing_section("gpps", title)
    practices = _catchment(orgs, code)
    if practices.empty:
        text = markdown(
            "`organisations.csv` lists no GP practice in the catchment of {code} (rows with "
            "`org_type` gp_practice and `catchment_of` {code}): add them to see their GP "
            "Patient Survey results.",
            code=code,
        )
        return Section("gpps", title, text, available=False)
    gpps = read_or_reason("gpps", title, national.gpps, lambda: national.gpps_frame(item))
    if isinstance(gpps, Section):
        return gpps
    labels = {i.key: i.label for i in GPPS_ITEMS}
    label = labels.get(item, item)
    codes = set(practices["org_code"].astype(str))
    rows = gpps[(gpps["item"].astype(str) == item) & gpps["practice_code"].astype(str).isin(codes)]
    name = org_name(code, orgs, code)
    if rows.empty:
        text = markdown(
            "The GP Patient Survey files have no result {item} for the catchment practices of "
            "{trust} ({codes}).",
            item=item,
            trust=labelled(name, code),
            codes=", ".join(sorted(codes)),
        )
        return Section("gpps", title, text, available=False)
    rule = small_numbers(min_respondents)
    rows = rows.copy()
    rows["practice"] = [
        labelled(str(n), str(c))
        for n, c in zip(rows["practice_name"], rows["practice_code"], strict=True)
    ]
    hidden = rule.hides(rows["base"].to_numpy()) | rows["suppressed"].to_numpy(bool)
    shown = rows.assign(pct=rows["pct"].where(~hidden), base=rows["base"].where(~hidden))
    years = sorted(int(y) for y in rows["year"].unique())
    breaks = [y for y in SERIES_BREAKS if years[0] < y <= years[-1]]
    figure = _gpps_figure(
        shown.dropna(subset=["pct"]),
        label,
        f"GP Patient Survey: {label}, catchment practices of {labelled(name, code)}",
        breaks,
    )
    weighting = sorted(set(rows["weighting"].astype(str)))
    weighted = weighting == ["weighted"]
    base_cols = sorted(set(rows["base_column"].dropna().astype(str)))
    table = pd.DataFrame(
        {
            "Practice": shown["practice"],
            "Year": shown["year"].astype(int).astype(str),
            "Base (as published)": [
                (rule.note if h and not s else ("suppressed by the survey" if s else fmt.number(b)))
                for b, h, s in zip(shown["base"], hidden, rows["suppressed"], strict=True)
            ],
            "Base column": shown["base_column"].fillna("").astype(str),
            ("% (weighted)" if weighted else "%"): [
                (
                    rule.note
                    if h and not s
                    else ("suppressed by the survey" if s else fmt.percent(p))
                )
                for p, h, s in zip(shown["pct"], hidden, rows["suppressed"], strict=True)
            ],
        }
    ).sort_values(["Practice", "Year"], kind="stable", ignore_index=True)
    brk = series_break(years)
    alt = (
        f"Line chart of the GP Patient Survey result '{label}' for each of "
        f"{fmt.count(rows['practice'].nunique(), 'catchment practice')} of "
        f"{labelled(name, code)}, {years[0]} to {years[-1]}"
        + (
            f", lines broken at {', '.join(map(str, breaks))} where a new series starts"
            if breaks
            else ""
        )
        + ". "
    )
    latest = shown[shown["year"] == years[-1]].dropna(subset=["pct"]).sort_values("practice")
    if len(latest):
        alt += (
            f"{years[-1]}: "
            + "; ".join(
                f"{p} {fmt.percent(v)}"
                for p, v in zip(latest["practice"], latest["pct"], strict=True)
            )
            + ". "
        )
    n_hidden = int(hidden.sum())
    if n_hidden:
        alt += f"{fmt.count(n_hidden, 'practice-year')} not shown (too few responses). "
    alt += brk
    weights = (
        "Percentages are **weighted** (the weighted practice file: weights make the results "
        "represent each practice's registered patients aged 16+)."
        if weighted
        else markdown("Percentages as published in the {kind} file.", kind=" and ".join(weighting))
    )
    bases = markdown(
        "Bases are as the file gives them, from {cols}: `Q<n>base` (up to 2023) is the number "
        "answering the question; `<stem>.baseevalw` (from 2024) is the base of the headline "
        "result, whose `w` suggests it is weighted (unconfirmed).",
        cols=", ".join(base_cols) if base_cols else "no base column",
    )
    text = " ".join(
        part
        for part in (
            markdown(
                "{label}: GP Patient Survey results of the {k} practices in the catchment of "
                "{trust}, {first} to {last}. They describe the local population's experience of "
                "general practice: context for the trust, not a measure of it.",
                label=label,
                k=rows["practice"].nunique(),
                trust=labelled(name, code),
                first=years[0],
                last=years[-1],
            ),
            f"**{md_text(brk)}**" if brk else "",
            weights,
            bases,
            "The survey suppresses results based on fewer than 10 unweighted respondents "
            f"(-97 in the file); results with a base under {rule.threshold} are not shown.",
        )
        if part
    )
    return Section(
        "gpps",
        title,
        text,
        table=table,
        table_caption=f"GP Patient Survey: {label}, catchment practices of {labelled(name, code)}",
        figure=figure,
        alt=alt.strip(),
        data=shown[
            ["practice_code", "practice", "year", "item", "base", "pct", "base_column"]
        ].sort_values(["practice", "year"], ignore_index=True),
    )
