"""National insight for notebook 01: what the published national data say about one trust.

Every function here is pure: it reads the files of the data folder's ``national/`` folder
(:data:`NATIONAL_DIR`; ``pxlib batch`` copies it to every organisation, see
:mod:`pxlib.report.isolation`) and returns :class:`Section` objects -- a heading and
Markdown sentences (every value from the data escaped by :mod:`pxlib.escape`), a
display-ready table (numbers written by :mod:`pxlib.fmt`), a plotly figure with its alt
text -- that a notebook displays; nothing is printed or shown here.

- **Friends and Family Test** (:func:`fft_sections`): the trust's wards' monthly % positive
  as p control charts (:func:`pxlib.spc.chart`), a funnel of its wards and a funnel of the
  trusts of its ICB (:func:`pxlib.spc.funnel`): **funnels, never league tables**, with NHS
  England's caveat that FFT results cannot be used to compare providers directly
  [T-IP Notes!A15] and each trust's collection modes in the caption;
- **GP Patient Survey** (:func:`gpps_section`): the trust's catchment practices
  (``organisations.csv``: ``org_type`` gp_practice, ``catchment_of`` the trust), weighted
  percentages and bases as published, the 2024 break in the series stated on the chart
  (:func:`pxlib.data.national.series_break`) and the lines not joined across it;
- **NCPES**, **CQC Adult Inpatient Survey** and **NHS Staff Survey**
  (:func:`ncpes_section`, :func:`cqc_section`, :func:`staff_section`): the trust's
  results where the folder has them, each with its caveat;
- a missing file gives a sentence naming the file to download and where from
  (:data:`SOURCES`, after ``../shared/national-data.md``).

**Small numbers**: one rule, :func:`pxlib.disclosure.small_numbers`: a figure resting on
fewer than ``min_respondents`` (default 10) responses is not shown -- a ward-month of FFT
(a gap in its chart), a ward or trust in a funnel, a GPPS practice-year (judged on its
published base), an NCPES or CQC result (on its respondents). NHS England's own
suppression (``*``) and the GPPS sentinel (-97) are gaps too. Statistics (centre lines,
limits, funnels) are computed from every published figure first; only what is shown is
hidden, as everywhere in the workbook.

Files are told apart by name: FFT workbooks are the ``.xlsx``/``.xlsm`` files not named
below; GPPS practice files ``GPPS_<YYYY>_...Practice....csv`` (as published); NCPES a name
containing ``cpes`` or ``cancer``; CQC an ``.ods`` file or a name containing ``benchmark``
or a survey code such as ``IP20``; NHS Staff Survey a name containing ``staff``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.errors import ChartWarning, PxlibError, PxlibWarning
from pxlib.escape import markdown, md_text

__all__ = [
    "FFT_CAVEAT",
    "NATIONAL_DIR",
    "SOURCES",
    "NationalFiles",
    "Section",
    "cqc_section",
    "fft_icb_funnel",
    "fft_sections",
    "fft_ward_funnel",
    "fft_ward_trend",
    "find_national",
    "gpps_section",
    "missing_sentence",
    "national_sections",
    "ncpes_section",
    "staff_section",
]

#: the folder of the data folder holding the national files
NATIONAL_DIR = "national"

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


@dataclass(frozen=True)
class Source:
    """What to download for one data set, and from where (``national-data.md``)."""

    what: str
    file: str
    where: str


#: where each national data set comes from (``../shared/national-data.md``, sources)
SOURCES: dict[str, Source] = {
    "fft": Source(
        "Friends and Family Test inpatient data",
        "`friends-and-family-test-inpatient-data-<month>-<year>.xlsm` (one workbook a month; "
        "keep each month's file)",
        "NHS England's Friends and Family Test data page, "
        "https://www.england.nhs.uk/fft/friends-and-family-test-data/",
    ),
    "gpps": Source(
        "GP Patient Survey practice results",
        "`GPPS_<YYYY>_Practice_data_(weighted)_(csv)_PUBLIC.csv` (one a year)",
        "the GP Patient Survey's survey results, practice data (CSV), "
        "https://www.gp-patient.co.uk/",
    ),
    "ncpes": Source(
        "National Cancer Patient Experience Survey trust results",
        "the trust-level scores (a CSV or Excel file whose name contains `cpes`; the "
        "published file names and layout are unconfirmed, pxlib reads the columns of "
        "`pxlib.data.national.ncpes.NCPES_SCORES_SCHEMA`)",
        "the survey's results site, https://nhssurveys.co.uk/cpes/",
    ),
    "cqc": Source(
        "CQC Adult Inpatient Survey trust results",
        "the trust-level benchmark file, e.g. `20210917 IP20 Trust-level benchmark ODS V1.ods` "
        "(sheets `Trust_Scores` and `Trust_Respondents`)",
        "the Care Quality Commission's NHS patient survey results, https://www.cqc.org.uk/",
    ),
    "staff": Source(
        "NHS Staff Survey People Promise scores",
        "the organisation scores (a CSV or Excel file whose name contains `staff`, with the "
        "columns `year`, `org_code`, `element`, `score`, `benchmark_score`; the published "
        "layout is unconfirmed)",
        "the NHS Staff Survey results, https://www.nhsstaffsurveys.com/",
    ),
}


def missing_sentence(key: str, detail: str = "") -> str:
    """Markdown: which file to put in ``national/`` for data set ``key`` and where from."""
    src = SOURCES[key]
    lead = f"No {src.what} in the data folder's `{NATIONAL_DIR}/` folder"
    lead += f" ({md_text(detail)})" if detail else ""
    return f"{lead}. Download {src.file} from {src.where} and save it in `{NATIONAL_DIR}/`."


@dataclass(frozen=True)
class Section:
    """One part of the national insight, ready to show.

    ``title`` and ``text`` are Markdown with every data value escaped; ``table`` is a
    display-ready frame of text (numbers formatted, small numbers replaced by the rule's
    note) with ``table_caption``; ``figure`` a plotly Figure with ``alt``, its description
    in plain words; ``data`` the numbers behind what is shown (small numbers set missing).
    ``available`` is False when the data set is missing or unreadable (``text`` says what
    to do)."""

    key: str
    title: str
    text: str
    table: pd.DataFrame | None = None
    table_caption: str = ""
    figure: object = None
    alt: str = ""
    data: pd.DataFrame | None = None
    available: bool = True


# --- the files ------------------------------------------------------------------------------

_GPPS_NAME = re.compile(r"^gpps_\d{4}_.*practice.*\.(csv|xlsx)$", re.I)
_CQC_NAME = re.compile(r"benchmark|(?<![a-z])(ip|cmh|uec)\d{2}(?!\d)|trust_scores", re.I)
_TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".ods")


#: published files already read in this process: {(kind, contents digest): value}
_PUBLISHED: dict[tuple[str, str], object] = {}
_PUBLISHED_KEEP = 2


def _digest(paths: Iterable[Path]) -> str:
    """SHA-256 of the files' names and bytes, in the order given."""
    import hashlib

    from pxlib.report.isolation import file_sha256

    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def _published(kind: str, paths: list[Path], read):
    """``read()``, or a copy of what it gave for the same files (by content) before in
    this process. A batch kernel makes many organisations' reports in turn
    (:mod:`pxlib.report.kernel_state`) and each has the same published national files
    (copied byte for byte to every organisation: aggregate figures, no record of anyone),
    so they are parsed once; a frame from them names files, never a folder. Errors are
    not kept (their text names the folder)."""
    key = (kind, _digest(paths))
    if key not in _PUBLISHED:
        value = read()
        while len(_PUBLISHED) >= _PUBLISHED_KEEP:
            _PUBLISHED.pop(next(iter(_PUBLISHED)))
        _PUBLISHED[key] = value
    value = _PUBLISHED[key]
    if isinstance(value, dict):
        return type(value)({k: v.copy() for k, v in value.items()})
    return value.copy()


