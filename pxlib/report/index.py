"""``<out>/index.html``: one row per organisation, its key results and reports.

The index is the one page every organisation's reports share, so it shows
only what notebooks recorded with :func:`pxlib.report.record_results`
(summary figures, verdicts, Making Data Count icons) and, for failures, the
exception class and message, truncated, HTML-escaped and without traceback.
Records whose respondent count is under :data:`SUPPRESS_BELOW` have their
values suppressed here too, whatever the notebook recorded. The page is
self-contained: inline CSS, no script, nothing loaded from a network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.disclosure import SMALL_NUMBER_THRESHOLD, redact_comments, small_numbers
from pxlib.escape import html_text
from pxlib.report.results import (
    RESULTS_SUFFIX,
    RecordResultsError,
    _atomic_write_text,
    read_results,
)

__all__ = ["write_index", "render_index", "SUPPRESS_BELOW"]

#: records with fewer respondents than this show no values (the one rule of pxlib.disclosure)
SUPPRESS_BELOW = SMALL_NUMBER_THRESHOLD
_RULE = small_numbers(SUPPRESS_BELOW)
_COUNT_KEYS = ("n_respondents", "respondents", "n")
_VALUE_KEYS = ("latest_value", "value", "estimate", "latest", "mean", "proportion")
_KNOWN = ("unit", "latest_value", "verdict", "variation_type", "assurance_type")
#: the reading's words and interval (pxlib.workbook.reading): shown in the verdict cell's tooltip
_READING = ("reason", "next_step", "signal", "since", "estimate", "ci_low", "ci_high")
_MAX_TEXT = 80
_MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}T00:00:00(?:\+00:00|Z)?")
_MAX_RECORDS = 12

# Making Data Count icon families: (label, css class)
_VARIATION = {
    "common_cause": ("common cause", "v-common"),
    "special_cause_improvement": ("improvement", "v-improve"),
    "special_cause_concern": ("concern", "v-concern"),
    "special_cause_neutral_high": ("special cause (high)", "v-neutral"),
    "special_cause_neutral_low": ("special cause (low)", "v-neutral"),
}
_ASSURANCE = {
    "consistent_pass": ("consistently passes target", "a-pass"),
    "consistent_fail": ("consistently fails target", "a-fail"),
    "inconsistent": ("hit and miss", "a-mixed"),
}

CSS = """
body{font-family:-apple-system,"Segoe UI",Arial,sans-serif;color:#212b32;margin:0;background:#fff}
main{max-width:1400px;margin:0 auto;padding:1.5rem 2rem 3rem}
h1{color:#005eb8;margin-bottom:.25rem}
.meta{color:#4c6272;font-size:.9rem}
table.index{border-collapse:collapse;width:100%;margin-top:1rem}
table.index>thead>tr>th,table.index>tbody>tr>td{border:1px solid #d8dde0;padding:.4rem .5rem;vertical-align:top;text-align:left}
table.index>thead th{background:#005eb8;color:#fff}
table.kr{border-collapse:collapse;font-size:.82rem;margin-top:.3rem}
table.kr td,table.kr th{border:0;border-bottom:1px solid #eef1f2;padding:.1rem .35rem;text-align:left}
.status{font-weight:bold;border-radius:3px;padding:.05rem .4rem;font-size:.8rem}
.s-ok{background:#e6f4ea;color:#00703c}.s-skipped{background:#eef1f2;color:#425563}.s-failed{background:#fde8e8;color:#b3261e}
.err{font-family:monospace;font-size:.8rem;color:#b3261e;white-space:pre-wrap;word-break:break-word}
.icon{display:inline-block;border-radius:999px;padding:0 .45rem;font-size:.75rem;color:#fff;white-space:nowrap}
.v-common{background:#768692}.v-improve{background:#005eb8}.v-concern{background:#ed8b00}.v-neutral{background:#330072}
.a-pass{background:#005eb8}.a-fail{background:#ed8b00}.a-mixed{background:#768692}
.extra{color:#4c6272}
.supp{color:#4c6272;font-style:italic}
"""


def _e(value: Any) -> str:
    return html_text(value)


def _short(value: Any) -> str:
    """Text of a recorded value: personal details redacted, one line, truncated."""
    text = " ".join(str(value).split())
    text = str(redact_comments(pd.Series([text], dtype=object)).iloc[0])
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and _MIDNIGHT.fullmatch(value):
        return value[:10]  # an ISO timestamp at midnight: the date is what matters
    if isinstance(value, list | dict):
        return _short(", ".join(map(str, value)) if isinstance(value, list) else value)
    return _short(value)


def _icon(value: Any, table: Mapping[str, tuple[str, str]]) -> str:
    if not value:
        return ""
    label, css = table.get(str(value), (str(value).replace("_", " "), "v-common"))
    return f'<span class="icon {css}" title="{_e(value)}">{_e(label)}</span>'


def _suppressed(record: Mapping[str, Any]) -> bool:
    for key in _COUNT_KEYS:
        n = record.get(key)
        if isinstance(n, int | float) and not isinstance(n, bool) and not _RULE.shows(n):
            return True
    return False


def _records_html(records: Sequence[Mapping[str, Any]]) -> str:
    if not records:
        return ""
    rows = []
    for rec in list(records)[:_MAX_RECORDS]:
        hide = _suppressed(rec)
        value = (
            f'<span class="supp">suppressed (fewer than {SUPPRESS_BELOW})</span>'
            if hide
            else _e(_fmt(rec.get("latest_value")))
        )
        extras = [
            f"{_e(k)}: {_e(_fmt(v))}"
            for k, v in rec.items()
            if k not in _KNOWN
            and k not in _READING
            and not (hide and (k in _VALUE_KEYS or isinstance(v, float)))
        ]
        verdict = _short(rec.get("verdict", "") or "")
        if rec.get("since") and verdict:
            verdict += f" (since {_fmt(rec.get('since'))})"
        tip = f' title="{_e(rec["reason"])}"' if rec.get("reason") else ""
        rows.append(
            "<tr>"
            f"<td>{_e(_short(rec.get('unit', '')))}</td>"
            f"<td>{value}</td>"
            f"<td{tip}>{_e(verdict)}</td>"
            f"<td>{_icon(rec.get('variation_type'), _VARIATION)} {_icon(rec.get('assurance_type'), _ASSURANCE)}</td>"
            f'<td class="extra">{"; ".join(extras)}</td>'
            "</tr>"
        )
    more = len(records) - _MAX_RECORDS
    tail = (
        f'<tr><td colspan="5" class="extra">… and {more} more in the report</td></tr>'
        if more > 0
        else ""
    )
    return (
        '<table class="kr"><tr><th>unit</th><th>latest</th><th>verdict</th><th>icons</th><th></th></tr>'
        + "".join(rows)
        + tail
        + "</table>"
    )


def _load_records(out_dir: Path, code: str, notebook: str) -> list[Mapping[str, Any]]:
    path = out_dir / code / f"{notebook}{RESULTS_SUFFIX}"
    if not path.is_file():
        return []
    try:
        return [r for r in read_results(path)["results"] if isinstance(r, Mapping)]
    except (OSError, ValueError, RecordResultsError):
        return []


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
    org_names = (
        organisations["org_name"] if "org_name" in organisations else [""] * len(organisations)
    )
    names = dict(zip(organisations["org_code"], org_names, strict=False))
    codes = list(dict.fromkeys(results["trust_code"].astype(str)))
    by_pair = {(str(r.trust_code), str(r.notebook)): r for r in results.itertuples(index=False)}
    counts = results["status"].value_counts()
    body = []
    for code in codes:
        cells = [f"<td><strong>{_e(code)}</strong><br>{_e(names.get(code, ''))}</td>"]
        for nb in notebooks:
            r = by_pair.get((code, nb))
            if r is None:
                cells.append("<td></td>")
                continue
            status = str(r.status)
            parts = [f'<span class="status s-{_e(status)}">{_e(status)}</span>']
            report = out_dir / code / f"{nb}.html"
            if status in ("ok", "skipped") and report.is_file():
                parts.append(f' <a href="{_e(code)}/{_e(nb)}.html">report</a>')
                parts.append(_records_html(_load_records(out_dir, code, nb)))
            if status == "failed":
                parts.append(f'<div class="err">{_e(r.error)}</div>')
            cells.append("<td>" + "".join(parts) + "</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    params = run_info.get("parameters") or {}
    params_text = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "notebook defaults"
    head = "".join(f"<th>{_e(nb)}</th>" for nb in notebooks)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Always Events workbook: batch reports</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        "<h1>Always Events workbook: batch reports</h1>\n"
        f'<p class="meta">Run on {_e(run_info.get("run_date", ""))} with pxlib '
        f"{_e(run_info.get('pxlib_version', ''))} in {_e(run_info.get('seconds', ''))} s; "
        f"data {_e(run_info.get('data_dir', ''))}; parameters: {_e(params_text)}.<br>"
        f"{int(counts.get('ok', 0))} reports made, {int(counts.get('skipped', 0))} unchanged since "
        f"their last run, {int(counts.get('failed', 0))} failed. Each report states the inputs "
        "(with their hashes) and parameters it was made from. Results recorded with fewer than "
        f"{SUPPRESS_BELOW} respondents (n) are not shown.</p>\n"
        f'<table class="index">\n<thead><tr><th>organisation</th>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody>\n</table>\n</main>\n</body>\n</html>\n"
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
    notebook stems, as columns. Key results come from each report's
    ``<notebook>.results.json``.
    """
    path = Path(out_dir) / "index.html"
    _atomic_write_text(path, render_index(out_dir, results, organisations, notebooks, run_info))
    return path
