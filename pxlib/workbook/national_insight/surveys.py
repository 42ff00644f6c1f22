"""The national surveys of one trust where the folder has them, each with its caveat: the
National Cancer Patient Experience Survey (:func:`ncpes_section`), the CQC Adult Inpatient
Survey (:func:`cqc_section`) and the NHS Staff Survey's People Promise scores
(:func:`staff_section`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import SmallNumbers, small_numbers
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


@dataclass(frozen=True)
class _TrustRows:
    """One trust's rows of a national survey, with its code and name."""

    code: str
    name: str
    rows: pd.DataFrame


def _trust_rows_or_reason(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    organisations: pd.DataFrame | None,
    *,
    key: str,
    title: str,
    select: Callable[[pd.DataFrame, str], pd.DataFrame],
    none_text: str,
) -> _TrustRows | Section:
    """The trust's rows of data set ``key`` (the files ``NationalFiles.<key>``, read by
    ``NationalFiles.<key>_frame``; ``select(frame, code)`` picks the trust's rows), or the
    section saying why there are none (missing or unreadable files; ``none_text``, Markdown
    with ``{code}``, when the files have no rows of the trust)."""
    national = find_national(data_dir)
    code = normalised_code(trust_code)
    frame = read_or_reason(key, title, getattr(national, key), getattr(national, f"{key}_frame"))
    if isinstance(frame, Section):
        return frame
    rows = select(frame, code)
    if rows.empty:
        return Section(key, title, markdown(none_text, code=code), available=False)
    return _TrustRows(code, org_name(code, organisations_for(data_dir, organisations), code), rows)


def _latest_year(
    rows: pd.DataFrame,
    order: list[str],
    rule: SmallNumbers,
    *,
    na_position: Literal["first", "last"] = "last",
) -> tuple[int, pd.DataFrame, np.ndarray]:
    """The latest year of ``rows``, its rows sorted by ``order``, and which of them are not
    shown (fewer respondents than the rule allows, or suppressed as published)."""
    year = int(rows["year"].max())
    latest = rows[rows["year"] == year].sort_values(order, na_position=na_position)
    hidden = rule.hides(latest["n_respondents"].to_numpy()) | latest["suppressed"].to_numpy(bool)
    return year, latest, hidden


def _unless_hidden(
    write: Callable[..., str], hidden: np.ndarray, rule: SmallNumbers, *columns: Iterable[Any]
) -> list[str]:
    """Each row's values of ``columns`` written by ``write``, or the rule's note where the
    row is hidden."""
    return [rule.note if h else write(*values) for h, *values in zip(hidden, *columns, strict=True)]


def _respondents_sentence(rule: SmallNumbers) -> str:
    return f"Results resting on fewer than {rule.threshold} respondents are not shown."


def _survey_section(
    key: str,
    title: str,
    text: str,
    table: pd.DataFrame,
    caption: str,
    latest: pd.DataFrame,
    hidden: np.ndarray,
) -> Section:
    """The section of a survey's latest year: ``data`` its rows, each marked shown or not."""
    return Section(
        key,
        title,
        text,
        table=table,
        table_caption=caption,
        data=latest.assign(shown=~hidden).reset_index(drop=True),
    )


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

    title = "National Cancer Patient Experience Survey"
    found = _trust_rows_or_reason(
        data_dir,
        trust_code,
        organisations,
        key="ncpes",
        title=title,
        select=lambda frame, code: frame[
            (frame["level"] == "trust") & (frame["org_code"].astype(str).str.upper() == code)
        ],
        none_text="The NCPES files have no trust-level results for {code}.",
    )
    if isinstance(found, Section):
        return found
    code, name, rows = found.code, found.name, found.rows
    rule = small_numbers(min_respondents)
    year, latest, hidden = _latest_year(
        rows, ["cancer_type", "question"], rule, na_position="first"
    )
    table = pd.DataFrame(
        {
            "Cancer type": latest["cancer_type"].fillna("all cancers").astype(str),
            "Question": latest["question"].astype(str),
            "Respondents": _unless_hidden(fmt.number, hidden, rule, latest["n_respondents"]),
            "Adjusted score": _unless_hidden(fmt.percent, hidden, rule, latest["adjusted_score"]),
            "Expected range": _unless_hidden(
                lambda lo, hi: f"{fmt.percent(lo)} to {fmt.percent(hi)}",
                hidden,
                rule,
                latest["expected_lower"],
                latest["expected_upper"],
            ),
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
            _respondents_sentence(rule),
        )
        if p
    )
    caption = f"NCPES {year}: case-mix adjusted scores, {labelled(name, code)}"
    return _survey_section("ncpes", title, text, table, caption, latest, hidden)


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
    title = "CQC Adult Inpatient Survey"
    found = _trust_rows_or_reason(
        data_dir,
        trust_code,
        organisations,
        key="cqc",
        title=title,
        select=_cqc_trust_rows,
        none_text="The CQC survey files have no results for {code}.",
    )
    if isinstance(found, Section):
        return found
    code, name, rows = found.code, found.name, found.rows
    rule = small_numbers(min_respondents)
    year, latest, hidden = _latest_year(rows, ["question", "statistic"], rule)
    table = pd.DataFrame(
        {
            "Question": latest["question"].astype(str),
            "Statistic": latest["statistic"].astype(str),
            "Trust score": _unless_hidden(
                lambda v: fmt.number(v, 1), hidden, rule, latest["value"]
            ),
            "Respondents": _unless_hidden(fmt.number, hidden, rule, latest["n_respondents"]),
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
            _respondents_sentence(rule),
        ]
    )
    caption = f"CQC Adult Inpatient Survey {year}: trust scores, {labelled(name, code)}"
    return _survey_section("cqc", title, text, table, caption, latest, hidden)


def _cqc_trust_rows(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """The trust's rows of the Adult Inpatient Survey (every row when no row is marked ``ip``)."""
    frame = frame[frame["survey"].astype(str) == "ip"] if (frame["survey"] == "ip").any() else frame
    return frame[frame["trust_code"].astype(str).str.upper() == code]


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

    title = "NHS Staff Survey: People Promise"
    found = _trust_rows_or_reason(
        data_dir,
        trust_code,
        organisations,
        key="staff",
        title=title,
        select=lambda frame, code: frame[
            (frame["org_code"].astype(str).str.upper() == code)
            & frame["element_type"].fillna("").astype(str).ne("")
        ],
        none_text="The NHS Staff Survey files have no element scores for {code}.",
    )
    if isinstance(found, Section):
        return found
    code, name, rows = found.code, found.name, found.rows
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
