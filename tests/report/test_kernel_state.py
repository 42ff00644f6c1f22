"""The validated inputs that one kernel's reports of ONE organisation share
(pxlib.report.kernel_state.memoise_loading): a second load of the same folder is a copy
of the first, a changed file is read again, and loading another folder forgets the first
one's records."""

from __future__ import annotations

import shutil

import pytest
from conftest import SAMPLE_DIR

import pxlib.data
from pxlib.report import kernel_state


@pytest.fixture()
def memo(monkeypatch):
    monkeypatch.setattr(pxlib.data, "load_data_dir", pxlib.data.load_data_dir)
    kernel_state.forget_loaded()
    kernel_state.memoise_loading()
    yield pxlib.data.load_data_dir
    kernel_state.forget_loaded()


def _copy(tmp_path, name):
    folder = tmp_path / name
    shutil.copytree(SAMPLE_DIR, folder, ignore=shutil.ignore_patterns("national"))
    return folder


def test_a_second_load_is_a_copy_and_another_folder_forgets_the_first(memo, tmp_path):
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    first = memo(a, "ZA1")
    again = memo(a, "ZA1")
    assert again is not first and again.responses is not first.responses
    assert again.responses.equals(first.responses)
    again.responses.loc[:, "answer"] = "changed"  # a report changing its copy
    assert memo(a, "ZA1").responses["answer"].equals(first.responses["answer"])
    memo(b, "ZA3")
    assert all(key[0] == str(b.resolve()) for key in kernel_state._LOADED)
    assert len(kernel_state._LOADED) == 1


def test_a_changed_file_is_read_again(memo, tmp_path):
    a = _copy(tmp_path, "a")
    before = memo(a, "ZA1")
    responses = a / "responses.csv"
    lines = responses.read_text(encoding="utf-8").splitlines(keepends=True)
    responses.write_text("".join(lines[:1] + lines[41:]), encoding="utf-8")  # 40 of ZA1's
    after = memo(a, "ZA1")
    assert len(after.responses) == len(before.responses) - 40


def test_a_report_kernel_keeps_only_each_figures_json(monkeypatch):
    # the batch draws every page from the figure's JSON (pxlib.report.export): an HTML
    # copy of each figure, and plotly.js embedded once, were made, sent and thrown away
    import plotly.graph_objects as go
    import plotly.io as pio

    from pxlib.spc import theme

    monkeypatch.setattr(theme, "_DEFAULT_RENDERER", [theme.OFFLINE_RENDERER])
    monkeypatch.setattr(pio.renderers, "default", pio.renderers.default)
    figure = go.Figure(go.Scatter(x=[1, 2], y=[3, 4])).to_dict()
    assert theme.use_offline_renderer() == theme.OFFLINE_RENDERER  # JupyterLab: both
    assert "text/html" in pio.renderers._build_mime_bundle(figure)
    kernel_state.prepare(memo=False)  # as a batch kernel starts
    assert theme.use_offline_renderer() == "plotly_mimetype"
    assert set(pio.renderers._build_mime_bundle(figure)) == {"application/vnd.plotly.v1+json"}


def test_a_report_kernel_blocks_the_slow_module_before_it_imports_anything():
    # prepare imports pxlib.spc.theme (for the renderer), which imports jsonschema through
    # nbformat: the block must come first or the kernel pays for rfc3987_syntax (about a
    # second) anyway
    import subprocess
    import sys

    code = (
        "import sys, pxlib.report.kernel_state as ks;"
        "from pxlib.report.kernels import KERNEL_BLOCKED_MODULES as b;"
        "ks.prepare(b, ['plotly.io', 'nbformat'], memo=False);"
        "print([sys.modules.get(m, 'absent') is None for m in b])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[True]"
