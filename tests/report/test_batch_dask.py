"""``pxlib batch --scheduler``: the same jobs on a local dask.distributed cluster
give the same outputs as the process pool."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from batch_helpers import CANARY, FIXTURES, make_data

from pxlib.errors import BatchError
from pxlib.report import external_loads, run_batch

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is optional (pip install 'pxlib[batch-dask]')"
)

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def _results(out, code, nb):
    data = json.loads((out / code / f"{nb}.results.json").read_text())
    return data["results"]


def test_dask_cluster_runs_the_same_jobs_with_the_same_outputs(tmp_path):
    data = make_data(tmp_path / "data")
    out = tmp_path / "dask"
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        frame = run_batch(
            data,
            out,
            trusts=["ZZ1", "ZZ3"],
            notebooks=["02"],
            notebooks_dir=FIXTURES,
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    on_disk = pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)
    assert on_disk[["trust_code", "notebook", "status"]].values.tolist() == [
        ["ZZ1", "02_fixture_check", "ok"],
        ["ZZ3", "02_fixture_check", "failed"],
    ]
    assert (
        frame["error"]
        .tolist()[1]
        .startswith("cell 4: DataValidationError: responses.csv column score")
    )
    # ZZ1's 15 answers: unit A scores 3,4,5 repeated four times, unit B 4,4,4 -> mean 4.0
    assert _results(out, "ZZ1", "02_fixture_check") == [
        {"unit": "all", "latest_value": 4.0, "n": 15, "verdict": "in range", "units_seen": 2}
    ]
    page = (out / "ZZ1" / "02_fixture_check.html").read_text(encoding="utf-8")
    assert external_loads(page) == [] and page.count("Plotly.newPlot(") == 1
    assert "How this report was made" in page
    assert 'href="ZZ1/02_fixture_check.html"' in (out / "index.html").read_text(encoding="utf-8")
    assert CANARY not in (out / "index.html").read_text(encoding="utf-8")


def test_dask_workers_with_several_threads_are_refused(tmp_path):
    data = make_data(tmp_path / "data")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        with pytest.raises(BatchError, match="one thread each"):
            run_batch(
                data,
                tmp_path / "out",
                trusts=["ZZ1"],
                notebooks=["01"],
                notebooks_dir=FIXTURES,
                scheduler=cluster.scheduler_address,
                progress=False,
            )
