"""Friends and Family Test as NHS England publishes it: pxlib.data.national.

Workbooks are built by tests/national_workbooks.py (openpyxl, the published layouts of
national-data.md section 1, suppression worked out by a plain loop); what is read back
is compared with what the builder planted, and percentages are recomputed here by hand.
"""

from __future__ import annotations

import hashlib
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from national_workbooks import (
    AE_MODES,
    ANSWERS,
    IP_MODES,
    LAYOUTS,
    MODE_COLUMN,
    OP_MODES,
    TOUCHPOINTS,
    build_fft_workbook,
    build_raw_extract,
    hierarchy,
    published_sheets,
    reference_flags,
)
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from pxlib.data.national import (
    FFTLayoutWarning,
    fft_aggregate,
    fft_suppress,
    read_fft,
    read_fft_dir,
    write_fft_workbook,
    write_sample_fft,
)
from pxlib.data.national.xlsx_cells import Workbook as Cells
from pxlib.errors import ColumnError, DataValidationError

KEYS = {
    "icb": ["icb_code"],
    "trust": ["org_code"],
    "site": ["org_code", "site_code"],
    "ward": ["org_code", "site_code", "ward"],
    "mode": ["org_code"],
}
SETTING_MODES = {
    "inpatient": IP_MODES,
    "ae": AE_MODES,
    "ambulance": AE_MODES,
    "outpatient": OP_MODES,
    "maternity": AE_MODES,
}


def build_setting(tmp_path, setting, seed=1, month="July 2025", **faults):
    """(path, planted full frames by touchpoint, reasons by touchpoint) for ``setting``."""
    rng = np.random.default_rng(seed)
    tps = list(TOUCHPOINTS.values()) if setting == "maternity" else [None]
    frames, reasons = {}, {}
    for tp in tps:
        frames[tp] = hierarchy(rng, touchpoint=tp, mode_labels=SETTING_MODES[setting])
        reasons[tp] = reference_flags(frames[tp])
    sheets = published_sheets(setting, frames, reasons)
    full = {
        name: (frames[spec["touchpoint"]]["trust" if spec["level"] == "mode" else spec["level"]])
        for name, spec in LAYOUTS[setting]["sheets"].items()
    }
    path = build_fft_workbook(
        tmp_path / f"fft-{setting}.xlsm", setting, month, sheets, full=full, **faults
    )
    return path, frames, reasons


def expected(frame: pd.DataFrame, reasons: list[str], level: str, columns) -> pd.DataFrame:
    """What the reader should give for one planted level: counts where shown, % positive /
    negative recomputed here from the planted counts where the counts are shown, the
    published 4 dp figure where only it is shown, NaN on first-level suppression."""
    out = frame.copy()
    reasons = np.array(reasons)
    hidden = reasons != ""
    answers = out[ANSWERS].to_numpy(float)
    total = answers.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = (answers[:, 0] + answers[:, 1]) / np.where(total > 0, total, np.nan)
        neg = (answers[:, 3] + answers[:, 4]) / np.where(total > 0, total, np.nan)
    if level == "mode":
        pos[:] = neg[:] = np.nan
        out[ANSWERS] = np.nan
    for name, values in (("pct_positive", pos), ("pct_negative", neg)):
        shown = np.where(hidden, np.round(values, 4), values)
        out[name] = np.where(reasons == "first", np.nan, shown)
    blank = [c for c in ANSWERS + [c for c in out.columns if c.startswith("mode_")]]
    out[blank] = out[blank].astype(float)
    out.loc[hidden, blank] = np.nan
    out["suppressed"] = hidden
    out["independent_sector"] = out["icb_code"].eq("IS1")
    keep = [c for c in out.columns if c in columns]
    return out[keep]


