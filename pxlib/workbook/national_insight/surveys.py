"""The national surveys of one trust where the folder has them, each with its caveat: the
National Cancer Patient Experience Survey (:func:`ncpes_section`), the CQC Adult Inpatient
Survey (:func:`cqc_section`) and the NHS Staff Survey's People Promise scores
(:func:`staff_section`).
"""

from __future__ import annotations

from pathlib import Path

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
from pxlib.workbook.national_insight.section import Section, read_or_reason

__all__ = ["cqc_section", "ncpes_section", "staff_section"]


def ncpes_section(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
) -> Section:
    """The trust's National Cancer Patient Experience Survey scores of the latest year in
    the files: case-mix adjusted score against its expected range, per question (results
    on fewer than ``min_respondents`` respondents not shown)."""
    from pxlib.data.national.ncpes import ncpes_series_break

    national = find_national(data_dir)
    code = normalised_code(trust_code)
    title = "National Cancer Patient Experience Survey"
    frame = read_or_reason("ncpes", title, national.ncpes, national.ncpes_frame)
    if isinstance(frame, Section):
        return frame
    name = org_name(code, organisations_for(data_dir, organisations), code)
    rows = frame[(frame["level"] == "trust") & (frame["org_code"].astype(str).str.upper() == code)]
    if rows.empty:
        return Section(
            "ncpes",
            title,
            markdown("The NCPES files have no trust-level results for {code}.", code=code),
            available=False,
        )
    rule = small_numbers(min_respondents)
    year = int(rows["year"].max())
    latest = rows[rows["year"] == year].sort_values(
        ["cancer_type", "question"], na_position="first"
    )
    hidden = rule.hides(latest["n_respondents"].to_numpy()) | latest["suppressed"].to_numpy(bool)

    def shown(value, h):
        return rule.note if h else fmt.percent(value)

    table = pd.DataFrame(
        {
            "Cancer type": latest["cancer_type"].fillna("all cancers").astype(str),
            "Question": latest["question"].astype(str),
            "Respondents": [
                rule.note if h else fmt.number(n)
                for n, h in zip(latest["n_respondents"], hidden, strict=True)
            ],
            "Adjusted score": [
                shown(v, h) for v, h in zip(latest["adjusted_score"], hidden, strict=True)
            ],
            "Expected range": [
                rule.note if h else f"{fmt.percent(lo)} to {fmt.percent(hi)}"
                for lo, hi, h in zip(
                    latest["expected_lower"], latest["expected_upper"], hidden, strict=True
                )
            ],
            "Reading": [
                "" if h else str(r or "") for r, h in zip(latest["reading"], hidden, strict=True)
            ],
        }
    )
    readings = latest.loc[~hidden, "reading"].fillna("")
    below = int((readings == "below expected range").sum())
    above = int((readings == "above expected range").sum())
    brk = ncpes_series_break(rows["year"])
    text = " ".join(
        p
        for p in (
            markdown(
                "NCPES {year}, {trust}: {k} results; {below} below and {above} above the "
                "expected range for the trust's patients.",
                year=year,
                trust=labelled(name, code),
                k=int((~hidden).sum()),
                below=below,
                above=above,
            ),
            "Scores are case-mix adjusted and read against the range expected for a trust "
            "with these patients, not ranked against other trusts. The published layout and "
            "the adjustment method are unconfirmed here: check the figures against the "
            "published file.",
            f"**{md_text(brk)}**" if brk else "",
            f"Results resting on fewer than {rule.threshold} respondents are not shown.",
        )
        if p
    )
    return Section(
        "ncpes",
        title,
        text,
        table=table,
        table_caption=f"NCPES {year}: case-mix adjusted scores, {labelled(name, code)}",
        data=latest.assign(shown=~hidden).reset_index(drop=True),
    )


def cqc_section(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
) -> Section:
    """The trust's CQC Adult Inpatient Survey scores of the latest year in the files, per
    question, as published (standardised trust scores); a trust with fewer than
    ``min_respondents`` respondents shows none."""
    national = find_national(data_dir)
    code = normalised_code(trust_code)
    title = "CQC Adult Inpatient Survey"
    frame = read_or_reason("cqc", title, national.cqc, national.cqc_frame)
    if isinstance(frame, Section):
        return frame
    frame = frame[frame["survey"].astype(str) == "ip"] if (frame["survey"] == "ip").any() else frame
    rows = frame[frame["trust_code"].astype(str).str.upper() == code]
    name = org_name(code, organisations_for(data_dir, organisations), code)
    if rows.empty:
        return Section(
            "cqc",
            title,
            markdown("The CQC survey files have no results for {code}.", code=code),
            available=False,
        )
    rule = small_numbers(min_respondents)
    year = int(rows["year"].max())
    latest = rows[rows["year"] == year].sort_values(["question", "statistic"])
    hidden = rule.hides(latest["n_respondents"].to_numpy()) | latest["suppressed"].to_numpy(bool)
    table = pd.DataFrame(
        {
            "Question": latest["question"].astype(str),
            "Statistic": latest["statistic"].astype(str),
            "Trust score": [
                rule.note if h else fmt.number(v, 1)
                for v, h in zip(latest["value"], hidden, strict=True)
            ],
            "Respondents": [
                rule.note if h else fmt.number(n)
                for n, h in zip(latest["n_respondents"], hidden, strict=True)
            ],
        }
    )
    text = " ".join(
        [
            markdown(
                "CQC Adult Inpatient Survey {year}, {trust}: {k} question scores as published.",
                year=year,
                trust=labelled(name, code),
                k=int((~hidden).sum()),
            ),
            "Trust scores are standardised for the age, sex and route of admission of each "
            "trust's respondents and are comparable only within one survey year and type. "
            "CQC says whether a trust is better, worse or about the same as most trusts by "
            "an expected range, not by ranking (its cut-offs are unconfirmed here).",
            f"Results resting on fewer than {rule.threshold} respondents are not shown.",
        ]
    )
    return Section(
        "cqc",
        title,
        text,
        table=table,
        table_caption=f"CQC Adult Inpatient Survey {year}: trust scores, {labelled(name, code)}",
        data=latest.assign(shown=~hidden).reset_index(drop=True),
    )


