"""National insight for notebook 01 (pxlib.workbook.national_insight).

Every national file here is built in the test, in the published layouts (FFT workbooks by
tests/national_workbooks.py with openpyxl, suppression worked out there by a plain loop;
GPPS, NCPES, CQC and Staff Survey files written cell by cell), with planted figures whose
percentages, funnel averages and limits are worked out below by hand, not by pxlib.
"""

from __future__ import annotations

import filecmp
import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from national_workbooks import (
    ANSWERS,
    IP_MODES,
    LAYOUTS,
    MODE_COLUMN,
    build_fft_workbook,
    published_sheets,
    reference_flags,
)

from pxlib.report.isolation import plan_staging, stage_organisations
from pxlib.workbook import national_insight as ni
from pxlib.workbook.national_insight.files import published

NOTE = "fewer than 10 answers: not shown"
HOSTILE = "Zed <script>alert(1)</script> *Valley* NHS Trust"

# --- planted FFT: ICB ZQ1 holds trusts ZT1 (ours), ZT2, ZT3; ZQ2 holds ZT4 --------------
# answers: very good, good, neither, poor, very poor, don't know
ASH = (35, 15, 10, 8, 2, 10)  # 80 responses, 50 positive: 62.5 %
CEDAR = (35, 14, 1, 0, 0, 0)  # 50 responses, 49 positive: 98 %
BIRCH = (4, 2, 0, 1, 0, 0)  # 7 responses: published, but under the workbook's 10
BIRCH_MARCH = (2, 1, 0, 0, 0, 0)  # 3 responses: NHS England suppresses it, then Cedar (next)
DOVE = (150, 30, 10, 5, 5, 0)  # ZT2: 200 responses, 90 %
ELM = (100, 50, 20, 15, 10, 5)  # ZT3: 200 responses, 75 %
FIR = (20, 5, 0, 0, 0, 0)  # ZT4, another ICB
MONTHS = ("January 2025", "February 2025", "March 2025")


def _ward(org, name, site, ward, spec, counts):
    return {
        "icb_code": "ZQ2" if org == "ZT4" else "ZQ1",
        "org_code": org,
        "org_name": name,
        "site_code": site,
        "site_name": f"{org} site",
        "ward": ward,
        "first_speciality": spec,
        "second_speciality": None,
        **dict(zip(ANSWERS, counts, strict=True)),
        "total_responses": sum(counts),
        "total_eligible": 4 * sum(counts),
    }


def _pct(frame, cols):
    total = frame[ANSWERS].sum(axis=1)
    return (frame[cols].sum(axis=1) / total.where(total > 0)).astype(float)


def month_frames(month: int) -> dict[str, pd.DataFrame]:
    birch = BIRCH_MARCH if month == 2 else BIRCH
    ward = pd.DataFrame(
        [
            _ward("ZT1", HOSTILE, "ZT101", "Ash Ward", "300 - GENERAL MEDICINE", ASH),
            _ward("ZT1", HOSTILE, "ZT101", "Birch Unit", "100 - GENERAL SURGERY", birch),
            _ward("ZT1", HOSTILE, "ZT101", "Cedar Ward", "300 - GENERAL MEDICINE", CEDAR),
            _ward("ZT2", "Zed Two NHS Trust", "ZT201", "Dove Ward", "300 - GENERAL MEDICINE", DOVE),
            _ward("ZT3", "Zed Three NHS Trust", "ZT301", "Elm Ward", "300 - GENERAL MEDICINE", ELM),
            _ward("ZT4", "Zed Four NHS Trust", "ZT401", "Fir Ward", "300 - GENERAL MEDICINE", FIR),
        ]
    )
    sums = [*ANSWERS, "total_responses", "total_eligible"]
    site_keys = ["icb_code", "org_code", "org_name", "site_code", "site_name"]
    site = ward.groupby(site_keys, as_index=False, sort=False)[sums].sum()
    trust = ward.groupby(["icb_code", "org_code", "org_name"], as_index=False, sort=False)[
        sums
    ].sum()
    for label in IP_MODES:
        trust[MODE_COLUMN[label]] = 0
    # ZT1: 70 % SMS, 30 % paper at discharge; the others all SMS
    total = trust["total_responses"].to_numpy()
    paper = np.where(trust["org_code"] == "ZT1", np.round(total * 0.3), 0).astype(int)
    trust["mode_paper_discharge"] = paper
    trust["mode_sms"] = total - paper
    icb = ward.groupby("icb_code", as_index=False, sort=False)[sums].sum()
    icb["icb_name"] = icb["icb_code"].map({"ZQ1": "NHS ZED ONE ICB", "ZQ2": "NHS ZED TWO ICB"})
    frames = {"icb": icb, "trust": trust, "site": site, "ward": ward}
    for frame in frames.values():
        frame["pct_positive"] = _pct(frame, ["very_good", "good"])
        frame["pct_negative"] = _pct(frame, ["poor", "very_poor"])
    return frames