def compare(got: pd.DataFrame, want: pd.DataFrame, level: str) -> None:
    got = got.sort_values(KEYS[level]).reset_index(drop=True)
    want = want.sort_values(KEYS[level]).reset_index(drop=True)
    assert len(got) == len(want)
    for col in want.columns:
        g, w = got[col], want[col]
        if col in ("pct_positive", "pct_negative") or pd.api.types.is_float_dtype(w):
            np.testing.assert_allclose(
                g.to_numpy(float), w.to_numpy(float), rtol=0, atol=1e-12, err_msg=f"{level}.{col}"
            )
        else:
            assert [None if pd.isna(v) else v for v in g] == [
                None if pd.isna(v) else v for v in w
            ], f"{level}.{col}"


# --- every setting read back -------------------------------------------------------------


@pytest.mark.parametrize("setting", ["inpatient", "ae", "ambulance", "outpatient", "maternity"])
def test_each_published_setting_reads_back_what_was_planted(tmp_path, setting):
    path, frames, reasons = build_setting(tmp_path, setting)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_fft(path)
    layout = LAYOUTS[setting]
    assert set(got) == {spec["level"] for spec in layout["sheets"].values()}
    for level, frame in got.items():
        assert (frame["setting"] == setting).all() and (frame["level"] == level).all()
        assert (frame["period"] == pd.Timestamp("2025-07-01")).all()
        parts = []
        for spec in layout["sheets"].values():
            if spec["level"] != level:
                continue
            tp = spec["touchpoint"]
            src = "trust" if level == "mode" else level
            cols = [c for _, c in spec["columns"]] + ["suppressed", "independent_sector"]
            part = expected(frames[tp][src], reasons[tp][src], level, cols)
            if tp:
                part["touchpoint"] = tp
            parts.append(part)
        want = pd.concat(parts, ignore_index=True)
        if setting == "maternity":
            assert "touchpoint" in frame.columns
            for tp in TOUCHPOINTS.values():
                compare(frame[frame.touchpoint == tp], want[want.touchpoint == tp], level)
        else:
            assert "touchpoint" not in frame.columns
            compare(frame, want, level)
        if setting == "maternity":  # Total Eligible only on the birth (Q2) sheets
            assert frame.loc[frame.touchpoint != "birth", "total_eligible"].isna().all()
            assert frame.loc[frame.touchpoint == "birth", "total_eligible"].notna().all()


def test_inpatient_trusts_carry_every_collection_mode_and_is1_is_flagged(tmp_path):
    path, frames, _ = build_setting(tmp_path, "inpatient")
    trusts = read_fft(path, level="Trusts")
    assert [c for c in trusts.columns if c.startswith("mode_")] == [
        MODE_COLUMN[m] for m in IP_MODES
    ]
    assert trusts.loc[trusts.icb_code == "IS1", "independent_sector"].all()
    assert not trusts.loc[trusts.icb_code != "IS1", "independent_sector"].any()
    wards = read_fft(path, level="ward")
    assert list(wards.columns[:11]) == [
        "setting",
        "level",
        "period",
        "icb_code",
        "org_code",
        "org_name",
        "site_code",
        "site_name",
        "ward",
        "first_speciality",
        "second_speciality",
    ]
    assert "mode_sms" not in wards.columns  # modes are shown with the trusts only


def test_levels_by_sheet_name_and_alias(tmp_path):
    path, _, _ = build_setting(tmp_path, "maternity")
    got = read_fft(path)
    assert got["Trusts"] is got["trust"] and got["org"] is got["trust"]
    q2 = got["Trusts Q2"]
    assert set(q2.touchpoint) == {"birth"}
    only = read_fft(path, level="Sites Q3")
    assert set(only.touchpoint) == {"postnatal ward"}
    with pytest.raises(DataValidationError, match="levels icb, trust, site"):
        read_fft(path, level="ward")


# --- % positive and negative ---------------------------------------------------------------


