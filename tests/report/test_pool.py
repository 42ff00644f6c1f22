"""What a batch worker takes at once (pxlib.report.pool.organisation_chunks): one
organisation's reports, so its kernel reuses that organisation's loaded inputs; every job
exactly once, in order; no worker idle while a chunk could be split."""

from __future__ import annotations

import pytest

from pxlib.report.job import Job
from pxlib.report.pool import organisation_chunks


def _jobs(orgs: dict[str, int], reuse: bool = True) -> list[Job]:
    return [
        Job(code, f"0{i}_nb", f"0{i}_nb.ipynb", "out", {}, reuse_kernel=reuse)
        for code, count in orgs.items()
        for i in range(count)
    ]


def _labels(chunks):
    return [[job.label for job in chunk] for chunk in chunks]


def test_one_chunk_per_organisation_in_order():
    jobs = _jobs({"ZA1": 4, "ZA2": 4, "ZA3": 4})
    chunks = organisation_chunks(jobs, workers=2)
    assert _labels(chunks) == [
        ["ZA1/00_nb", "ZA1/01_nb", "ZA1/02_nb", "ZA1/03_nb"],
        ["ZA2/00_nb", "ZA2/01_nb", "ZA2/02_nb", "ZA2/03_nb"],
        ["ZA3/00_nb", "ZA3/01_nb", "ZA3/02_nb", "ZA3/03_nb"],
    ]


@pytest.mark.parametrize(
    ("orgs", "workers", "sizes"),
    [
        ({"ZA1": 4}, 2, [2, 2]),  # one organisation: both cores busy
        ({"ZA1": 5}, 4, [1, 1, 1, 2]),  # 5 -> 3+2 -> 2+1+2 -> 1+1+1+2 (first largest)
        ({"ZA1": 1, "ZA2": 3}, 3, [1, 2, 1]),
        ({"ZA1": 2}, 8, [1, 1]),  # cannot be split further
    ],
)
def test_too_few_organisations_are_split_for_the_workers(orgs, workers, sizes):
    jobs = _jobs(orgs)
    chunks = organisation_chunks(jobs, workers)
    assert [len(c) for c in chunks] == sizes
    assert [job for chunk in chunks for job in chunk] == jobs  # each once, in order
    assert all(len({job.trust_code for job in chunk}) == 1 for chunk in chunks)


def test_new_kernels_go_one_report_at_a_time():
    jobs = _jobs({"ZA1": 3, "ZA2": 2}, reuse=False)
    assert [len(c) for c in organisation_chunks(jobs, workers=2)] == [1, 1, 1, 1, 1]