def write_fft(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for k, month in enumerate(MONTHS):
        frames = month_frames(k)
        sheets = published_sheets("inpatient", {None: frames}, {None: reference_flags(frames)})
        full = {
            name: frames["trust" if spec["level"] == "mode" else spec["level"]]
            for name, spec in LAYOUTS["inpatient"]["sheets"].items()
        }
        slug = month.lower().replace(" ", "-")
        build_fft_workbook(
            folder / f"friends-and-family-test-inpatient-data-{slug}.xlsm",
            "inpatient",
            month,
            sheets,
            full=full,
        )


def write_organisations(folder, name=HOSTILE):
    rows = [
        ("ZT1", name, "trust", "ZQ1", ""),
        ("ZT2", "Zed Two NHS Trust", "trust", "ZQ1", ""),
        ("ZP001", "Zed Surgery One", "gp_practice", "ZQ1", "ZT1"),
        ("ZP002", "Zed Surgery Two", "gp_practice", "ZQ1", "ZT1"),
        ("ZP003", "Zed Surgery Three", "gp_practice", "ZQ1", "ZT1"),
        ("ZP004", "Zed Surgery Four", "gp_practice", "ZQ1", "ZT2"),
    ]
    pd.DataFrame(
        rows, columns=["org_code", "org_name", "org_type", "parent_code", "catchment_of"]
    ).to_csv(folder / "organisations.csv", index=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("insight")
    write_fft(root / "national")
    write_organisations(root)
    return root


def limits(cl, n, z=3.0):
    half = z * math.sqrt(cl * (1 - cl) / n)
    return cl - half, cl + half


# --- FFT: the trust's wards month by month --------------------------------------------------


def test_ward_trend_shows_planted_shares_and_hides_small_and_suppressed_months(folder):
    s = ni.fft_ward_trend(folder, "ZT1")
    assert s.available and s.figure is not None
    pts = s.data.set_index(["ward_label", "period"])["pct_positive"]
    jan, mar = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-01")
    assert pts[("Ash Ward", jan)] == pytest.approx(62.5)
    assert pts[("Cedar Ward", jan)] == pytest.approx(98.0)
    # NHS England suppressed Birch in March (3 responses) and Cedar, the next smallest ward
    assert np.isnan(pts[("Cedar Ward", mar)])
    # Birch's 7 responses in January and February are under the workbook's 10
    assert pts.loc["Birch Unit"].isna().all()
    ash_cl = s.data.loc[s.data["ward_label"] == "Ash Ward", "cl"]
    assert ash_cl.to_numpy() == pytest.approx(150 / 240 * 100)
    table = s.table.set_index("Ward")
    assert table.loc["Ash Ward", "Responses"] == "240"
    assert table.loc["Ash Ward", "% positive (months published)"] == "62%"  # 62.5 -> 62 (even)
    assert table.loc["Cedar Ward", "% positive (months published)"] == "98%"  # 98 of 100
    assert table.loc["Birch Unit", "% positive (months published)"] == "86%"  # 12 of 14
    assert list(table.index) == ["Ash Ward", "Birch Unit", "Cedar Ward"]  # not ranked
    # ZT1's collection modes: 285 of 407 SMS, 122 paper at discharge
    assert "SMS 70%, paper at discharge 30%" in s.text
    assert "Birch Unit: centre line 86%; no month with enough responses to show" in s.alt
    assert "4 ward-months with fewer than 10 responses, or suppressed by NHS England" in s.alt
    assert "Jan 2025 to Mar 2025" in s.alt and "3 wards" in s.alt
    fig = s.figure.to_json()
    assert "85.71" not in fig  # Birch's 6 of 7 is nowhere in the chart


def test_a_relative_data_folder_reads_the_same(folder, monkeypatch):
    monkeypatch.chdir(folder.parent)
    s = ni.fft_ward_trend(folder.name, "ZT1")
    assert s.available and s.table.equals(ni.fft_ward_trend(folder, "ZT1").table)


def test_months_keeps_the_latest_months(folder):
    s = ni.fft_ward_trend(folder, "ZT1", months=2)
    assert set(s.data["period"]) == {pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01")}
    assert s.table.set_index("Ward").loc["Ash Ward", "Responses"] == "160"


def test_values_from_data_are_escaped(folder):
    s = ni.fft_ward_trend(folder, "ZT1")
    for text in (s.text, s.title):
        assert "<script>" not in text
    assert "&lt;script&gt;" in s.text and r"\*Valley\*" in s.text


# --- FFT funnels ----------------------------------------------------------------------------


def test_ward_funnel_pools_published_months_and_names_the_outliers(folder):
    s = ni.fft_ward_funnel(folder, "ZT1")
    pts = s.data.set_index("ward_label")
    cl = (150 + 98 + 12) / (240 + 100 + 14)  # published months only
    assert pts["cl"].iloc[0] == pytest.approx(cl * 100)
    assert pts.loc["Ash Ward", "n"] == 240 and pts.loc["Cedar Ward", "n"] == 100
    lo, _ = limits(cl, 240)
    _, hi = limits(cl, 100)
    assert pts.loc["Ash Ward", "lcl"] == pytest.approx(lo * 100)
    assert pts.loc["Cedar Ward", "ucl"] == pytest.approx(hi * 100)
    assert 150 / 240 < lo and 98 / 100 > hi  # worked out by hand: Ash below, Cedar above
    assert pts.loc["Ash Ward", "signal"] and pts.loc["Cedar Ward", "signal"]
    assert not pts.loc["Birch Unit", "signal"]
    assert "below the limits: Ash Ward" in s.text and "above the limits: Cedar Ward" in s.text
    assert "cannot be used to compare providers directly" in s.text
    assert "not a league table" in s.text
    assert "SMS 70%" in s.text  # the collection mode, with the caveat
    assert "Below the limits: Ash Ward" in s.alt


def test_icb_funnel_holds_the_icb_trusts_only_with_caveat_and_modes(folder):
    s = ni.fft_icb_funnel(folder, "ZT1")
    pts = s.data.set_index(s.data.columns[0])
    codes = sorted(c[-4:-1] for c in pts.index)
    assert codes == ["ZT1", "ZT2", "ZT3"]  # ZT4 is in another ICB
    positive = 2 * 105 + 102 + 3 * 180 + 3 * 150  # ZT1 by month, ZT2, ZT3
    n = 2 * 137 + 133 + 600 + 600
    cl = positive / n
    assert pts["cl"].iloc[0] == pytest.approx(cl * 100)
    by = {c[-4:-1]: row for c, row in pts.iterrows()}
    assert by["ZT1"]["y"] == pytest.approx(312 / 407 * 100)
    lo, hi = limits(cl, 407)
    assert lo < 312 / 407 < hi and not by["ZT1"]["signal"]  # within
    assert 0.9 > limits(cl, 600)[1] and by["ZT2"]["signal"]  # above
    assert 0.75 < limits(cl, 600)[0] and by["ZT3"]["signal"]  # below
    assert "is within the limits" in s.alt
    assert "cannot be used to compare providers directly" in s.text
    assert "Collection modes" in s.text and "Zed Two NHS Trust \\(ZT2\\): SMS 100%" in s.text
    # the table gives responses and modes in code order, and no % positive
    assert [t[-4:-1] for t in s.table["Trust"]] == ["ZT1", "ZT2", "ZT3"]
    assert not any("positive" in c for c in s.table.columns)
    assert s.table.loc[0, "Mode: SMS"] == "70%" and s.table.loc[0, "Responses"] == "407"
    assert "NHS ZED ONE ICB" in s.text


def test_fft_sections_for_an_unknown_trust_and_no_files(folder, tmp_path):
    parts = ni.fft_sections(folder, "ZX9")
    assert len(parts) == 1 and not parts[0].available and "ZX9" in parts[0].text
    parts = ni.fft_sections(tmp_path, "ZT1")
    assert len(parts) == 1 and not parts[0].available
    assert "friends-and-family-test-inpatient-data-<month>-<year>.xlsm" in parts[0].text
    assert "https://www.england.nhs.uk/fft/friends-and-family-test-data/" in parts[0].text


def test_an_unreadable_workbook_says_so(tmp_path):
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "fft-july-2025.xlsx").write_bytes(b"not a workbook")
    s = ni.fft_sections(tmp_path, "ZT1")[0]
    assert not s.available and "could not be read" in s.text and "fft\\-july\\-2025" in s.text


# --- GP Patient Survey ----------------------------------------------------------------------


def write_gpps(folder):
    q = pd.DataFrame(
        {
            "Practice_Code": ["ZP001", "ZP002", "ZP003", "ZP004"],
            "Practice_Name": ["Zed Surgery One", "Zed Surgery Two", "Zed Surgery Three", "Four"],
            "ICS_Code": ["ZQ1"] * 4,
            "Q28base": [150, 9, -97, 200],
            "Q28_12pct": [0.8123, 0.5, -97, 0.6],
        }
    )
    q.to_csv(folder / "GPPS_2023_Practice_data_(weighted)_(csv)_PUBLIC.csv", index=False)
    stem = pd.DataFrame(
        {
            "ad_practicecode": ["ZP001", "ZP002", "ZP003", "ZP004"],
            "ad_practicename": ["Zed Surgery One", "Zed Surgery Two", "Zed Surgery Three", "Four"],
            "ad_icscode": ["ZQ1"] * 4,
            "ad_pcncode": ["ZU1"] * 4,
            "overallexp.pcteval": [0.7049, 0.66, -97, 0.7],
            "overallexp.baseevalw": [140.5, 120.0, -97, 210.0],
        }
    )
    stem.to_csv(folder / "GPPS_2024_Practice_data_(weighted)_(csv)_PUBLIC.csv", index=False)


@pytest.fixture(scope="module")
def gpps_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("gpps")
    (root / "national").mkdir()
    write_gpps(root / "national")
    write_organisations(root, name="Zed One NHS Trust")
    return root


def test_gpps_catchment_practices_across_the_2024_break(gpps_folder):
    s = ni.gpps_section(gpps_folder, "ZT1")
    assert s.available
    t = s.table.set_index(["Practice", "Year"])
    one = "Zed Surgery One (ZP001)"
    assert t.loc[(one, "2023"), "% (weighted)"] == "81%"
    assert t.loc[(one, "2023"), "Base (as published)"] == "150"
    assert t.loc[(one, "2023"), "Base column"] == "Q28base"
    assert t.loc[(one, "2024"), "% (weighted)"] == "70%"
    assert t.loc[(one, "2024"), "Base (as published)"] == "140.5"
    assert t.loc[(one, "2024"), "Base column"] == "overallexp.baseevalw"
    assert t.loc[("Zed Surgery Two (ZP002)", "2023"), "% (weighted)"] == NOTE  # base 9
    assert t.loc[("Zed Surgery Two (ZP002)", "2024"), "% (weighted)"] == "66%"
    assert t.loc[("Zed Surgery Three (ZP003)", "2023"), "% (weighted)"] == (
        "suppressed by the survey"
    )
    assert not any("ZP004" in p for p, _ in t.index)  # ZT2's practice
    assert "2024 onwards are a new series" in s.text and "2024 onwards are a new series" in s.alt
    assert "**weighted**" in s.text and "Q28base" in s.text and r"overallexp\.baseevalw" in s.text
    fig = s.figure
    assert any(shape.x0 == 2023.5 for shape in fig.layout.shapes)
    assert any("2024: new series" in a.text for a in fig.layout.annotations)
    for trace in fig.data:  # no line joins 2023 to 2024
        assert max(trace.x) <= 2023 or min(trace.x) >= 2024
        if "ZP002" in trace.name:
            assert 50.0 not in list(trace.y)  # the base of 9 is not drawn


def test_gpps_without_catchment_or_files(gpps_folder, tmp_path):
    s = ni.gpps_section(gpps_folder, "ZT9")
    assert not s.available and "catchment_of" in s.text
    s = ni.gpps_section(tmp_path, "ZT1")
    assert not s.available
    assert "GPPS\\_<YYYY>" not in s.text  # the file name is code, not escaped text
    assert "`GPPS_<YYYY>_Practice_data_(weighted)_(csv)_PUBLIC.csv`" in s.text
    assert "https://www.gp-patient.co.uk/" in s.text


# --- NCPES, CQC, Staff Survey ---------------------------------------------------------------


def test_ncpes_cqc_and_staff_with_their_caveats(tmp_path):
    nat = tmp_path / "national"
    nat.mkdir()
    write_organisations(tmp_path, name="Zed One NHS Trust")
    pd.DataFrame(
        {
            "year": [2023, 2023, 2023],
            "level": ["Trust", "Trust", "Trust"],
            "org_code": ["ZT1", "ZT1", "ZT2"],
            "org_name": ["Zed One NHS Trust", "Zed One NHS Trust", "Zed Two NHS Trust"],
            "question": ["Q1", "Q2", "Q1"],
            "n_respondents": [120, 8, 300],
            "unadjusted_score": [0.8, 0.5, 0.7],
            "adjusted_score": [0.81, 0.52, 0.71],
            "expected_lower": [0.70, 0.40, 0.70],
            "expected_upper": [0.80, 0.60, 0.80],
        }
    ).to_csv(nat / "cpes_2023_trust_scores.csv", index=False)
    scores = pd.DataFrame(
        {
            "TRUSTCODE": ["ZT1", "ZT2"],
            "TRUSTNAME": ["Zed One NHS Trust", "Zed Two NHS Trust"],
            "N_TPAT": [310, 275],
            "meanq45": [8.1, 7.7],
        }
    )
    with pd.ExcelWriter(nat / "IP23 Trust-level benchmark.xlsx", engine="openpyxl") as book:
        scores.to_excel(book, sheet_name="Trust_Scores", index=False)
        pd.DataFrame({"TRUSTCODE": ["ZT1", "ZT2"]}).to_excel(
            book, sheet_name="Trust_Respondents", index=False
        )
    pd.DataFrame(
        {
            "year": [2022, 2023, 2022, 2023, 2023],
            "org_code": ["ZT1", "ZT1", "ZT1", "ZT1", "ZT2"],
            "org_name": ["Zed One NHS Trust"] * 4 + ["Zed Two NHS Trust"],
            "element": ["We are a team", "We are a team", "We work flexibly", "We work flexibly"]
            + ["We are a team"],
            "score": [6.3, 6.1, 7.0, 7.2, 5.0],
            "benchmark_score": [6.5, 6.6, 6.8, 6.9, 6.6],
            "benchmark_group": ["Acute trusts"] * 5,
        }
    ).to_csv(nat / "staff_survey_scores.csv", index=False)

    ncpes = ni.ncpes_section(tmp_path, "ZT1")
    row = ncpes.table.set_index("Question")
    assert row.loc["Q1", "Adjusted score"] == "81%"
    assert row.loc["Q1", "Expected range"] == "70% to 80%"
    assert row.loc["Q1", "Reading"] == "above expected range"
    assert row.loc["Q2", "Adjusted score"] == NOTE  # 8 respondents
    assert "1 results; 0 below and 1 above" in ncpes.text
    assert "case-mix adjusted" in ncpes.text and "unconfirmed" in ncpes.text

    cqc = ni.cqc_section(tmp_path, "ZT1")
    row = cqc.table.set_index("Question")
    assert row.loc["q45", "Trust score"] == "8.1" and row.loc["q45", "Respondents"] == "310"
    assert "2023" in cqc.text and "standardised for the age, sex and route of admission" in cqc.text

    staff = ni.staff_section(tmp_path, "ZT1")
    t = staff.table.set_index("Element or theme")
    assert t.loc["We are a team", "Score 2022"] == "6.3"
    assert t.loc["We are a team", "Score 2023"] == "6.1"
    assert t.loc["We are a team", "Benchmark group 2023"] == "6.6"
    assert "below its group's (to one decimal) on We are a team." in staff.text
    assert "benchmarking group" in staff.text and "never ranked" in staff.text
    assert "We are a team 6.1 (group 6.6)" in staff.alt
    assert list(staff.figure.layout.xaxis.range) == [0, 10]


def test_national_sections_say_what_to_download_for_each_missing_file(tmp_path):
    parts = ni.national_sections(tmp_path, "ZT1")
    assert [p.key for p in parts] == ["fft", "gpps", "ncpes", "cqc", "staff"]
    assert not any(p.available for p in parts)
    texts = {p.key: p.text for p in parts}
    assert "nhssurveys.co.uk/cpes" in texts["ncpes"]
    assert "IP20 Trust-level benchmark ODS V1.ods" in texts["cqc"]
    assert "nhsstaffsurveys.com" in texts["staff"]
    assert all("`national/`" in t for t in texts.values())


# --- staging and the committed sample ---------------------------------------------------------


def test_batch_staging_copies_the_national_folder_to_every_organisation(folder, tmp_path):
    plan = plan_staging(folder)
    assert plan.copied_dirs == ["national"] and "organisations.csv" in plan.copied
    hashes = stage_organisations(folder, tmp_path / "stage", ["ZT1", "ZT2"], plan)
    for code in ("ZT1", "ZT2"):
        for src in (folder / "national").iterdir():
            assert filecmp.cmp(src, tmp_path / "stage" / code / "national" / src.name, False)
    assert hashes["ZT1"]["national/"] == hashes["ZT2"]["national/"]
    digest = hashlib.sha256()
    for src in sorted((folder / "national").iterdir()):
        digest.update(f"{src.name}\0{hashlib.sha256(src.read_bytes()).hexdigest()}\n".encode())
    assert hashes["ZT1"]["national/"] == digest.hexdigest()
    staged = ni.fft_ward_trend(tmp_path / "stage" / "ZT1", "ZT1")
    assert staged.table.equals(ni.fft_ward_trend(folder, "ZT1").table)


def test_sample_national_files_are_generated_and_read(tmp_path):
    from pxlib.data.sample import write_sample

    write_sample(tmp_path)
    committed = SAMPLE_DIR / "national"
    names = sorted(p.name for p in (tmp_path / "national").iterdir())
    assert names == sorted(p.name for p in committed.iterdir())
    assert len([n for n in names if n.endswith(".xlsx")]) == 24
    assert {"GPPS_2023_Practice_data_(weighted)_(csv)_SYNTHETIC.csv"} <= set(names)
    for name in names:
        assert filecmp.cmp(tmp_path / "national" / name, committed / name, shallow=False), name
    assert filecmp.cmp(tmp_path / "README.md", SAMPLE_DIR / "README.md", shallow=False)
    total = sum(p.stat().st_size for p in committed.iterdir())
    assert total < 3_000_000
    parts = {p.key: p for p in ni.national_sections(SAMPLE_DIR, "ZA4")}
    assert parts["fft_trend"].available and parts["gpps"].available and parts["staff"].available
    birch = parts["fft_trend"].data
    birch = birch[birch["ward_label"] == "Birch Unit"]
    assert len(birch) and birch["pct_positive"].isna().all()  # 0-8 responses a month


def test_sample_figures_titles_fit_the_report_column():
    """Every title line and axis title fits its figure as drawn (1,040 px wide: the report
    column): the GPPS chart's long title and y-axis title were cut off."""
    import html

    from pxlib.spc.theme import text_width_px
    from pxlib.workbook.drivers import FIGURE_WIDTH

    for part in ni.national_sections(SAMPLE_DIR, "ZA1"):
        if part.figure is None:
            continue
        layout = part.figure.layout
        width = layout.width or FIGURE_WIDTH
        for line in html.unescape(layout.title.text or "").split("<br>"):
            assert text_width_px(line, 17) <= width - 80, (part.key, line)
        height = layout.height or 450
        y_title = html.unescape(layout.yaxis.title.text or "")
        plot_height = height - (layout.margin.t or 100) - (layout.margin.b or 80)
        assert text_width_px(y_title, 14) <= plot_height, (part.key, y_title)


def test_published_files_are_parsed_once_per_contents_and_handed_out_as_copies(tmp_path):
    """A batch kernel reads the same national files for every organisation, from each one's
    own staged folder: parsed once per contents, a caller changing its copy changes nothing
    for the next, and a changed file is read again."""
    calls = []

    def reader(folder):
        def read():
            calls.append(folder)
            return pd.DataFrame({"x": [1, 2, 3]})

        return read

    first, second = tmp_path / "ZA1", tmp_path / "ZA2"
    for folder in (first, second):
        folder.mkdir()
        (folder / "a.xlsx").write_bytes(b"the same published bytes")
    got = published("test", [first / "a.xlsx"], reader(first))
    got.loc[0, "x"] = 99
    again = published("test", [second / "a.xlsx"], reader(second))
    assert calls == [first] and list(again["x"]) == [1, 2, 3]
    (second / "a.xlsx").write_bytes(b"a newer month")
    published("test", [second / "a.xlsx"], reader(second))
    assert calls == [first, second]