def test_percentages_count_dont_know_in_the_denominator(tmp_path):
    frames = hierarchy(np.random.default_rng(3), small=0)
    frames["ward"].loc[0, ANSWERS] = [6, 3, 1, 1, 1, 8]  # 20 responses, 8 don't know
    frames["ward"].loc[0, "total_responses"] = 20
    path = write_fft_workbook(
        {
            lev: f.assign(setting="inpatient", period=pd.Timestamp("2025-03-01"))
            for lev, f in _resummed(frames).items()
        },
        tmp_path / "ip.xlsx",
    )
    wards = read_fft(path, level="ward")
    row = wards[
        (wards.org_code == frames["ward"].org_code[0])
        & (wards.site_code == frames["ward"].site_code[0])
        & (wards.ward == frames["ward"].ward[0])
    ].iloc[0]
    assert row.pct_positive == pytest.approx(9 / 20) and row.pct_negative == pytest.approx(2 / 20)


def _resummed(frames):
    """Sites, trusts and ICBs re-summed from the wards after a ward was edited."""
    ward = frames["ward"].assign(
        setting="inpatient", period=pd.Timestamp("2025-03-01"), suppressed=False
    )
    out = {
        "ward": ward,
        "site": fft_aggregate(ward, "site"),
        "trust": fft_aggregate(ward, "trust"),
        "icb": fft_aggregate(ward, "icb"),
    }
    out["icb"]["icb_name"] = out["icb"]["icb_code"]
    return out


def test_aggregates_resum_counts_not_average_percentages():
    ward = pd.DataFrame(
        {
            "setting": "inpatient",
            "period": pd.Timestamp("2025-01-01"),
            "icb_code": "ZQ1",
            "org_code": "ZA1",
            "org_name": "Z NHS Trust",
            "site_code": "ZA101",
            "site_name": "S",
            "ward": ["A", "B"],
            "very_good": [9, 1],
            "good": [0, 0],
            "neither": [0, 0],
            "poor": [1, 9],
            "very_poor": [0, 0],
            "dont_know": [0, 90],
            "total_responses": [10, 100],
            "total_eligible": [40, 400],
        }
    )
    site = fft_aggregate(ward, "site")
    assert site.total_responses[0] == 110
    assert site.pct_positive[0] == pytest.approx(10 / 110)  # not (0.9 + 0.01) / 2
    assert site.pct_negative[0] == pytest.approx(10 / 110)


# --- suppression, hand-worked ---------------------------------------------------------------


def _units(level, rows):
    cols = {
        "icb": ["icb_code"],
        "trust": ["icb_code", "org_code"],
        "site": ["icb_code", "org_code", "site_code"],
        "ward": [
            "icb_code",
            "org_code",
            "site_code",
            "ward",
            "first_speciality",
            "second_speciality",
        ],
    }[level]
    frame = pd.DataFrame([r[:-1] for r in rows], columns=cols)
    n = np.array([r[-1] for r in rows], dtype=float)
    frame["very_good"], frame["good"], frame["neither"] = n, 0.0, 0.0
    frame["poor"] = frame["very_poor"] = frame["dont_know"] = 0.0
    frame["total_responses"], frame["total_eligible"] = n, n * 3
    frame["pct_positive"] = np.where(n > 0, 1.0, np.nan)
    frame["pct_negative"] = np.where(n > 0, 0.0, np.nan)
    if level != "icb":
        frame["org_name"] = frame["org_code"] + " NHS Trust"
    return frame


def test_suppression_first_second_and_zeros_within_one_site():
    # wards of one site: 3 (1-4: first level, rank 1), 6 (rank 2 -> second level),
    # 10 (rank 3: shown), 0 (no responses: neither flagged nor ranked)
    frames = {
        "icb": _units("icb", [("ZQ1", 19)]),
        "trust": _units("trust", [("ZQ1", "ZA1", 19)]),
        "site": _units("site", [("ZQ1", "ZA1", "ZA101", 19)]),
        "ward": _units(
            "ward",
            [
                ("ZQ1", "ZA1", "ZA101", "W3", "300", None, 3),
                ("ZQ1", "ZA1", "ZA101", "W6", "300", None, 6),
                ("ZQ1", "ZA1", "ZA101", "W10", "300", None, 10),
                ("ZQ1", "ZA1", "ZA101", "W0", "300", None, 0),
            ],
        ),
    }
    out = fft_suppress(frames)
    wards = out["ward"].set_index("ward")
    assert wards.suppression.to_dict() == {"W3": "first", "W6": "second", "W10": "", "W0": ""}
    # blanked: counts on any flag; percentages on first level only; totals stay
    assert np.isnan(wards.loc["W3", "very_good"]) and np.isnan(wards.loc["W3", "pct_positive"])
    assert np.isnan(wards.loc["W6", "very_good"]) and wards.loc["W6", "pct_positive"] == 1.0
    assert wards.loc["W3", "total_responses"] == 3 and wards.loc["W6", "total_eligible"] == 18
    assert wards.loc["W10", "very_good"] == 10
    assert not out["site"].suppressed.any()


