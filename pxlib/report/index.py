"""``<out>/index.html``: where every unit stands, and every organisation's reports.

The index is the one page every organisation's reports share, so it shows
only what notebooks recorded with :func:`pxlib.report.record_results`:

* **one row per unit** (organisation, unit, latest week's value and n, a
  sparkline of the last 26 weeks, the verdict of the unit's reading with its
  reason on hover, the Making Data Count icons, links to the unit's chart,
  sustain report, one-page plan and data collection form), sortable by any
  column and filtered by organisation and status with a few lines of inline
  script (no framework, nothing loaded from a network);
* **the reports of each organisation**, then apart, in plain words, the
  reports that could not be made (exception class and message, truncated,
  escaped, no traceback) and those left as they were because nothing changed.

Records whose respondent count is under :data:`SUPPRESS_BELOW` have their
values suppressed here too, whatever the notebook recorded. What the page
shows is gathered (records read and merged per unit) by
:mod:`pxlib.report.index_data`; this module writes it as HTML. Every value is
escaped (:func:`pxlib.escape.html_text`); numbers and dates go through
:mod:`pxlib.fmt`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib import fmt
from pxlib.disclosure import redact_text
from pxlib.escape import html_text
from pxlib.report.index_data import (
    COUNT_KEYS,
    SUPPRESS_BELOW,
    VALUE_KEYS,
    gather,
    is_suppressed,
    record_count,
)
from pxlib.report.io import atomic_write_text
from pxlib.report.results import organisation_file, unit_anchor, unit_file

__all__ = ["write_index", "render_index", "notebook_title", "SUPPRESS_BELOW"]

#: keys the unit row shows in its own columns (everything else goes under "More")
_SHOWN = (
    "unit", "latest_value", "latest_week", "verdict", "since", "variation_type",
    "assurance_type", "reason", "next_step", "signal", "estimate", "ci_low", "ci_high",
    "recent_values", "recent_from", "value_format", "improvement", "trust_code",
    *COUNT_KEYS,
)  # fmt: skip
#: what recorded keys are called on the page
LABELS = {
    "aim_measurable": "Aim is measurable",
    "aim_dated": "Aim has a date",
    "aim_problems": "Problems with the aim",
    "target": "Target",
    "by_when": "By",
    "recommended_patients_a_week": "Patients to ask each week",
    "weeks_to_see_change_80": "Weeks to see a change (8 in 10 teams)",
    "adopted": "Change adopted",
    "sustain_status": "Sustain check",
}
_MAX_TEXT = 120
_SPARK_W, _SPARK_H = 120, 28
#: where a verdict sorts and which colour class it takes
_VERDICTS = {
    "deteriorating": (0, "st-concern"),
    "not yet reliable": (1, "st-common"),
    "improving": (2, "st-improve"),
    "reliable": (3, "st-reliable"),
}
#: printable files written by notebook 02 for a unit, and their link words
UNIT_FILES = (
    ("storyboard", "storyboard"),
    ("one-page-plan", "plan"),
    ("data-collection-form", "form"),
    ("easy-read-form", "easy read"),
)
#: an organisation's own printable page, linked beside its reports
ORGANISATION_FILES = (("storyboard", "Storyboard"),)

CSS = """
body{font-family:-apple-system,"Segoe UI",Arial,sans-serif;color:#212b32;margin:0;background:#fff;line-height:1.4}
main{max-width:1200px;margin:0 auto;padding:1.2rem 1.2rem 3rem}
h1{color:#005eb8;margin:.2rem 0}
h2{color:#005eb8;margin-top:2rem}
.meta{color:#4c6272;font-size:.92rem;max-width:60rem}
.controls{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:center;margin:1rem 0 .5rem;font-size:.92rem}
.controls select,.controls input{font:inherit;padding:.2rem .3rem}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d8dde0;padding:.45rem .4rem;vertical-align:top;text-align:left}
thead th{background:#005eb8;color:#fff;font-weight:600}
th button{all:unset;cursor:pointer}
th button::after{content:" \\2195";opacity:.6}
td.num{text-align:right;white-space:nowrap}
.small{color:#4c6272;font-size:.82rem}
.unit-name{font-weight:600}
.links a{margin-right:.5rem;white-space:nowrap}
.status{font-weight:600;white-space:nowrap}
.st-improve{color:#005eb8}.st-reliable{color:#007f3b}.st-concern{color:#b35c00}.st-common{color:#425563}
.icons{white-space:nowrap}.icons svg{vertical-align:middle;margin-right:2px}
.err{font-family:monospace;font-size:.82rem;color:#b3261e;word-break:break-word}
details summary{cursor:pointer;color:#005eb8;font-size:.85rem}
details dl{margin:.3rem 0;font-size:.85rem}
details dt{color:#4c6272}details dd{margin:0 0 .2rem 0}
.supp{color:#4c6272;font-style:italic}
@media (max-width:760px){
 table.units thead{display:none}
 table.units tr{display:block;border:1px solid #d8dde0;border-radius:4px;margin-bottom:.8rem;padding:.3rem}
 table.units td{display:block;border:0;padding:.2rem .3rem;text-align:left}
 table.units td[data-label]::before{content:attr(data-label) ": ";color:#4c6272;font-size:.82rem}
 table.reports td,table.reports th{display:block}
}
"""

#: sorting and filtering of the unit table; reads text already on the page, writes no HTML
SCRIPT = """
(function(){
  var table=document.getElementById('units'); if(!table) return;
  var body=table.tBodies[0], org=document.getElementById('f-org'),
      st=document.getElementById('f-status'), q=document.getElementById('f-text'),
      shown=document.getElementById('shown');
  function apply(){
    var n=0, text=q.value.toLowerCase();
    Array.prototype.forEach.call(body.rows,function(r){
      var ok=(!org.value||r.dataset.org===org.value)&&(!st.value||r.dataset.status===st.value)
        &&(!text||r.textContent.toLowerCase().indexOf(text)>=0);
      r.hidden=!ok; if(ok) n++;
    });
    shown.textContent=n+(n===1?' unit':' units')+' shown';
  }
  [org,st].forEach(function(e){e.addEventListener('change',apply)});
  q.addEventListener('input',apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    var b=th.querySelector('button'); if(!b) return; var up=true;
    b.addEventListener('click',function(){
      var rows=Array.prototype.slice.call(body.rows), num=th.dataset.type==='num';
      rows.sort(function(a,c){
        var x=a.cells[i].dataset.sort, y=c.cells[i].dataset.sort;
        if(num){x=parseFloat(x);y=parseFloat(y);x=isNaN(x)?-1e9:x;y=isNaN(y)?-1e9:y;}
        return (x<y?-1:x>y?1:0)*(up?1:-1);
      });
      up=!up; rows.forEach(function(r){body.appendChild(r)});
    });
  });
  apply();
})();
"""


def _e(value: Any) -> str:
    return html_text(value)


def notebook_title(stem: str) -> str:
    """``03_test_and_measure`` -> ``03 Test and measure``."""
    words = str(stem).replace("_", " ").strip()
    number, _, rest = words.partition(" ")
    if number.isdigit() and rest:
        return f"{number} {rest[:1].upper()}{rest[1:]}"
    return words[:1].upper() + words[1:]


def _short(value: Any, limit: int = _MAX_TEXT) -> str:
    """Text of a recorded value: personal details redacted, one line, truncated."""
    text = redact_text(" ".join(str(value).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_text(key: str, value: Any) -> str:
    """A recorded value in words: yes/no, a percentage target, a date, a number or text."""
    if value is None or value == "":
        return fmt.MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "target" and isinstance(value, int | float) and 0 < value <= 1:
        return fmt.percent(value)
    if isinstance(value, int | float):
        return fmt.number(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:.+]*)?", value):
        return fmt.date(value)
    if isinstance(value, list):
        return _short(", ".join(_value_text(key, v) for v in value))
    return _short(value)


def _label(key: str) -> str:
    return LABELS.get(key) or (key.replace("_", " ").strip().capitalize() or key)


# --- the unit table ---------------------------------------------------------------------


def _sparkline(values: Sequence[Any] | None, percent: bool) -> str:
    """An inline SVG line of the recent weekly values (gaps where a week is not shown)."""
    if not values:
        return ""
    ys = [
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
    ]
    known = [y for y in ys if y is not None]
    if not known:
        return '<span class="supp">not shown</span>'
    lo, hi = (0.0, 100.0) if percent else (min(known), max(known))
    span = (hi - lo) or 1.0
    step = _SPARK_W / max(len(ys) - 1, 1)
    paths, current = [], []
    for i, y in enumerate(ys):
        if y is None:
            if current:
                paths.append(current)
            current = []
            continue
        current.append(f"{i * step:.1f},{_SPARK_H - 2 - (y - lo) / span * (_SPARK_H - 4):.1f}")
    if current:
        paths.append(current)
    lines = "".join(
        f'<polyline points="{" ".join(p)}" fill="none" stroke="#005eb8" stroke-width="1.5"/>'
        if len(p) > 1
        else f'<circle cx="{p[0].split(",")[0]}" cy="{p[0].split(",")[1]}" r="1.5" fill="#005eb8"/>'
        for p in paths
    )
    label = f"last {len(ys)} weeks, {len(known)} shown, from {fmt.number(min(known))} to {fmt.number(max(known))}"
    return (
        f'<svg width="{_SPARK_W}" height="{_SPARK_H}" viewBox="0 0 {_SPARK_W} {_SPARK_H}" '
        f'role="img" aria-label="{_e(label)}"><title>{_e(label)}</title>{lines}</svg>'
    )


def _icons(record: Mapping[str, Any]) -> str:
    from pxlib.errors import ChartError
    from pxlib.spc import icons

    improvement = str(record.get("improvement") or "neutral")
    parts = []
    try:
        parts.append(
            icons.variation_icon_svg(record.get("variation_type") or "", improvement, size=30)
        )
    except ChartError:
        parts.append(_e(_short(record.get("variation_type"))))
    try:
        parts.append(icons.assurance_icon_svg(record.get("assurance_type") or "", size=30))
    except ChartError:
        parts.append(_e(_short(record.get("assurance_type"))))
    return "".join(parts)


def _unit_links(out_dir: Path, code: str, unit: str, rec: Mapping[str, Any]) -> str:
    links = []
    for nb in rec["_notebooks"]:
        words = "chart" if nb.startswith("03") else notebook_title(nb).split(" ", 1)[-1].lower()
        href = f"{code}/{nb}.html" + (f"#{unit_anchor(unit)}" if nb.startswith("03") else "")
        links.append(f'<a href="{_e(href)}">{_e(words)}</a>')
    for what, words in UNIT_FILES:
        path = unit_file(out_dir / code, code, unit, what)
        if path.is_file():
            links.append(f'<a href="{_e(code)}/{_e(path.name)}">{_e(words)}</a>')
    return " ".join(links)


def _more(rec: Mapping[str, Any], hide: bool) -> str:
    items = [
        f"<dt>{_e(_label(k))}</dt><dd>{_e(_value_text(k, v))}</dd>"
        for k, v in rec.items()
        if k not in _SHOWN
        and not k.startswith("_")
        and not (hide and (k in VALUE_KEYS or isinstance(v, float)))
    ]
    return f"<details><summary>More</summary><dl>{''.join(items)}</dl></details>" if items else ""


def _unit_row(out_dir: Path, code: str, org_name: str, unit: str, rec: Mapping[str, Any]) -> str:
    hide = is_suppressed(rec)
    percent = rec.get("value_format") == "percent"
    value = rec.get("latest_value")
    n = record_count(rec)
    # a reading whose latest week rests on too few answers records neither value nor n
    week_hidden = value is None and "n_respondents" in rec and rec["n_respondents"] is None
    if hide or week_hidden:
        latest = f'<span class="supp">not shown (fewer than {SUPPRESS_BELOW} answers)</span>'
        sort_value, n_text = "", "not shown"
    else:
        latest = _e(fmt.percent(value, 1, share=False) if percent else _value_text("value", value))
        if rec.get("latest_week"):
            latest += f'<br><span class="small">week of {_e(fmt.date(rec["latest_week"]))}</span>'
        sort_value = value if isinstance(value, int | float) else ""
        n_text = fmt.number(n) if n is not None else fmt.MISSING
    verdict = str(rec.get("verdict") or "")
    order, css = _VERDICTS.get(verdict, (1, "st-common"))
    since = (
        f' <span class="small">since {_e(fmt.date(rec["since"]))}</span>'
        if rec.get("since")
        else ""
    )
    reason = " ".join(str(rec.get(k) or "") for k in ("reason", "next_step")).strip()
    tip = f' title="{_e(_short(reason, 600))}"' if reason else ""
    status = (
        f'<span class="status {css}"{tip}>{_e(_short(verdict))}</span>{since}' if verdict else ""
    )
    spark = "" if hide else _sparkline(rec.get("recent_values"), percent)
    return (
        f'<tr data-org="{_e(code)}" data-status="{_e(verdict)}">'
        f'<td data-label="Organisation" data-sort="{_e(code)}"><strong>{_e(code)}</strong>'
        f'<br><span class="small">{_e(_short(org_name, 60))}</span></td>'
        f'<td data-label="Unit" data-sort="{_e(unit.lower())}"><span class="unit-name">{_e(_short(unit, 60))}</span>'
        f'<div class="links small">{_unit_links(out_dir, code, unit, rec)}</div></td>'
        f'<td class="num" data-label="Latest" data-sort="{_e(sort_value)}">{latest}</td>'
        f'<td class="num" data-label="Answers" data-sort="{_e("" if hide or n is None else n)}">{_e(n_text)}</td>'
        f'<td data-label="Last 26 weeks">{spark}</td>'
        f'<td data-label="Status" data-sort="{order}">{status}</td>'
        f'<td class="icons" data-label="Icons">{_icons(rec)}</td>'
        f"<td>{_more(rec, hide)}</td>"
        "</tr>"
    )


def _unit_table(rows: list[str], orgs: list[str], statuses: list[str]) -> str:
    if not rows:
        return "<p>No report recorded any unit's results.</p>"
    head = "".join(
        f'<th data-type="{kind}"><button type="button">{name}</button></th>' if kind else f"<th>{name}</th>"
        for name, kind in (
            ("Organisation", "text"), ("Unit", "text"), ("Latest", "num"), ("Answers", "num"),
            ("Last 26 weeks", ""), ("Status", "num"), ("Icons", ""), ("", ""),
        )
    )  # fmt: skip
    org_options = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in orgs)
    status_options = "".join(f'<option value="{_e(s)}">{_e(s)}</option>' for s in statuses)
    return (
        '<div class="controls">'
        f'<label>Organisation <select id="f-org"><option value="">all</option>{org_options}</select></label>'
        f'<label>Status <select id="f-status"><option value="">all</option>{status_options}</select></label>'
        '<label>Find <input id="f-text" type="search" placeholder="unit or word"></label>'
        '<span id="shown" class="small" aria-live="polite"></span></div>'
        f'<table class="units" id="units"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


# --- the report table, failures and unchanged reports --------------------------------------


def _reports_table(
    codes: list[str], names: Mapping[str, str], notebooks: Sequence[str], by_pair, out_dir: Path
) -> str:
    head = "".join(f"<th>{_e(notebook_title(nb))}</th>" for nb in notebooks)
    head += "".join(f"<th>{_e(words)}</th>" for _, words in ORGANISATION_FILES)
    body = []
    for code in codes:
        cells = [f"<td><strong>{_e(code)}</strong><br>{_e(_short(names.get(code, ''), 80))}</td>"]
        for nb in notebooks:
            r = by_pair.get((code, nb))
            report = out_dir / code / f"{nb}.html"
            if r is not None and str(r.status) in ("ok", "skipped") and report.is_file():
                cells.append(f'<td><a href="{_e(code)}/{_e(nb)}.html">open</a></td>')
            elif r is not None and str(r.status) == "failed":
                cells.append('<td class="small">not made (see below)</td>')
            else:
                cells.append('<td class="small">not run</td>')
        for what, _ in ORGANISATION_FILES:
            page = organisation_file(out_dir / code, code, what)
            cells.append(
                f'<td><a href="{_e(code)}/{_e(page.name)}">open</a></td>'
                if page.is_file()
                else '<td class="small">not made</td>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="reports"><thead><tr><th>Organisation</th>{head}</tr></thead><tbody>'
        + "".join(body)
        + "</tbody></table>"
    )


def _failures(results: pd.DataFrame, notebooks: Sequence[str]) -> str:
    failed = results[results["status"].astype(str) == "failed"]
    if failed.empty:
        return ""
    items = "".join(
        f"<li><strong>{_e(r.trust_code)}</strong>, {_e(notebook_title(r.notebook))}: "
        f'<span class="err">{_e(r.error)}</span></li>'
        for r in failed.itertuples(index=False)
    )
    return (
        f"<h2>Reports that could not be made ({len(failed)})</h2>"
        "<p>Each line says what stopped the report; <code>results.csv</code> and "
        f"<code>batch.log</code> hold the same.</p><ul>{items}</ul>"
    )


def _unchanged(results: pd.DataFrame) -> str:
    skipped = results[results["status"].astype(str) == "skipped"]
    if skipped.empty:
        return ""
    per_org = skipped.groupby("trust_code", sort=False).size()
    listed = ", ".join(f"{_e(code)} ({fmt.count(n, 'report')})" for code, n in per_org.items())
    return (
        f"<p>{fmt.count(len(skipped), 'report')} {fmt.plural(len(skipped), 'was')} left as "
        f"{'it was' if len(skipped) == 1 else 'they were'}: the inputs, parameters and notebook "
        f"had not changed since {'it was' if len(skipped) == 1 else 'they were'} made ({listed}).</p>"
    )


def _run_line(run_info: Mapping[str, Any], counts: pd.Series) -> str:
    params = run_info.get("parameters") or {}
    params_text = (
        "; ".join(f"{k} = {_value_text(k, v)}" for k, v in params.items()) or "notebook defaults"
    )
    run_date = str(run_info.get("run_date", ""))
    when = fmt.date(run_date) + (f", {run_date[11:16]} UTC" if len(run_date) >= 16 else "")
    data = Path(str(run_info.get("data_dir", ""))).name or "?"
    made = int(counts.get("ok", 0))
    return (
        f'<p class="meta">Made {_e(when)} with pxlib {_e(run_info.get("pxlib_version", ""))} '
        f"from the data folder <code>{_e(data)}</code>; parameters: {_e(params_text)}. "
        f"{_e(fmt.count(made, 'report'))} made, {int(counts.get('skipped', 0))} unchanged, "
        f"{int(counts.get('failed', 0))} could not be made. Figures resting on fewer than "
        f"{SUPPRESS_BELOW} answers are not shown. Hover over a status for the reason and the next "
        "step; each report states the inputs (with their hashes) and parameters it was made from.</p>"
    )


def render_index(
    out_dir: str | Path,
    results: pd.DataFrame,
    organisations: pd.DataFrame,
    notebooks: Sequence[str],
    run_info: Mapping[str, Any] | None = None,
) -> str:
    """The index page as text (see :func:`write_index`)."""
    out_dir = Path(out_dir)
    run_info = dict(run_info or {})
    data = gather(out_dir, results, organisations, notebooks)
    codes, names, by_pair = data.codes, data.names, data.by_pair
    rows = [
        _unit_row(out_dir, code, names.get(code, ""), unit, rec) for code, unit, rec in data.units
    ]
    verdicts = {str(rec["verdict"]) for _, _, rec in data.units if rec.get("verdict")}
    statuses = sorted(verdicts, key=lambda s: _VERDICTS.get(s, (9, ""))[0])
    counts = results["status"].value_counts()
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Always Events: where every unit stands</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        "<h1>Always Events: where every unit stands</h1>\n"
        + _run_line(run_info, counts)
        + _unit_table(rows, codes, statuses)
        + "<h2>Reports by organisation</h2>"
        + _reports_table(codes, names, notebooks, by_pair, out_dir)
        + _unchanged(results)
        + _failures(results, notebooks)
        + f"\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_index(
    out_dir: str | Path,
    results: pd.DataFrame,
    organisations: pd.DataFrame,
    notebooks: Sequence[str],
    run_info: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``<out_dir>/index.html`` (atomically) from the batch results table.

    ``results`` has the ``results.csv`` columns; ``organisations`` the
    ``organisations.csv`` ones (``org_code``, ``org_name``); ``notebooks`` the
    notebook stems. Key results come from each report's
    ``<notebook>.results.json``.
    """
    path = Path(out_dir) / "index.html"
    atomic_write_text(path, render_index(out_dir, results, organisations, notebooks, run_info))
    return path
