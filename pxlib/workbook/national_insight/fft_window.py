"""The trust's Friends and Family Test rows over the chosen months (:func:`fft_window`: its
wards, the trusts of its ICB, each row's positive answers and responses:
:func:`with_positive_and_n`), a unit's % positive pooled over its published months
(:func:`pooled_positive`), each trust's collection modes in words (:func:`mode_sentence`),
and the section saying why there is nothing to show (:func:`fft_window_or_reason`,
:func:`fft_window_for`). Read by :mod:`.fft_trend` and :mod:`.fft_funnels`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import SmallNumbers
from pxlib.escape import markdown
from pxlib.workbook.national_insight.common import (
    labelled,
    normalised_code,
    org_name,
    organisations_for,
)
from pxlib.workbook.national_insight.files import (
    NATIONAL_DIR,
    NationalFiles,
    Unreadable,
    find_national,
)
from pxlib.workbook.national_insight.section import Section, read_or_reason

__all__ = [
    "FFT_TITLE",
    "MODE_WORDS",
    "FFTWindow",
    "fft_window",
    "fft_window_for",
    "fft_window_or_reason",
    "mode_sentence",
    "pooled_positive",
    "with_positive_and_n",
]

#: the published column of each collection mode, in words
MODE_WORDS = {
    "mode_sms": "SMS",
    "mode_electronic_discharge": "electronic at discharge",
    "mode_electronic_home": "electronic at home",
    "mode_paper_discharge": "paper at discharge",
    "mode_paper_home": "paper at home",
    "mode_electronic_at_appointment": "electronic at the appointment",
    "mode_electronic_after_appointment": "electronic after the appointment",
    "mode_paper_at_appointment": "paper at the appointment",
    "mode_paper_after_appointment": "paper after the appointment",
    "mode_telephone": "telephone",
    "mode_online": "online",
    "mode_other": "other",
}
#: the heading every FFT section starts with
FFT_TITLE = "Friends and Family Test"


@dataclass(frozen=True)
class FFTWindow:
    """The trust's FFT rows over the chosen months."""

    code: str
    name: str
    icb_code: str
    icb_name: str
    wards: pd.DataFrame  # ward rows of the trust, with ward_label, positive, n
    trusts: pd.DataFrame  # trust rows of the ICB, over the same months, with positive, n
    months: pd.DatetimeIndex


def with_positive_and_n(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``positive`` (very good + good answers) and ``n`` (all responses, don't
    know included: the denominator of NHS England's % positive)."""
    return rows.assign(positive=rows["very_good"] + rows["good"], n=rows["total_responses"])


def pooled_positive(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each ``by`` unit's ``positive`` and ``n`` summed over its published months (a month NHS
    England suppressed, ``positive`` missing, or without responses leaves the pool), in
    ``by`` order; a unit with no published month is not listed."""
    published = rows[rows["positive"].notna() & (rows["n"] > 0)]
    return published.groupby(by, sort=True)[["positive", "n"]].sum().reset_index()


def fft_window(
    national: NationalFiles,
    code: str,
    months: int,
    organisations: pd.DataFrame | None,
    workers: int,
) -> FFTWindow | None:
    """The trust's ward rows (with ``ward_label``, ``positive``, ``n``) and its ICB's trust
    rows over the last ``months`` months of its results; None when the files have none of
    the trust."""
    levels = national.fft_frames(workers=workers)
    if "ward" not in levels or "trust" not in levels:
        raise Unreadable("the FFT workbooks have no Wards or Trusts sheet")
    ward, trust = levels["ward"], levels["trust"]
    own = ward[ward["org_code"].astype(str).str.upper() == code]
    own_trust = trust[trust["org_code"].astype(str).str.upper() == code]
    if own_trust.empty and own.empty:
        return None
    rows = own_trust if len(own_trust) else own
    last = pd.Timestamp(rows["period"].max())
    first = last - pd.DateOffset(months=max(int(months), 1) - 1)
    own = own[own["period"].between(first, last)].copy()
    icb = str(rows["icb_code"].iloc[-1])
    icb_name = icb
    if "icb" in levels and "icb_name" in levels["icb"].columns:
        names = levels["icb"].loc[levels["icb"]["icb_code"].astype(str) == icb, "icb_name"]
        icb_name = str(names.iloc[-1]) if len(names) else icb
    peers = with_positive_and_n(
        trust[(trust["icb_code"].astype(str) == icb) & trust["period"].between(first, last)]
    )
    name = org_name(code, organisations, str(rows["org_name"].iloc[-1]))
    dup = own.groupby("ward")["site_code"].transform("nunique") > 1
    own["ward_label"] = np.where(
        dup, own["ward"].astype(str) + " (" + own["site_name"].astype(str) + ")", own["ward"]
    )
    own = with_positive_and_n(own)
    return FFTWindow(
        code,
        name,
        icb,
        icb_name,
        own.reset_index(drop=True),
        peers.reset_index(drop=True),
        pd.date_range(first, last, freq="MS"),
    )


def mode_sentence(trusts: pd.DataFrame, codes: Iterable[str], rule: SmallNumbers) -> str:
    """Markdown: each trust's collection modes (share of its responses) over the window."""
    modes = [c for c in MODE_WORDS if c in trusts.columns]
    if not modes:
        return "The files give no collection modes."
    parts = []
    for code in codes:
        rows = trusts[trusts["org_code"].astype(str) == code]
        counts = rows[modes].sum(min_count=1)
        total = float(counts.sum())
        if not np.isfinite(total) or rule.hides([total])[0] or total == 0:
            continue
        shares = (counts / total).sort_values(ascending=False)
        words = ", ".join(
            f"{MODE_WORDS[str(m)]} {fmt.percent(s)}" for m, s in shares.items() if s > 0
        )
        name = str(rows["org_name"].iloc[-1]) if len(rows) else code
        parts.append(markdown("{name}: ", name=labelled(name, code)) + words)
    if not parts:
        return "The files give no collection modes for these trusts."
    return "Collection modes (share of responses): " + "; ".join(parts) + "."


def fft_window_or_reason(
    national: NationalFiles,
    code: str,
    title: str,
    months: int,
    orgs: pd.DataFrame | None,
    workers: int,
) -> FFTWindow | Section:
    """The trust's FFT window, or the section saying why there is nothing to show (no
    files, unreadable files, or none of the trust)."""
    window = read_or_reason(
        "fft", title, national.fft, lambda: fft_window(national, code, months, orgs, workers)
    )
    if isinstance(window, Section):
        return window
    if window is None:
        text = markdown(
            "The Friends and Family Test files in `{folder}/` have no inpatient results for "
            "{code}.",
            folder=NATIONAL_DIR,
            code=code,
        )
        return Section("fft", title, text, available=False)
    return window


def fft_window_for(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    title: str,
    *,
    months: int,
    organisations: pd.DataFrame | None,
    workers: int,
) -> FFTWindow | Section:
    """:func:`fft_window_or_reason` for a data folder and a trust code as a user gives them
    (the code normalised, ``organisations`` read from the folder when not given)."""
    national = find_national(data_dir)
    code = normalised_code(trust_code)
    orgs = organisations_for(data_dir, organisations)
    return fft_window_or_reason(national, code, title, months, orgs, workers)