def test_ward_ties_break_by_first_then_second_speciality_then_name():
    # 2 responses (first level, rank 1); three wards on 6: "100 - ..." sorts before
    # "300 - ...", so ward Z (speciality 100) is rank 2 and suppressed; X and Y are not.
    # Then two wards on 7 with the same first speciality: second speciality decides (Q's
    # "110" before P's "420"), and with both equal the ward name decides (M before N).
    rows = [
        ("ZQ1", "ZA1", "ZA101", "W2", "300 - GEN MED", None, 2),
        ("ZQ1", "ZA1", "ZA101", "X", "300 - GEN MED", None, 6),
        ("ZQ1", "ZA1", "ZA101", "Y", "300 - GEN MED", None, 6),
        ("ZQ1", "ZA1", "ZA101", "Z", "100 - GEN SURG", None, 6),
        ("ZQ1", "ZA1", "ZA102", "W1", "300", None, 1),
        ("ZQ1", "ZA1", "ZA102", "P", "300", "420", 7),
        ("ZQ1", "ZA1", "ZA102", "Q", "300", "110", 7),
        ("ZQ1", "ZA1", "ZA103", "W4", "300", "110", 4),
        ("ZQ1", "ZA1", "ZA103", "N", "300", "110", 9),
        ("ZQ1", "ZA1", "ZA103", "M", "300", "110", 9),
    ]
    frames = {
        "icb": _units("icb", [("ZQ1", 57)]),
        "trust": _units("trust", [("ZQ1", "ZA1", 57)]),
        "site": _units(
            "site",
            [("ZQ1", "ZA1", "ZA101", 20), ("ZQ1", "ZA1", "ZA102", 15), ("ZQ1", "ZA1", "ZA103", 22)],
        ),
        "ward": _units("ward", rows),
    }
    flags = fft_suppress(frames)["ward"].set_index("ward").suppression
    assert flags.to_dict() == {
        "W2": "first",
        "X": "",
        "Y": "",
        "Z": "second",
        "W1": "first",
        "P": "",
        "Q": "second",
        "W4": "first",
        "N": "",
        "M": "second",
    }


def test_suppression_cascades_to_the_two_smallest_children():
    # trusts of ICB ZQ1: T1 4 responses (first level, rank 1), T2 50 (rank 2: second
    # level), T3 60 (shown). Sites of T1: 1 and 3 (both first level; nothing else to hide).
    # Sites of T2 (suppressed): 20 and 30 are its rank 1 and 2 -> cascade; 0 is not ranked.
    # Sites of T3: 25, 35 shown. Wards of site S20 (cascade-suppressed): 8 and 12 cascade,
    # and the third (40) is shown.
    frames = {
        "icb": _units("icb", [("ZQ1", 114), ("ZQ2", 300)]),
        "trust": _units(
            "trust", [("ZQ1", "T1", 4), ("ZQ1", "T2", 50), ("ZQ1", "T3", 60), ("ZQ2", "T4", 300)]
        ),
        "site": _units(
            "site",
            [
                ("ZQ1", "T1", "S1", 1),
                ("ZQ1", "T1", "S3", 3),
                ("ZQ1", "T2", "S20", 20),
                ("ZQ1", "T2", "S30", 30),
                ("ZQ1", "T2", "S0", 0),
                ("ZQ1", "T3", "S25", 25),
                ("ZQ1", "T3", "S35", 35),
                ("ZQ2", "T4", "S300", 300),
            ],
        ),
        "ward": _units(
            "ward",
            [
                ("ZQ1", "T2", "S20", "W8", "300", None, 8),
                ("ZQ1", "T2", "S20", "W12", "300", None, 12),
                ("ZQ1", "T2", "S20", "W40", "300", None, 40),
            ],
        ),
    }
    out = fft_suppress(frames)
    assert out["icb"].suppression.tolist() == ["", ""]
    assert out["trust"].set_index("org_code").suppression.to_dict() == {
        "T1": "first",
        "T2": "second",
        "T3": "",
        "T4": "",
    }
    assert out["site"].set_index("site_code").suppression.to_dict() == {
        "S1": "first",
        "S3": "first",
        "S20": "cascade",
        "S30": "cascade",
        "S0": "",
        "S25": "",
        "S35": "",
        "S300": "",
    }
    assert out["ward"].set_index("ward").suppression.to_dict() == {
        "W8": "cascade",
        "W12": "cascade",
        "W40": "",
    }
    cascaded = out["site"].set_index("site_code").loc["S20"]
    assert np.isnan(cascaded.very_good) and cascaded.pct_positive == 1.0  # % stays visible


