"""Friends and Family Test funnels, **never league tables**: the trust's wards
(:func:`fft_ward_funnel`) and the trusts of its ICB (:func:`fft_icb_funnel`), % positive
pooled over the chosen months (:func:`pxlib.spc.funnel`), with NHS England's caveat that FFT
results cannot be used to compare providers directly [T-IP Notes!A15] (:data:`FFT_CAVEAT`)
and each trust's collection modes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import SmallNumbers, small_numbers
from pxlib.escape import markdown, md_text
from pxlib.workbook.national_insight.common import labelled, month_span
from pxlib.workbook.national_insight.fft_window import (
    FFT_TITLE,
    MODE_WORDS,
    fft_window_for,
    mode_sentence,
    pooled_positive,
)
from pxlib.workbook.national_insight.files import NationalFiles
from pxlib.workbook.national_insight.section import Section

__all__ = ["FFT_CAVEAT", "fft_icb_funnel", "fft_ward_funnel"]

#: NHS England's caveat, shown wherever FFT results of units are set side by side
FFT_CAVEAT = (
    "NHS England: FFT results cannot be used to compare providers directly, because "
    "collection methods are flexible and local populations differ; the FFT is for change "
    "over time within an organisation (use the national surveys to compare providers). "
    "So this is a funnel, not a league table: a unit inside the limits differs from the "
    "others by no more than chance, and no order of units is implied."
)
_FUNNEL_LIMITS = (
    "The funnel's limits are 2 and 3 standard errors (about 95 % and 99.7 %) around the "
    "pooled average, for chance alone."
)


def _funnel_section(
    key: str,
    title: str,
    units: pd.DataFrame,
    unit: str,
    *,
    rule: SmallNumbers,
    what: str,
    whose: str,
    span: str,
    mark: str | None,
    extra_text: str,
) -> Section:
    """A funnel of pooled FFT % positive of ``units`` (columns unit, positive, n)."""
    from pxlib.spc import funnel
    from pxlib.spc.result import FunnelResult

    pooled = pooled_positive(units, unit)
    if pooled.empty:
        return Section(
            key, title, f"No {what} with published FFT counts in {span}.", available=False
        )
    result = funnel(
        pooled, unit, "positive", "n", kind="p", multiply=100, y_label="FFT: % positive"
    )
    pts = result.points
    small = rule.hides(pts["n"].to_numpy())
    shown = FunnelResult(
        points=pts[~small].reset_index(drop=True),
        spec=result.spec,
        unit=unit,
        overdispersion=result.overdispersion,
        cl=result.cl,
        sigma_z=result.sigma_z,
    )
    figure = shown.figure(
        improvement="increase",
        title=f"FFT % positive, {whose}, {span}",
        y_title="% positive",
        x_title="Responses",
    )
    sp = shown.points
    above = sp.loc[sp["signal"] & (sp["y"] > sp["cl"]), unit].tolist()
    below = sp.loc[sp["signal"] & (sp["y"] < sp["cl"]), unit].tolist()
    if mark is not None and mark in set(sp[unit]):
        row = sp[sp[unit] == mark].iloc[0]
        from pxlib.escape import html_text

        figure.add_annotation(
            x=float(row["n"]),
            y=float(row["y"]),
            text=html_text("this trust"),
            showarrow=True,
            arrowhead=2,
            ax=30,
            ay=-30,
        )
    alt = (
        f"Funnel plot of FFT percentage positive, {whose}, pooled over {span}: each "
        f"{what[:-1] if what.endswith('s') else what}'s percentage positive against its "
        f"number of responses, with limits at 2 and 3 standard errors around the pooled "
        f"average of {fmt.percent(result.cl, share=False)}. "
    )
    alt += f"Above the limits: {', '.join(map(str, above))}. " if above else ""
    alt += f"Below the limits: {', '.join(map(str, below))}. " if below else ""
    if not above and not below:
        alt += "None is outside the limits: the differences are within chance. "
    if mark is not None:
        if mark in set(above):
            where = "above the limits"
        elif mark in set(below):
            where = "below the limits"
        elif mark in set(sp[unit]):
            where = "within the limits"
        else:
            where = f"not shown (fewer than {rule.threshold} responses)"
        alt += f"This trust, {mark}, is {where}. "
    if small.any():
        alt += (
            f"{fmt.count(int(small.sum()), what[:-1] if what.endswith('s') else what, what)} "
            f"with fewer than {rule.threshold} responses are not shown."
        )
    outside = []
    if above:
        outside.append("above the limits: " + ", ".join(md_text(u) for u in above))
    if below:
        outside.append("below the limits: " + ", ".join(md_text(u) for u in below))
    text = " ".join(
        [
            markdown(
                "Funnel of FFT % positive, {whose}, pooled over {span} (every month whose counts "
                "NHS England published).",
                whose=whose,
                span=span,
            ),
            ("Outside the 3-sigma limits: " + "; ".join(outside) + ".")
            if outside
            else "None is outside the 3-sigma limits.",
            _FUNNEL_LIMITS,
            f"Units with fewer than {rule.threshold} responses are left out of the picture.",
            FFT_CAVEAT,
            extra_text,
        ]
    ).strip()
    data = pts.assign(shown=~small)
    data.loc[small, ["y", "n"]] = np.nan
    return Section(key, title, text, figure=figure, alt=alt.strip(), data=data)


def fft_ward_funnel(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> Section:
    """A funnel of the trust's wards' FFT % positive pooled over the last ``months`` months
    (:func:`pxlib.spc.funnel`, p; months NHS England suppressed leave the pool), with NHS
    England's caveat and the trust's collection modes in the text."""
    title = f"{FFT_TITLE}: the trust's wards side by side (funnel)"
    window = fft_window_for(
        data_dir, trust_code, title, months=months, organisations=organisations, workers=workers
    )
    if isinstance(window, Section):
        return window
    code = window.code
    rule = small_numbers(min_respondents)
    trust = labelled(window.name, code)
    return _funnel_section(
        "fft_ward_funnel",
        title,
        window.wards,
        "ward_label",
        rule=rule,
        what="wards",
        whose=f"wards of {trust}",
        span=month_span(window.months),
        mark=None,
        extra_text=mode_sentence(window.trusts, [code], rule),
    )


def fft_icb_funnel(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> Section:
    """A funnel of the trusts of the trust's ICB (the ``ICB Code`` of its rows in the FFT
    files), FFT % positive pooled over the last ``months`` months, the trust marked; the
    caption states NHS England's caveat and every trust's collection modes, and ``table``
    lists the trusts' responses and modes in code order (no % positive: not a league
    table)."""
    title = f"{FFT_TITLE}: the trusts of the ICB (funnel)"
    window = fft_window_for(
        data_dir, trust_code, title, months=months, organisations=organisations, workers=workers
    )
    if isinstance(window, Section):
        return window
    code = window.code
    rule = small_numbers(min_respondents)
    peers = window.trusts.copy()
    peers["trust"] = [
        labelled(str(n), str(c)) for n, c in zip(peers["org_name"], peers["org_code"], strict=True)
    ]
    codes = sorted(peers["org_code"].astype(str).unique())
    icb = labelled(window.icb_name, window.icb_code)
    mine = peers.loc[peers["org_code"].astype(str) == code, "trust"]
    section = _funnel_section(
        "fft_icb_funnel",
        title,
        peers,
        "trust",
        rule=rule,
        what="trusts",
        whose=f"trusts of {icb}",
        span=month_span(window.months),
        mark=mine.iloc[-1] if len(mine) else None,
        extra_text=mode_sentence(peers, codes, rule),
    )
    modes = [c for c in MODE_WORDS if c in peers.columns]
    rows = []
    for c in codes:
        p = peers[peers["org_code"].astype(str) == c]
        total = float(p["n"].sum())
        row = {"Trust": p["trust"].iloc[-1], "Responses": fmt.number(total)}
        counts = p[modes].sum(min_count=1)
        mode_total = float(counts.sum())
        for m in modes:
            share = counts[m] / mode_total if mode_total else np.nan
            row[f"Mode: {MODE_WORDS[m]}"] = (
                rule.note if rule.hides([mode_total])[0] else fmt.percent(share)
            )
        rows.append(row)
    return Section(
        section.key,
        section.title,
        section.text,
        table=pd.DataFrame(rows),
        table_caption=(
            f"Trusts of {icb}, {month_span(window.months)}: responses and collection modes "
            "(code order; NHS England's caveat: not for ranking providers)"
        ),
        figure=section.figure,
        alt=section.alt,
        data=section.data,
        available=section.available,
    )