def staff_section(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    organisations: pd.DataFrame | None = None,
) -> Section:
    """The trust's NHS Staff Survey People Promise element and theme scores (0-10), each
    year of the files, beside its benchmarking group's score: staff experience beside
    patient experience for the same trust. The files give organisation scores, no
    respondent counts, so there is nothing to suppress here."""
    import plotly.graph_objects as go

    from pxlib.escape import html_text
    from pxlib.spc.theme import NHS_BLUE, NHS_DARK_GREY, TEMPLATE

    national = find_national(data_dir)
    code = normalised_code(trust_code)
    title = "NHS Staff Survey: People Promise"
    frame = read_or_reason("staff", title, national.staff, national.staff_frame)
    if isinstance(frame, Section):
        return frame
    rows = frame[
        (frame["org_code"].astype(str).str.upper() == code)
        & frame["element_type"].fillna("").astype(str).ne("")
    ]
    name = org_name(code, organisations_for(data_dir, organisations), code)
    if rows.empty:
        return Section(
            "staff",
            title,
            markdown("The NHS Staff Survey files have no element scores for {code}.", code=code),
            available=False,
        )
    years = sorted(int(y) for y in rows["year"].unique())
    year = years[-1]
    order = list(dict.fromkeys(rows["element"].astype(str)))
    latest = rows[rows["year"] == year].set_index("element").reindex(order).reset_index()
    wide = rows.pivot_table(index="element", columns="year", values="score", aggfunc="first")
    wide = wide.reindex(order)
    table = pd.DataFrame({"Element or theme": order})
    for y in years:
        table[f"Score {y}"] = [fmt.number(v, 1) for v in wide[y]]
    table[f"Benchmark group {year}"] = [fmt.number(v, 1) for v in latest["benchmark_score"]]
    groups = latest["benchmark_group"].dropna().astype(str)
    group = groups.iloc[0] if len(groups) else ""

    fig = go.Figure(layout={"template": TEMPLATE, "height": 120 + 34 * len(order)})
    labels = [html_text(e) for e in order]
    fig.add_trace(
        go.Scatter(
            x=latest["score"].tolist(),
            y=labels,
            mode="markers",
            name=html_text(f"{name} {year}"),
            marker={"symbol": "circle", "size": 11, "color": NHS_BLUE},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=latest["benchmark_score"].tolist(),
            y=labels,
            mode="markers",
            name=html_text("Benchmarking group"),
            marker={"symbol": "line-ns-open", "size": 16, "color": NHS_DARK_GREY},
        )
    )
    fig.update_layout(
        title={"text": title_html(f"NHS Staff Survey {year}: {labelled(name, code)} (0-10)")},
        xaxis={"title": {"text": "Score out of 10"}, "range": [0, 10]},
        yaxis={"autorange": "reversed"},
    )
    alt = (
        f"Dot plot of the NHS Staff Survey {year} scores out of 10 of {labelled(name, code)} for "
        f"{fmt.count(len(order), 'People Promise element and theme', 'People Promise elements and themes')}, "
        "each beside its benchmarking group's score: "
        + "; ".join(
            f"{e} {fmt.number(s, 1)} (group {fmt.number(b, 1)})"
            for e, s, b in zip(order, latest["score"], latest["benchmark_score"], strict=True)
        )
        + "."
    )
    # as shown (one decimal): a difference the table does not show is not called one
    below = latest.loc[
        latest["score"].round(1) < latest["benchmark_score"].round(1), "element"
    ].tolist()
    text = " ".join(
        [
            markdown(
                "NHS Staff Survey, {trust}, {first} to {last}: People Promise element and theme "
                "scores out of 10, beside the benchmarking group's score{group}.",
                trust=labelled(name, code),
                first=years[0],
                last=year,
                group=f" ({group})" if group else "",
            ),
            "Good staff experience is fundamental for good patient experience: read these "
            "beside the patient results above.",
            (
                f"In {year} the trust's score is below its group's (to one decimal) on "
                + ", ".join(md_text(e) for e in below)
                + "."
            )
            if below
            else f"In {year} the trust's score is at or above its group's on every element.",
            "Organisations are compared only with their benchmarking group (similar "
            "organisations), never ranked; the People Promise framework started in 2021, so "
            "earlier themes are not trended against it.",
        ]
    )
    return Section(
        "staff",
        title,
        text,
        table=table,
        table_caption=f"NHS Staff Survey scores (0-10), {labelled(name, code)}",
        figure=fig,
        alt=alt,
        data=rows.reset_index(drop=True),
    )
