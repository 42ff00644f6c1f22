"""The scored answers and weighted designs that data objects with equal tables share
(pxlib.workbook.measure_cache): a reused result equals a new computation, is a copy, shows
its warnings again, and tables with other contents are computed afresh."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import SAMPLE_DIR

import pxlib.survey.summaries as summaries
from pxlib.data import load_data_dir
from pxlib.report import kernel_state
from pxlib.workbook import measure_cache, measures


@pytest.fixture()
def builds(monkeypatch):
    """Count the designs actually built."""
    measure_cache.forget_shared()
    calls = []
    real = summaries.build_design

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(summaries, "build_design", counting)
    yield calls
    measure_cache.forget_shared()


def test_a_copy_of_the_same_inputs_reuses_the_designs_and_gets_the_same_shares(builds):
    first, second = load_data_dir(SAMPLE_DIR, "ZA1"), load_data_dir(SAMPLE_DIR, "ZA1")
    expected = measures.weekly_share(first)
    built = len(builds)
    assert built > 0
    reused = measures.weekly_share(second)
    assert len(builds) == built  # nothing weighted again
    pd.testing.assert_frame_equal(reused, expected)
    design_a = measures.measure_design(first, "AE1").weighted.design
    design_b = measures.measure_design(second, "AE1").weighted.design
    assert design_b is not design_a and design_b.data is not design_a.data
    measure_cache.forget_shared()
    cold = measures.weekly_share(load_data_dir(SAMPLE_DIR, "ZA1"))
    assert len(builds) > built
    pd.testing.assert_frame_equal(cold, expected)


def test_other_contents_are_computed_afresh(builds):
    full, fewer = load_data_dir(SAMPLE_DIR, "ZA1"), load_data_dir(SAMPLE_DIR, "ZA1")
    before = measures.weekly_share(full)
    built = len(builds)
    fewer.responses = fewer.responses.iloc[200:].reset_index(drop=True)
    after = measures.weekly_share(fewer)
    assert len(builds) > built
    assert after["n_respondents"].sum() < before["n_respondents"].sum()


def _tables(value: int) -> SimpleNamespace:
    frame = pd.DataFrame({"a": [value, 2, 3]})
    return SimpleNamespace(responses=frame, question_bank=None, margins=None, units=None)


def test_a_reused_result_is_a_copy_and_warns_again():
    measure_cache.forget_shared()

    def compute():
        warnings.warn("three respondents only", UserWarning, stacklevel=1)
        return {"rows": [1, 2, 3]}

    with pytest.warns(UserWarning, match="three respondents"):
        first = measure_cache.remembered(measure_cache.cache_entry(_tables(1)), "k", compute)
    first["rows"].append(4)  # the first user changing its result
    with pytest.warns(UserWarning, match="three respondents"):
        again = measure_cache.remembered(measure_cache.cache_entry(_tables(1)), "k", lambda: 0)
    assert again == {"rows": [1, 2, 3]}
    other = measure_cache.remembered(measure_cache.cache_entry(_tables(9)), "k", lambda: "new")
    assert other == "new"
    measure_cache.forget_shared()


def test_the_kernel_forgets_the_shared_results_with_the_loaded_inputs():
    measure_cache.remembered(measure_cache.cache_entry(_tables(5)), "k", lambda: 1)
    assert measure_cache._SHARED
    kernel_state.forget_loaded()
    assert not measure_cache._SHARED


def _catchment_only():
    data = load_data_dir(SAMPLE_DIR, "ZA1")
    data.margins = data.margins[data.margins["describes"] == "catchment"].reset_index(drop=True)
    return data


def test_catchment_margins_are_named_once_for_each_copy_of_the_inputs():
    measure_cache.forget_shared()
    for data in (_catchment_only(), _catchment_only()):  # the second reuses the first's shares
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            measures.weekly_share(data)
            measures.measure_design(data, "AE1")
            measures.weekly_share(data)
        said = [w for w in caught if "describe the catchment population" in str(w.message)]
        assert len(said) == 1
    measure_cache.forget_shared()