def test_icbs_are_ranked_nationally():
    # ICBs: 2 (first level) and then the next smallest nationally (9) is second level
    frames = {"icb": _units("icb", [("ZQ1", 2), ("ZQ2", 9), ("ZQ3", 40)])}
    assert fft_suppress(frames)["icb"].suppression.tolist() == ["first", "second", ""]


def test_suppress_needs_the_parent_level():
    frames = {"ward": _units("ward", [("ZQ1", "ZA1", "ZA101", "W", "300", None, 3)])}
    with pytest.raises(DataValidationError, match="'site' frame is needed"):
        fft_suppress(frames)


# --- suppression against published workbooks, cell for cell ---------------------------------


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_fft_suppress_agrees_cell_for_cell_with_a_published_workbook(tmp_path, seed):
    rng = np.random.default_rng(seed)
    frames = hierarchy(rng, icbs=3, trusts=3, sites=3, wards=4, small=0.35)
    reasons = reference_flags(frames)
    assert sum(r != "" for rs in reasons.values() for r in rs) > 10  # the rule is exercised
    sheets = published_sheets("inpatient", {None: frames}, {None: reasons})
    path = build_fft_workbook(
        tmp_path / "ip.xlsm",
        "inpatient",
        "March 2025",
        sheets,
        full={n: frames[s["level"]] for n, s in LAYOUTS["inpatient"]["sheets"].items()},
    )
    published = read_fft(path)
    ours = fft_suppress(frames)
    rederived = fft_suppress(published)  # from the published totals alone
    for level in ("icb", "trust", "site", "ward"):
        got = published[level].sort_values(KEYS[level]).reset_index(drop=True)
        mine = ours[level].sort_values(KEYS[level]).reset_index(drop=True)
        again = rederived[level].sort_values(KEYS[level]).reset_index(drop=True)
        assert (got.suppressed.to_numpy() == mine.suppressed.to_numpy()).all(), level
        assert (again.suppression.to_numpy() == mine.suppression.to_numpy()).all(), level
        for col in [
            *ANSWERS,
            "total_responses",
            "total_eligible",
            *[c for c in got.columns if c.startswith("mode_")],
        ]:
            np.testing.assert_array_equal(
                got[col].to_numpy(float), mine[col].to_numpy(float), err_msg=f"{level}.{col}"
            )
        for col in ("pct_positive", "pct_negative"):  # published to 4 dp
            np.testing.assert_allclose(
                got[col].to_numpy(float),
                mine[col].to_numpy(float),
                rtol=0,
                atol=5e-5,
                err_msg=f"{level}.{col}",
            )


def test_pxlib_writer_and_the_test_builder_write_the_same_file(tmp_path):
    path, frames, _ = build_setting(tmp_path, "inpatient", seed=5)
    full = {
        lev: f.assign(setting="inpatient", period=pd.Timestamp("2025-07-01"))
        for lev, f in frames[None].items()
    }
    ours = write_fft_workbook(full, tmp_path / "ours.xlsx")
    a, b = read_fft(path), read_fft(ours)
    for level in a:
        x = a[level].sort_values(KEYS[level]).reset_index(drop=True)
        y = b[level].sort_values(KEYS[level]).reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y, check_exact=False, atol=5e-5, rtol=0)


