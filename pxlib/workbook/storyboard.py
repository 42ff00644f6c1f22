"""Storyboards: one printable A4 page per unit and one per organisation, for a board or the
national programme.

A unit's storyboard puts on one page what the reports say across four
notebooks: the aim and vision, the team and who took part in co-design, the
driver diagram with each change idea's PDSA cycles, the chart with the cycles
marked, what each cycle predicted beside what was measured, the status (the one
reading of the unit, :func:`pxlib.workbook.reading.read_units`), whether the
improvement reaches every group, the sustainability check and the next steps.
The organisation's storyboard lists every unit's status and the spread plan.
Every value from data is escaped; numbers through :mod:`pxlib.fmt`; small
numbers follow the one rule (the readings, equality and study tables apply it).
Where a journey file is missing, the page says which file would fill the gap.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pxlib.escape import html_text as _e
from pxlib.escape import inline_html
from pxlib.report.results import organisation_file, unit_file
from pxlib.workbook import (
    codesign,
    drivers,
    equality,
    gather,
    pdsa_study,
    spread,
    sustainability,
)
from pxlib.workbook.forms import html_document
from pxlib.workbook.svgchart import unit_chart_svg

if TYPE_CHECKING:
    from datetime import date

    from pxlib.data.folder import WorkbookData
    from pxlib.workbook.steps import Reliability

STORYBOARD = "storyboard"  # the file kind (:func:`pxlib.report.results.unit_file`)
CSS = """
.status { font-size: 12pt; font-weight: bold; }
.cols { display: flex; gap: 5mm; }
.cols > div { flex: 1; min-width: 0; }
svg.unit-chart { max-width: 100%; height: auto; }
td.merged { background: #F5F7F8; }
"""


def _md(markdown_text: str) -> str:
    """Paragraphs of the workbook's Markdown sentences (values already escaped) as HTML."""
    return "".join(
        f"<p>{inline_html(block.strip())}</p>"
        for block in re.split(r"\n\s*\n", markdown_text)
        if block.strip()
    )


def _section(title: str, body: str) -> str:
    return f'<section class="keep"><h2>{_e(title)}</h2>{body}</section>' if body else ""


def _p(text: str, cls: str = "") -> str:
    """A paragraph of plain text (escaped here)."""
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{_e(text)}</p>" if text else ""


def _driver_table(data, unit: str) -> str:
    """The driver diagram as a table, repeated cells merged (rows of :func:`drivers.driver_table`)."""
    diagram = data.driver_diagram
    if diagram.empty or not diagram["unit"].eq(unit).any():
        return ""
    table = drivers.driver_table(diagram, data.pdsa_log, unit=unit)
    columns = [
        ("primary_driver", "Primary driver"),
        ("secondary_driver", "Secondary driver"),
        ("change_idea", "Change idea"),
        ("pdsa_cycles", "PDSA cycles"),
    ]
    head = "".join(f"<th>{_e(title)}</th>" for _, title in columns)
    rows = []
    values = table[[c for c, _ in columns]].fillna("").astype(str).to_numpy()
    for i, row in enumerate(values):
        cells = []
        for j, value in enumerate(row):
            if j < 2 and i and all(values[i - 1][: j + 1] == row[: j + 1]):
                continue  # merged into the cell above
            span = 1
            if j < 2:
                while i + span < len(values) and all(values[i + span][: j + 1] == row[: j + 1]):
                    span += 1
            attr = f' rowspan="{span}" class="merged"' if span > 1 else ""
            cells.append(f"<td{attr}>{_e(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _study(data, unit: str, min_respondents: int | None, study: pd.DataFrame | None) -> str:
    study = pdsa_study.study_cycles(data) if study is None else study
    own = study[study["unit"] == unit].sort_values("start_date", kind="stable")
    if own.empty:
        return _p("No PDSA cycles logged for this unit yet (pdsa_log.csv).")
    rows = "".join(
        f"<tr><td class='short'>{_e(r['cycle_id'])}</td><td>{_e(r['change_idea'])}"
        f"{'<br><span class=small>' + _e(r['scale']) + '</span>' if isinstance(r['scale'], str) and r['scale'] else ''}"
        f"</td><td>{_e(pdsa_study.study_sentence(r, min_respondents=min_respondents))}</td>"
        f"<td class='short'>{_e(drivers.decision_word(r['decision'], r['end_date']))}</td></tr>"
        for _, r in own.iterrows()
    )
    return (
        "<table><thead><tr><th>Cycle</th><th>Change tested (scale)</th>"
        "<th>Predicted and measured</th><th>Decision</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def unit_storyboard(
    data: WorkbookData,
    rel: Reliability,
    unit: str,
    *,
    organisation: str = "",
    equality_table: pd.DataFrame | None = None,
    study: pd.DataFrame | None = None,
    min_respondents: int | None = None,
    weighted: bool = True,
) -> str:
    """The HTML page of ``unit``'s storyboard (``rel``: notebook 03/04's reliability)."""
    reading = rel.readings[rel.readings["unit"] == unit]
    reading = reading.iloc[0] if len(reading) else None
    project = codesign.project(data, unit)
    title = f"Always Event storyboard: {unit}"
    parts = [f"<h1>{_e(title)}</h1>", _p(organisation, "small")]
    if project["project"]:
        parts.append(f"<p><b>{_e(project['project'])}</b></p>")
    if "synthetic" in organisation.lower():
        parts.append('<p class="synthetic small">Made from SYNTHETIC sample data for training.</p>')
    if project["vision"]:
        parts.append(f'<p class="vision">“{_e(project["vision"])}”</p>')
    parts.append(
        _section(
            "Aim",
            _p(project["aim"] or "No aim recorded: write it in notebook 02 and in team.csv."),
        )
    )
    team = _md(codesign.team_text(data, unit)) + _p(codesign.sessions_text(data, unit))
    missing = " ".join(gather.missing_files(data, ["team", "codesign_sessions"]))
    parts.append(_section("Team and co-design", team + _p(missing)))
    parts.append(
        _section(
            "Driver diagram",
            _driver_table(data, unit)
            or _p(
                f"No driver diagram for {unit} yet: add its aim, drivers and change ideas to "
                "driver_diagram.csv (columns org_code, unit, node_id, level, parent_id, text)."
            ),
        )
    )
    points = rel.result.points
    own_points = points[points["unit"] == unit]
    cycles = data.pdsa_log[data.pdsa_log["unit"] == unit]
    if len(own_points):
        target = rel.result.target
        alt = f"Weekly chart of {unit}" + (f": {reading['caption']}" if reading is not None else "")
        svg = unit_chart_svg(
            own_points,
            target=target,
            cycles=cycles,
            percent=rel.result.percent,
            alt=alt,
        )
        caption = (
            "Weekly share of patients for whom it happened: centre line and limits of each "
            "phase, the target (blue), PDSA cycles (orange marks)."
        )
        parts.append(_section("Chart", svg + _p(caption, "small")))
    parts.append(
        _section(
            "PDSA cycles: what we predicted and what we measured",
            _study(data, unit, min_respondents, study),
        )
    )
    if reading is not None:
        parts.append(
            _section(
                "Status",
                f'<p class="status">{_e(str(reading["verdict"]).capitalize())}</p>'
                + _p(str(reading["reason"])),
            )
        )
    table = (
        equality.by_group(
            data, rel, units=[unit], weighted=weighted, min_respondents=min_respondents
        )
        if equality_table is None
        else equality_table
    )
    parts.append(_section("Does it reach every group?", _p(equality.reach_sentence(table, unit))))
    summary = sustainability.sustainability_summary(data)
    own = summary[summary["unit"] == unit]
    if len(own):
        parts.append(_section("Will it last?", _md(sustainability.sustainability_text(own))))
    steps = [str(reading["next_step"])] if reading is not None else []
    steps += gather.missing_files(data, ["votes", "audits", "spread_plan", "sustainability"])
    items = "".join(f"<li>{_e(step)}</li>" for step in steps)
    parts.append(_section("Next steps", f"<ul>{items}</ul>"))
    return html_document(title, "\n".join(p for p in parts if p), CSS)


def organisation_storyboard(
    data: WorkbookData,
    rel: Reliability,
    *,
    organisation: str = "",
    trust_code: str = "",
    as_of: str | date | None = None,
) -> str:
    """The organisation's page: every unit's status and next step, and the spread plan."""
    title = f"Always Events storyboard: {organisation or trust_code}"
    parts = [f"<h1>{_e(title)}</h1>"]
    if "synthetic" in organisation.lower():
        parts.append('<p class="synthetic small">Made from SYNTHETIC sample data for training.</p>')
    rows = "".join(
        f"<tr><td>{_e(r.unit)}</td><td class='short'>{_e(str(r.verdict).capitalize())}</td>"
        f"<td>{_e(r.next_step)}</td></tr>"
        for r in rel.readings.itertuples(index=False)
    )
    parts.append(
        _section(
            "Every unit",
            "<table><thead><tr><th>Unit</th><th>Status</th><th>Next step</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>",
        )
    )
    progress = spread.spread_progress(data, rel, as_of=as_of)
    parts.append(_section("Spread", _md(spread.spread_text(progress))))
    return html_document(title, "\n".join(parts), CSS)


def write_storyboards(
    data: WorkbookData,
    rel: Reliability,
    output_dir: str | Path,
    trust_code: str,
    *,
    units: list[str] | None = None,
    organisation: str = "",
    min_respondents: int | None = None,
    weighted: bool = True,
) -> list[Path]:
    """Write each unit's storyboard and the organisation's; returns the paths written.

    A unit's page is :func:`pxlib.report.results.unit_file` ``(..., "storyboard")``
    (the index links it); the organisation's is ``<trust>_storyboard.html``.
    """
    from pxlib.workbook.printable import write_html

    output_dir = Path(output_dir)
    units = list(rel.readings["unit"]) if units is None else units
    study = pdsa_study.study_cycles(data)
    table = equality.by_group(
        data, rel, units=units, weighted=weighted, min_respondents=min_respondents
    )
    written = [
        write_html(
            unit_storyboard(
                data,
                rel,
                unit,
                organisation=organisation,
                equality_table=table,
                study=study,
                min_respondents=min_respondents,
                weighted=weighted,
            ),
            unit_file(output_dir, trust_code, unit, STORYBOARD),
        )
        for unit in units
    ]
    written.append(
        write_html(
            organisation_storyboard(data, rel, organisation=organisation, trust_code=trust_code),
            organisation_file(output_dir, trust_code, STORYBOARD),
        )
    )
    return written