@dataclass
class NationalFiles:
    """The national files of a data folder, told apart by name (module docstring), with
    each data set read once (``*_frame`` methods; a reading error is raised again)."""

    folder: Path
    fft: list[Path] = field(default_factory=list)
    gpps: list[Path] = field(default_factory=list)
    ncpes: list[Path] = field(default_factory=list)
    cqc: list[Path] = field(default_factory=list)
    staff: list[Path] = field(default_factory=list)
    _cache: dict = field(default_factory=dict, repr=False)

    def _once(self, key: object, read):
        if key not in self._cache:
            try:
                self._cache[key] = (read(), None)
            except PxlibError as exc:
                self._cache[key] = (None, exc)
        value, error = self._cache[key]
        if error is not None:
            raise error
        return value

    def fft_frames(self, workers: int = 1):
        """Inpatient FFT of every workbook: :func:`pxlib.data.national.read_fft_dir`, shared
        with the kernel's later reports by the workbooks' contents (:func:`_published`)."""
        from pxlib.data.national import read_fft_dir

        def read():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PxlibWarning)
                return read_fft_dir(
                    self.folder, setting="inpatient", files=self.fft, workers=workers
                )

        return self._once("fft", lambda: _published("fft", self.fft, read))

    def gpps_frame(self, item: str) -> pd.DataFrame:
        """One item of every GPPS practice file: :func:`pxlib.data.national.read_gpps_dir`."""
        from pxlib.data.national import read_gpps_dir

        return self._once(("gpps", item), lambda: read_gpps_dir(self.folder, items=[item]))

    def ncpes_frame(self) -> pd.DataFrame:
        from pxlib.data.national import read_ncpes

        return self._once(
            "ncpes", lambda: pd.concat([read_ncpes(p) for p in self.ncpes], ignore_index=True)
        )

    def cqc_frame(self) -> pd.DataFrame:
        from pxlib.data.national import read_cqc

        return self._once(
            "cqc", lambda: pd.concat([read_cqc(p).scores for p in self.cqc], ignore_index=True)
        )

    def staff_frame(self) -> pd.DataFrame:
        from pxlib.data.national import read_staff_survey

        return self._once(
            "staff",
            lambda: pd.concat([read_staff_survey(p) for p in self.staff], ignore_index=True),
        )