# --- the raw extract ----------------------------------------------------------------------------


def test_raw_extract_reads_through_read_fft_and_suppresses_as_published(tmp_path):
    rng = np.random.default_rng(21)
    frames = hierarchy(rng, icbs=2, trusts=3, sites=2, wards=3, small=0.3)
    raw_frames = {k: v.copy() for k, v in frames.items()}
    for f in raw_frames.values():  # the extract gives an independent provider its real ICB
        f.loc[f.icb_code == "IS1", "icb_code"] = "ZQ2"
    raw = build_raw_extract(
        tmp_path / "FFT_Inpatients_V1 Jan-26.xlsx",
        raw_frames,
        "2025_26",
        "JANUARY",
        icb_names={
            "ZQ1": "NHS ZED ZQ1 INTEGRATED CARE BOARD",
            "ZQ2": "NHS ZED ZQ2 INTEGRATED CARE BOARD",
        },
    )
    got = read_fft(raw)
    assert set(got) == {"icb", "trust", "site", "ward"}
    for level, frame in got.items():
        assert (frame.period == pd.Timestamp("2026-01-01")).all()  # JANUARY of 2025_26
        assert not frame.suppressed.any()
        want = frames[level]
        compare(frame, want[[c for c in frame.columns if c in want.columns]], level)
    with pytest.raises(DataValidationError, match="no 'mode'"):
        read_fft(raw, level="mode")
    assert set(got["icb"].icb_name) == {
        "NHS ZED ZQ1 ICB",
        "NHS ZED ZQ2 ICB",
        "INDEPENDENT SECTOR PROVIDERS",
    }
    # the published file of the same month agrees with the raw extract once suppressed
    reasons = reference_flags(frames)
    sheets = published_sheets("inpatient", {None: frames}, {None: reasons})
    pub = read_fft(build_fft_workbook(tmp_path / "pub.xlsm", "inpatient", "January 2026", sheets))
    mine = fft_suppress(got)
    for level in ("trust", "site", "ward"):
        x = pub[level].sort_values(KEYS[level]).reset_index(drop=True)
        y = mine[level].sort_values(KEYS[level]).reset_index(drop=True)
        assert (x.suppressed.to_numpy() == y.suppressed.to_numpy()).all(), level
        np.testing.assert_array_equal(x.very_good.to_numpy(float), y.very_good.to_numpy(float))


def test_raw_extract_unknown_column_and_moved_header(tmp_path):
    frames = hierarchy(np.random.default_rng(2))
    bad = build_raw_extract(tmp_path / "a.xlsx", frames, "2024-25", "MAY", extra_column="Spare")
    with pytest.raises(ColumnError, match="'Spare' is not a column of the raw FFT extract"):
        read_fft(bad)
    moved = build_raw_extract(tmp_path / "b.xlsx", frames, "2024-25", "MAY", header_row=5)
    with pytest.warns(FFTLayoutWarning, match="row 5"):
        got = read_fft(moved, level="ward")
    assert (got.period == pd.Timestamp("2024-05-01")).all()


# --- a folder of monthly files ---------------------------------------------------------------


