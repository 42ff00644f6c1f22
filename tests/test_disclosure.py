"""pxlib.disclosure: small-number suppression and comment redaction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.disclosure import (
    redact_comments,
    suppress,
    suppress_fft,
    suppress_gpps,
    suppress_option_counts,
)
from pxlib.errors import ColumnError, DataValidationError


def test_gpps_suppresses_fewer_than_ten():
    t = pd.DataFrame(
        {"practice": ["A", "B", "C"], "n_respondents": [9, 10, 150], "share": [0.5, 0.6, 0.7]}
    )
    out = suppress_gpps(t)
    assert np.isnan(out.share[0]) and np.isnan(out.n_respondents[0])
    assert out.share[1] == 0.6 and out.share[2] == 0.7
    assert out.suppression_reason.tolist() == ["fewer than 10 respondents", "", ""]
    # configurable threshold and the -97 marker of the published files
    out = suppress_gpps(t, threshold=20, fill=-97, value_cols=["share"])
    assert out.share.tolist() == [-97, -97, 0.7]
    assert out.n_respondents.tolist() == [9, 10, 150]
    assert t.share.tolist() == [0.5, 0.6, 0.7]  # input untouched


def _hierarchy():
    return pd.DataFrame(
        {
            "unit": ["T", "S1", "S2", "W1", "W2", "W3", "W4", "W5", "W6"],
            "parent": [None, "T", "T", "S1", "S1", "S1", "S2", "S2", "W4"],
            "Total Responses": [200, 80, 120, 3, 20, 57, 4, 116, 2],
            "Prop_Pos": [0.9] * 9,
        }
    )


def test_fft_primary_secondary_and_cascade():
    out = suppress_fft(_hierarchy()).set_index("unit")
    r = out.suppression_reason
    assert r["W1"].startswith("primary")  # 0 < 3 < 5
    assert r["W2"] == "secondary: next smallest in S1"  # W1 alone in S1: next smallest
    assert r["W3"] == ""
    assert r["W4"].startswith("primary")
    assert r["W6"].startswith("primary")  # 2 responses; also under a suppressed parent
    # W4 is the only suppressed child of S2 -> W5 suppressed as the next smallest
    assert r["W5"] == "secondary: next smallest in S2"
    assert r["T"] == r["S1"] == r["S2"] == ""
    assert np.isnan(out.loc["W2", "Prop_Pos"]) and out.loc["W3", "Prop_Pos"] == 0.9


def test_fft_cascades_down_from_a_suppressed_parent():
    t = pd.DataFrame(
        {
            "unit": ["S1", "S2", "W1", "W2", "W3"],
            "parent": [None, None, "S1", "S1", "S2"],
            "Total Responses": [4, 50, 2, 2, 50],
        }
    )
    out = suppress_fft(t).set_index("unit").suppression_reason
    assert out["S1"].startswith("primary")
    assert out["W1"].startswith("primary")
    assert out["W2"].startswith("primary")
    assert out["S2"] == "" and out["W3"] == ""
    t2 = t.assign(**{"Total Responses": [4, 50, 10, 12, 50]})
    out2 = suppress_fft(t2).set_index("unit").suppression_reason
    assert out2["W1"] == out2["W2"] == "cascade: parent suppressed"


def test_fft_zero_responses_are_not_primary_and_two_primaries_need_no_secondary():
    t = pd.DataFrame(
        {
            "unit": ["P", "A", "B", "C", "D"],
            "parent": [None, "P", "P", "P", "P"],
            "Total Responses": [60, 0, 2, 3, 55],
        }
    )
    r = suppress_fft(t).set_index("unit").suppression_reason
    assert r["A"] == ""
    assert r["B"].startswith("primary") and r["C"].startswith("primary")
    assert r["D"] == ""
    # configurable threshold
    r = suppress_fft(t, threshold=3).set_index("unit").suppression_reason
    assert r["B"].startswith("primary") and r["C"].startswith("secondary")


def test_suppression_errors():
    with pytest.raises(ColumnError, match="'n_respondents'"):
        suppress_gpps(pd.DataFrame({"x": [1]}))
    with pytest.raises(DataValidationError, match="missing count"):
        suppress_gpps(pd.DataFrame({"n_respondents": [np.nan]}))
    with pytest.raises(ValueError, match="unknown suppression rule"):
        suppress(pd.DataFrame(), rule="nope")
    assert suppress(pd.DataFrame({"n_respondents": [3]}), "gpps").suppression_reason[0] != ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call 07700 900123 please", "Call [phone] please"),
        ("ring +44 7700 900123", "ring [phone]"),
        ("ring (01632) 960001 or 020 7946 0958", "ring [phone] or [phone]"),
        ("mail jo.bloggs@nhs.net now", "mail [email] now"),
        ("my number is 485 777 3456", "my number is [nhs number]"),
        ("my number is 4857773456.", "my number is [nhs number]."),
        ("Dr Patel was kind", "Dr [name] was kind"),
        ("nurse Jane Smith helped", "nurse [name] helped"),
        ("Mrs. Brown and Sister O'Neil", "Mrs. [name] and Sister [name]"),
        ("Mr Khan, Ms Lee and Miss Jones", "Mr [name], Ms [name] and Miss [name]"),
        ("the nurse was lovely", "the nurse was lovely"),
        ("waited 3 hours on ward 12", "waited 3 hours on ward 12"),
    ],
)
def test_redact_comments(text, expected):
    assert redact_comments(pd.Series([text]))[0] == expected


def test_redact_keeps_missing_and_index():
    s = pd.Series(["ok", None], index=[10, 20], name="comment")
    out = redact_comments(s)
    assert out.index.tolist() == [10, 20] and out.name == "comment"
    assert out[10] == "ok" and pd.isna(out[20])


def test_option_counts_hide_one_to_four_and_the_next_lowest():
    t = pd.DataFrame(
        {
            "question": ["q1", "q2", "q3"],
            "Very good": [40, 3, 50],
            "Fairly good": [2, 2, 30],
            "Poor": [12, 20, 8],
            "Very poor": [9, 25, 0],
        }
    )
    opts = ["Very good", "Fairly good", "Poor", "Very poor"]
    out = suppress_option_counts(t, opts)
    # q1: one small count (2) -> the next lowest (9) goes too
    assert np.isnan(out.loc[0, "Fairly good"]) and np.isnan(out.loc[0, "Very poor"])
    assert out.loc[0, "Poor"] == 12 and out.loc[0, "Very good"] == 40
    assert out.loc[0, "suppression_reason"] == "Fairly good; Very poor"
    # q2: two small counts protect each other
    assert out.loc[1, "suppression_reason"] == "Very good; Fairly good"
    assert out.loc[1, "Poor"] == 20
    # q3: zero is not suppressed, nothing hidden
    assert out.loc[2, "suppression_reason"] == ""
    assert out.loc[2, "Very poor"] == 0


def test_names_after_matron_and_professor_titles_are_redacted():
    import pandas as pd

    from pxlib.disclosure import redact_comments

    out = redact_comments(
        pd.Series(["Matron Ellison and Prof. Quayle came round", "mx Ade helped"])
    )
    assert out.tolist() == ["Matron [name] and Prof. [name] came round", "mx [name] helped"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # postcodes, any case, with or without the space
        ("I live at LS1 4AP now", "I live at [postcode] now"),
        ("post to sw1a1aa please", "post to [postcode] please"),
        # phone forms: 0044, dots, hyphens, +44 (0)
        ("ring 0044 7700 900123", "ring [phone]"),
        ("ring +44 (0)20 7946 0958 today", "ring [phone] today"),
        ("call 07700-900-123.", "call [phone]."),
        ("call 0113.496.0000", "call [phone]"),
        # an NHS number with dots, and with no separator at the end of a sentence
        ("number 943.476.5919", "number [nhs number]"),
        # dates of birth after the words people use
        ("DOB 03/04/1950 on the letter", "DOB [date of birth] on the letter"),
        ("d.o.b: 1950-04-03", "d.o.b: [date of birth]"),
        ("I was born on 3rd April 1950", "I was born on [date of birth]"),
        ("date of birth is April 3, 1950", "date of birth is [date of birth]"),
        # titled names in any case; ordinary words after a title stay
        ("dr smith explained", "dr [name] explained"),
        ("nurse jane smith helped", "nurse [name] helped"),
        ("MRS PATEL came", "MRS [name] came"),
        (
            "the doctor was kind and the nurse listened",
            "the doctor was kind and the nurse listened",
        ),
        ("Sister on the ward helped", "Sister on the ward helped"),
        # ordinary numbers and dates stay
        ("seen on 03/04/2026 after 45 minutes", "seen on 03/04/2026 after 45 minutes"),
        ("bay 4, bed 12, 2 hours", "bay 4, bed 12, 2 hours"),
    ],
)
def test_redaction_covers_the_forms_people_write(text, expected):
    assert redact_comments(pd.Series([text]))[0] == expected


def test_redact_free_text_redacts_only_the_listed_columns():
    from pxlib.disclosure import redact_free_text

    frame = pd.DataFrame(
        {"unit": ["Dr Who Ward"], "change_idea": ["ask Dr Okafor on 07700 900123"]}
    )
    out = redact_free_text(frame, ["change_idea", "prediction"])
    assert out["change_idea"][0] == "ask Dr [name] on [phone]"
    assert out["unit"][0] == "Dr Who Ward" and frame["change_idea"][0].startswith("ask Dr Okafor")