class _Unreadable(PxlibError):
    """A national data set that cannot be used as it is (the message says why)."""


def find_national(data_dir: str | Path | NationalFiles) -> NationalFiles:
    """The national files of ``data_dir/national/`` (none when the folder is absent)."""
    if isinstance(data_dir, NationalFiles):
        return data_dir
    folder = Path(data_dir) / NATIONAL_DIR
    found = NationalFiles(folder)
    if not folder.is_dir():
        return found
    for p in sorted(folder.iterdir()):
        name = p.name.lower()
        if (
            not p.is_file()
            or name.startswith((".", "~$"))
            or p.suffix.lower() not in _TABLE_SUFFIXES
        ):
            continue
        if _GPPS_NAME.match(p.name):
            found.gpps.append(p)
        elif "staff" in name:
            found.staff.append(p)
        elif "cpes" in name or "cancer" in name:
            found.ncpes.append(p)
        elif p.suffix.lower() == ".ods" or _CQC_NAME.search(p.stem):
            found.cqc.append(p)
        elif p.suffix.lower() in (".xlsx", ".xlsm"):
            found.fft.append(p)
    return found


def _unreadable(key: str, title: str, exc: Exception) -> Section:
    text = (
        f"The {SOURCES[key].what} in `{NATIONAL_DIR}/` could not be read: "
        f"{md_text(str(exc))} Replace the file with the one as published "
        f"({SOURCES[key].where})."
    )
    return Section(key, title, text, available=False)


# --- shared helpers ---------------------------------------------------------------------------


def _code(trust_code: str) -> str:
    from pxlib.data import normalise_code

    return str(normalise_code(str(trust_code)))


def _organisations(data_dir, organisations: pd.DataFrame | None) -> pd.DataFrame | None:
    if organisations is not None:
        return organisations
    if isinstance(data_dir, NationalFiles):
        data_dir = data_dir.folder.parent
    from pxlib.data import find_input, load_organisations

    try:
        path = find_input(data_dir, "organisations")
        return None if path is None else load_organisations(path).data
    except PxlibError:
        return None


def _org_name(code: str, organisations: pd.DataFrame | None, fallback: str = "") -> str:
    if organisations is not None and {"org_code", "org_name"} <= set(organisations.columns):
        rows = organisations[organisations["org_code"].astype(str) == code]
        if len(rows) and str(rows["org_name"].iloc[0]).strip():
            return str(rows["org_name"].iloc[0]).strip()
    return fallback


def _label(name: str, code: str) -> str:
    return f"{name} ({code})" if name and name != code else code


def _month(value) -> str:
    return pd.Timestamp(value).strftime("%b %Y")


def _span(periods) -> str:
    periods = pd.to_datetime(pd.Series(periods)).dropna()
    first, last = periods.min(), periods.max()
    return _month(first) if first == last else f"{_month(first)} to {_month(last)}"


def _shown_pct(value, n, rule) -> str:
    if rule.hides([n])[0]:
        return rule.note
    return fmt.percent(value)