def test_read_fft_dir_builds_a_time_series_and_keeps_each_files_period(tmp_path):
    folder = tmp_path / "fft"
    folder.mkdir()
    months = ["May 2025", "June 2025", "July 2025"]
    for k, month in enumerate(months):
        path, _, _ = build_setting(folder, "inpatient", seed=40 + k, month=month)
        path.rename(
            folder / f"friends-and-family-test-inpatient-data-{month.replace(' ', '-')}.xlsm"
        )
    ae, _, _ = build_setting(folder, "ae", seed=9, month="July 2025")
    wards = read_fft_dir(folder, setting="inpatient", level="ward")
    assert sorted(wards.period.unique()) == [pd.Timestamp(f"2025-0{m}-01") for m in (5, 6, 7)]
    assert set(wards.setting) == {"inpatient"}
    per_ward = wards.groupby(["org_code", "site_code", "ward"]).period.nunique()
    assert (per_ward == 3).all()
    assert wards.source_file.str.contains("inpatient").all()
    july = wards[wards.period == pd.Timestamp("2025-07-01")]
    assert set(july.source_file) == {"friends-and-family-test-inpatient-data-July-2025.xlsm"}
    every = read_fft_dir(folder)
    assert set(every["site"].setting) == {"inpatient", "ae"}
    assert ae.name in set(every["trust"].source_file)
    parallel = read_fft_dir(folder, setting="inpatient", level="ward", workers=2)
    pd.testing.assert_frame_equal(parallel, wards)
    with ThreadPoolExecutor(2) as pool:  # any concurrent.futures executor (e.g. Dask's)
        pd.testing.assert_frame_equal(
            read_fft_dir(folder, setting="inpatient", level="ward", executor=pool), wards
        )


def test_read_fft_dir_refuses_two_files_for_one_month(tmp_path):
    folder = tmp_path / "fft"
    folder.mkdir()
    a, _, _ = build_setting(folder, "inpatient", seed=1, month="July 2025")
    a.rename(folder / "july.xlsm")
    b, _, _ = build_setting(folder, "inpatient", seed=2, month="July 2025")
    b.rename(folder / "july-copy.xlsm")
    with pytest.raises(
        DataValidationError, match=r"july-copy.xlsm and july.xlsm|july.xlsm and july-copy.xlsm"
    ):
        read_fft_dir(folder)


# --- failing loudly -------------------------------------------------------------------------


def test_a_renamed_sheet_is_named(tmp_path):
    path, _, _ = build_setting(tmp_path, "inpatient", rename={"Wards": "Ward level"})
    with pytest.raises(DataValidationError, match="sheet 'Wards' not found"):
        read_fft(path)
    assert len(read_fft(path, level="trust"))  # the other sheets still read


def test_a_header_moved_onto_the_england_rows_is_refused(tmp_path):
    path, _, _ = build_setting(tmp_path, "inpatient", move_header=2)
    with pytest.warns(FFTLayoutWarning, match="row 12"):
        with pytest.raises(DataValidationError, match=r"sheet 'ICB', row 14: no England row"):
            read_fft(path)


def test_a_header_row_without_its_sub_header_is_refused(tmp_path):
    path, _, _ = build_setting(tmp_path, "ae", move_header=1)
    with pytest.warns(FFTLayoutWarning):
        with pytest.raises(DataValidationError, match="Has the header row moved"):
            read_fft(path)


def test_an_extra_column_is_named_with_its_cell(tmp_path):
    path, _, _ = build_setting(tmp_path, "inpatient", extra_column=("Sites", "Ward Type"))
    with pytest.raises(
        ColumnError, match=r"sheet 'Sites', row 10, column P: 'Ward Type' is not a column"
    ):
        read_fft(path)


def test_a_missing_notes_title_is_named(tmp_path):
    path, _, _ = build_setting(tmp_path, "inpatient", no_title=True)
    with pytest.raises(DataValidationError, match="no title in A2"):
        read_fft(path)


def test_a_title_without_a_month_or_of_an_unconfirmed_setting(tmp_path):
    path, _, _ = build_setting(tmp_path, "inpatient", title="Inpatient FFT data")
    with pytest.raises(DataValidationError, match="cell A2: the title 'Inpatient FFT data'"):
        read_fft(path)
    path, _, _ = build_setting(
        tmp_path, "inpatient", title="Community Friends and Family Test (FFT) Data - July 2025"
    )
    with pytest.raises(DataValidationError, match="has not confirmed"):
        read_fft(path)