# --- Friends and Family Test ---------------------------------------------------------------

_MODE_WORDS = {
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
_FFT_TITLE = "Friends and Family Test"
_PCT_DEFINITION = (
    "% positive is the share of all answers that were very good or good, don't know "
    "included in the denominator, as NHS England computes it"
)


@dataclass(frozen=True)
class _FFTWindow:
    """The trust's FFT rows over the chosen months."""

    code: str
    name: str
    icb_code: str
    icb_name: str
    wards: pd.DataFrame  # ward rows of the trust, with ward_label, positive, n
    trusts: pd.DataFrame  # trust rows of the ICB, over the same months
    months: pd.DatetimeIndex


def _fft_window(national: NationalFiles, code: str, months: int, organisations, workers: int):
    levels = national.fft_frames(workers=workers)
    if "ward" not in levels or "trust" not in levels:
        raise _Unreadable("the FFT workbooks have no Wards or Trusts sheet")
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
    peers = trust[(trust["icb_code"].astype(str) == icb) & trust["period"].between(first, last)]
    name = _org_name(code, organisations, str(rows["org_name"].iloc[-1]))
    dup = own.groupby("ward")["site_code"].transform("nunique") > 1
    own["ward_label"] = np.where(
        dup, own["ward"].astype(str) + " (" + own["site_name"].astype(str) + ")", own["ward"]
    )
    own["positive"] = own["very_good"] + own["good"]
    own["n"] = own["total_responses"]
    return _FFTWindow(
        code,
        name,
        icb,
        icb_name,
        own.reset_index(drop=True),
        peers.reset_index(drop=True),
        pd.date_range(first, last, freq="MS"),
    )


def _mode_sentence(trusts: pd.DataFrame, codes: Iterable[str], rule) -> str:
    """Markdown: each trust's collection modes (share of its responses) over the window."""
    modes = [c for c in _MODE_WORDS if c in trusts.columns]
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
        words = ", ".join(f"{_MODE_WORDS[m]} {fmt.percent(s)}" for m, s in shares.items() if s > 0)
        name = str(rows["org_name"].iloc[-1]) if len(rows) else code
        parts.append(markdown("{name}: ", name=_label(name, code)) + words)
    if not parts:
        return "The files give no collection modes for these trusts."
    return "Collection modes (share of responses): " + "; ".join(parts) + "."


def _unavailable_fft(national: NationalFiles, code: str, title: str, months, orgs, workers):
    """(window, None) or (None, Section saying why there is nothing to show)."""
    if not national.fft:
        return None, Section("fft", title, missing_sentence("fft"), available=False)
    try:
        window = _fft_window(national, code, months, orgs, workers)
    except PxlibError as exc:
        return None, _unreadable("fft", title, exc)
    if window is None:
        text = markdown(
            "The Friends and Family Test files in `{folder}/` have no inpatient results for "
            "{code}.",
            folder=NATIONAL_DIR,
            code=code,
        )
        return None, Section("fft", title, text, available=False)
    return window, None


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

    national = find_national(data_dir)
    code = _code(trust_code)
    orgs = _organisations(data_dir, organisations)
    title = f"{_FFT_TITLE}: ward by ward, month by month"
    window, missing = _unavailable_fft(national, code, title, months, orgs, workers)
    if missing is not None:
        return missing
    rule = small_numbers(min_respondents)
    rows = window.wards[window.wards["n"] > 0]
    trust = _label(window.name, code)
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
    pooled_n = rows[rows["positive"].notna()].groupby("ward_label")["n"].sum()
    thin = [w for w in rows["ward_label"].unique() if rule.hides([pooled_n.get(w, 0)])[0]]
    if thin:
        pts = shown.points.copy()
        mask = pts["ward_label"].isin(thin)
        pts.loc[mask, ["cl", "lcl", "ucl"]] = np.nan
        shown = dataclasses.replace(shown, points=pts)
    figure = shown.figure(title=f"FFT % positive by month, wards of {trust}")
    label_gaps(figure, hidden, by=shown.by, min_respondents=min_respondents)
    gaps = int(shown.points["y"].isna().sum())

    summary = result.summary.sort_values("phase").groupby("ward_label", sort=False).tail(1)
    concern = summary.loc[summary["variation_type"] == "special_cause_concern", "ward_label"]
    better = summary.loc[summary["variation_type"] == "special_cause_improvement", "ward_label"]

    alt = [
        f"p control charts of the monthly FFT percentage positive, one panel for each of "
        f"{fmt.count(rows['ward_label'].nunique(), 'ward')} of {trust}, {_span(rows['period'])}."
    ]
    for label, frame in shown.points.groupby("ward_label", sort=True):
        s = summary[summary["ward_label"] == label]
        bits = []
        if len(s) and label not in thin:
            bits.append(f"centre line {fmt.percent(s['cl'].iloc[0], share=False)}")
        valued = frame[np.isfinite(frame["y"].to_numpy(float))].sort_values("x")
        if len(valued):
            last = valued.iloc[-1]
            bits.append(f"latest {fmt.percent(last['y'], share=False)} ({_month(last['x'])})")
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
        counted = frame[frame["positive"].notna()]
        n = float(counted["n"].sum())
        pooled = counted["positive"].sum() / n if n else np.nan
        table_rows.append(
            {
                "Ward": label,
                "Site": str(frame["site_name"].iloc[-1]),
                "Months with responses": fmt.number(len(frame)),
                "Responses": fmt.number(frame["n"].sum()),
                "% positive (months published)": _shown_pct(pooled, n, rule),
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
                span=_span(rows["period"]),
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
            _mode_sentence(window.trusts, [code], rule),
        ]
    )
    data = shown.points[["ward_label", "x", "y", "n", "cl", "lcl", "ucl", "point_type"]]
    return Section(
        "fft_trend",
        title,
        text,
        table=pd.DataFrame(table_rows),
        table_caption=f"Friends and Family Test, wards of {trust}, {_span(rows['period'])}",
        figure=figure,
        alt=" ".join(alt),
        data=data.rename(columns={"x": "period", "y": "pct_positive"}).reset_index(drop=True),
    )


def _funnel_section(
    key: str,
    title: str,
    units: pd.DataFrame,
    unit: str,
    *,
    rule,
    what: str,
    whose: str,
    span: str,
    mark: str | None,
    extra_text: str,
) -> Section:
    """A funnel of pooled FFT % positive of ``units`` (columns unit, positive, n)."""
    from pxlib.spc import funnel
    from pxlib.spc.result import FunnelResult

    published = units[units["positive"].notna() & (units["n"] > 0)]  # months with counts
    pooled = published.groupby(unit, sort=True)[["positive", "n"]].sum().reset_index()
    pooled = pooled[(pooled["n"] > 0) & pooled["positive"].notna()]
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
    national = find_national(data_dir)
    code = _code(trust_code)
    orgs = _organisations(data_dir, organisations)
    title = f"{_FFT_TITLE}: the trust's wards side by side (funnel)"
    window, missing = _unavailable_fft(national, code, title, months, orgs, workers)
    if missing is not None:
        return missing
    rule = small_numbers(min_respondents)
    trust = _label(window.name, code)
    return _funnel_section(
        "fft_ward_funnel",
        title,
        window.wards,
        "ward_label",
        rule=rule,
        what="wards",
        whose=f"wards of {trust}",
        span=_span(window.months),
        mark=None,
        extra_text=_mode_sentence(window.trusts, [code], rule),
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
    national = find_national(data_dir)
    code = _code(trust_code)
    orgs = _organisations(data_dir, organisations)
    title = f"{_FFT_TITLE}: the trusts of the ICB (funnel)"
    window, missing = _unavailable_fft(national, code, title, months, orgs, workers)
    if missing is not None:
        return missing
    rule = small_numbers(min_respondents)
    peers = window.trusts.copy()
    peers["trust"] = [
        _label(str(n), str(c)) for n, c in zip(peers["org_name"], peers["org_code"], strict=True)
    ]
    peers["positive"] = peers["very_good"] + peers["good"]
    peers["n"] = peers["total_responses"]
    codes = sorted(peers["org_code"].astype(str).unique())
    icb = _label(window.icb_name, window.icb_code)
    mine = peers.loc[peers["org_code"].astype(str) == code, "trust"]
    section = _funnel_section(
        "fft_icb_funnel",
        title,
        peers,
        "trust",
        rule=rule,
        what="trusts",
        whose=f"trusts of {icb}",
        span=_span(window.months),
        mark=mine.iloc[-1] if len(mine) else None,
        extra_text=_mode_sentence(peers, codes, rule),
    )
    modes = [c for c in _MODE_WORDS if c in peers.columns]
    rows = []
    for c in codes:
        p = peers[peers["org_code"].astype(str) == c]
        total = float(p["n"].sum())
        row = {"Trust": p["trust"].iloc[-1], "Responses": fmt.number(total)}
        counts = p[modes].sum(min_count=1)
        mode_total = float(counts.sum())
        for m in modes:
            share = counts[m] / mode_total if mode_total else np.nan
            row[f"Mode: {_MODE_WORDS[m]}"] = (
                rule.note if rule.hides([mode_total])[0] else fmt.percent(share)
            )
        rows.append(row)
    return Section(
        section.key,
        section.title,
        section.text,
        table=pd.DataFrame(rows),
        table_caption=(
            f"Trusts of {icb}, {_span(window.months)}: responses and collection modes "
            "(code order; NHS England's caveat: not for ranking providers)"
        ),
        figure=section.figure,
        alt=section.alt,
        data=section.data,
        available=section.available,
    )


def fft_sections(
    data_dir: str | Path | NationalFiles,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> list[Section]:
    """:func:`fft_ward_trend`, :func:`fft_ward_funnel` and :func:`fft_icb_funnel` (the FFT
    files read once); one section saying what to download when there are none."""
    national = find_national(data_dir)
    orgs = _organisations(data_dir, organisations)
    kw = {"months": months, "min_respondents": min_respondents, "organisations": orgs}
    first = fft_ward_trend(national, trust_code, workers=workers, **kw)
    if first.key == "fft":  # missing or unreadable: the one sentence is enough
        return [first]
    return [
        first,
        fft_ward_funnel(national, trust_code, **kw),
        fft_icb_funnel(national, trust_code, **kw),
    ]


# --- GP Patient Survey ------------------------------------------------------------------------


def _catchment(orgs: pd.DataFrame | None, code: str) -> pd.DataFrame:
    cols = {"org_code", "org_type", "catchment_of"}
    if orgs is None or not cols <= set(orgs.columns):
        return pd.DataFrame(columns=["org_code", "org_name"])
    of = orgs["catchment_of"].astype(str).str.strip().str.upper()
    own = orgs["org_code"].astype(str).str.strip().str.upper() == code  # a practice itself
    rows = orgs[(orgs["org_type"].astype(str) == "gp_practice") & ((of == code) | own)]
    return rows.reset_index(drop=True)


def _title_html(text: str) -> str:
    """A figure title broken to fit the report column (the template's 17 px title font)."""
    from pxlib.spc.theme import wrapped_html

    return wrapped_html(text, 860, size=17)


def _gpps_figure(shown: pd.DataFrame, label: str, title: str, breaks: list[int]):
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
        title={"text": _title_html(title)},
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
    code = _code(trust_code)
    orgs = _organisations(data_dir, organisations)
    title = "GP Patient Survey: the trust's catchment practices"
    if not national.gpps:
        return Section("gpps", title, missing_sentence("gpps"), available=False)
    practices = _catchment(orgs, code)
    if practices.empty:
        text = markdown(
            "`organisations.csv` lists no GP practice in the catchment of {code} (rows with "
            "`org_type` gp_practice and `catchment_of` {code}): add them to see their GP "
            "Patient Survey results.",
            code=code,
        )
        return Section("gpps", title, text, available=False)
    try:
        gpps = national.gpps_frame(item)
    except PxlibError as exc:
        return _unreadable("gpps", title, exc)
    labels = {i.key: i.label for i in GPPS_ITEMS}
    label = labels.get(item, item)
    codes = set(practices["org_code"].astype(str))
    rows = gpps[(gpps["item"].astype(str) == item) & gpps["practice_code"].astype(str).isin(codes)]
    name = _org_name(code, orgs, code)
    if rows.empty:
        text = markdown(
            "The GP Patient Survey files have no result {item} for the catchment practices of "
            "{trust} ({codes}).",
            item=item,
            trust=_label(name, code),
            codes=", ".join(sorted(codes)),
        )
        return Section("gpps", title, text, available=False)
    rule = small_numbers(min_respondents)
    rows = rows.copy()
    rows["practice"] = [
        _label(str(n), str(c))
        for n, c in zip(rows["practice_name"], rows["practice_code"], strict=True)
    ]
    hidden = rule.hides(rows["base"].to_numpy()) | rows["suppressed"].to_numpy(bool)
    shown = rows.assign(pct=rows["pct"].where(~hidden), base=rows["base"].where(~hidden))
    years = sorted(int(y) for y in rows["year"].unique())
    breaks = [y for y in SERIES_BREAKS if years[0] < y <= years[-1]]
    figure = _gpps_figure(
        shown.dropna(subset=["pct"]),
        label,
        f"GP Patient Survey: {label}, catchment practices of {_label(name, code)}",
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
        f"{_label(name, code)}, {years[0]} to {years[-1]}"
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
                trust=_label(name, code),
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
        table_caption=f"GP Patient Survey: {label}, catchment practices of {_label(name, code)}",
        figure=figure,
        alt=alt.strip(),
        data=shown[
            ["practice_code", "practice", "year", "item", "base", "pct", "base_column"]
        ].sort_values(["practice", "year"], ignore_index=True),
    )


# --- NCPES, CQC, Staff Survey -------------------------------------------------------------------


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
    code = _code(trust_code)
    title = "National Cancer Patient Experience Survey"
    if not national.ncpes:
        return Section("ncpes", title, missing_sentence("ncpes"), available=False)
    try:
        frame = national.ncpes_frame()
    except PxlibError as exc:
        return _unreadable("ncpes", title, exc)
    name = _org_name(code, _organisations(data_dir, organisations), code)
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
                trust=_label(name, code),
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
        table_caption=f"NCPES {year}: case-mix adjusted scores, {_label(name, code)}",
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
    code = _code(trust_code)
    title = "CQC Adult Inpatient Survey"
    if not national.cqc:
        return Section("cqc", title, missing_sentence("cqc"), available=False)
    try:
        frame = national.cqc_frame()
    except PxlibError as exc:
        return _unreadable("cqc", title, exc)
    frame = frame[frame["survey"].astype(str) == "ip"] if (frame["survey"] == "ip").any() else frame
    rows = frame[frame["trust_code"].astype(str).str.upper() == code]
    name = _org_name(code, _organisations(data_dir, organisations), code)
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
                trust=_label(name, code),
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
        table_caption=f"CQC Adult Inpatient Survey {year}: trust scores, {_label(name, code)}",
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
    code = _code(trust_code)
    title = "NHS Staff Survey: People Promise"
    if not national.staff:
        return Section("staff", title, missing_sentence("staff"), available=False)
    try:
        frame = national.staff_frame()
    except PxlibError as exc:
        return _unreadable("staff", title, exc)
    rows = frame[
        (frame["org_code"].astype(str).str.upper() == code)
        & frame["element_type"].fillna("").astype(str).ne("")
    ]
    name = _org_name(code, _organisations(data_dir, organisations), code)
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
    group = latest["benchmark_group"].dropna().astype(str)
    group = group.iloc[0] if len(group) else ""

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
        title={"text": _title_html(f"NHS Staff Survey {year}: {_label(name, code)} (0-10)")},
        xaxis={"title": {"text": "Score out of 10"}, "range": [0, 10]},
        yaxis={"autorange": "reversed"},
    )
    alt = (
        f"Dot plot of the NHS Staff Survey {year} scores out of 10 of {_label(name, code)} for "
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
                trust=_label(name, code),
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
        table_caption=f"NHS Staff Survey scores (0-10), {_label(name, code)}",
        figure=fig,
        alt=alt,
        data=rows.reset_index(drop=True),
    )


def national_sections(
    data_dir: str | Path,
    trust_code: str,
    *,
    months: int = 12,
    min_respondents: int | None = None,
    gpps_item: str = "overall_experience",
    organisations: pd.DataFrame | None = None,
    workers: int = 1,
) -> list[Section]:
    """Every section in the order notebook 01 shows them: FFT (ward trend, ward funnel, ICB
    funnel), GP Patient Survey, NCPES, CQC Adult Inpatient Survey, NHS Staff Survey."""
    national = find_national(data_dir)
    orgs = _organisations(data_dir, organisations)
    return [
        *fft_sections(
            national,
            trust_code,
            months=months,
            min_respondents=min_respondents,
            organisations=orgs,
            workers=workers,
        ),
        gpps_section(
            national,
            trust_code,
            item=gpps_item,
            min_respondents=min_respondents,
            organisations=orgs,
        ),
        ncpes_section(national, trust_code, min_respondents=min_respondents, organisations=orgs),
        cqc_section(national, trust_code, min_respondents=min_respondents, organisations=orgs),
        staff_section(national, trust_code, organisations=orgs),
    ]