def test_totals_that_are_not_the_sum_of_the_answers_are_refused(tmp_path):
    rng = np.random.default_rng(4)
    frames = hierarchy(rng, small=0)
    reasons = reference_flags(frames)
    sheets = published_sheets("inpatient", {None: frames}, {None: reasons})
    sheets["Sites"].loc[1, "total_responses"] = int(sheets["Sites"].loc[1, "total_responses"]) + 1
    path = build_fft_workbook(tmp_path / "x.xlsm", "inpatient", "July 2025", sheets)
    with pytest.raises(
        DataValidationError,
        match=r"sheet 'Sites', row 16, column F "
        r"\('Total Responses'\).*not the sum",
    ):
        read_fft(path)


def test_text_in_a_count_column_is_named(tmp_path):
    rng = np.random.default_rng(4)
    frames = hierarchy(rng, small=0)
    sheets = published_sheets("ae", {None: frames}, {None: reference_flags(frames)})
    sheets["Trusts"].loc[0, "good"] = "n/k"
    path = build_fft_workbook(tmp_path / "x.xlsx", "ae", "July 2025", sheets)
    with pytest.raises(
        DataValidationError,
        match=r"sheet 'Trusts', row 7, column I "
        r"\('Good'\): 'n/k' is not a number",
    ):
        read_fft(path)


def test_a_workbook_that_is_not_fft(tmp_path):
    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(DataValidationError, match="no 'Notes' sheet"):
        read_fft(tmp_path / "other.xlsx")
    (tmp_path / "not.xlsx").write_text("a,b\n1,2\n")
    with pytest.raises(DataValidationError, match="not an Excel workbook"):
        read_fft(tmp_path / "not.xlsx")


# --- reading cells --------------------------------------------------------------------------


def test_fast_cell_reader_agrees_with_openpyxl(tmp_path):
    path, _, _ = build_setting(tmp_path, "inpatient", seed=8)
    fast, slow = read_fft(path), read_fft(path, engine="openpyxl")
    for level in fast:
        pd.testing.assert_frame_equal(fast[level], slow[level])
    with Cells(path) as wb:
        for sheet in wb.sheetnames:
            wb.cells(sheet)
        assert wb.fallbacks == {}


def test_cells_the_fast_reader_does_not_know_go_to_openpyxl(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = CellRichText([TextBlock(InlineFont(b=True), "bold"), " plain"])
    ws["B2"], ws["C3"], ws["D1"] = 1.5, "a & b <c>", True
    ws["E4"] = "=SUM(B2:B3)"
    wb.save(tmp_path / "rich.xlsx")
    with Cells(tmp_path / "rich.xlsx") as cells, Cells(tmp_path / "rich.xlsx", "openpyxl") as ref:
        got, want = cells.cells("Sheet"), ref.cells("Sheet")
        assert "Sheet" in cells.fallbacks
    assert got.shape == want.shape and got[2, 2] == "a & b <c>" and got[0, 3] is True


# --- the sample -----------------------------------------------------------------------------


def test_sample_fft_uses_the_sample_organisations_and_is_reproducible(tmp_path):
    a = write_sample_fft(tmp_path / "a", seed=7, months=2)
    b = write_sample_fft(tmp_path / "b", seed=7, months=2)
    assert [p.name for p in a] == [
        "friends-and-family-test-inpatient-data-september-2024.xlsx",
        "friends-and-family-test-inpatient-data-october-2024.xlsx",
    ]
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in a]
    assert digest == [hashlib.sha256(p.read_bytes()).hexdigest() for p in b]
    wards = read_fft_dir(tmp_path / "a", level="ward")
    ash = wards[(wards.org_code == "ZA1") & (wards.ward == "Ash Ward")]
    assert len(ash) == 2 and set(ash.site_code) == {"ZA101"}
    assert {"ZA1", "ZA6", "ZB1", "ZX1"} <= set(wards.org_code)
    assert wards.loc[wards.org_code == "ZX1", "independent_sector"].all()
    birch = wards[wards.ward == "Birch Unit"]
    assert birch.suppressed.any()
    with Cells(a[0]) as wb:
        assert "SYNTHETIC" in str(wb.value("Notes", 4, 1))
        assert wb.value("Notes", 2, 1).endswith("September 2024")
