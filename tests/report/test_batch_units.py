"""pxlib.report pieces that need no kernel: parameters, notebook and organisation
selection, staging, results files, HTML export sanitising, the index page."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import TESTS_DIR

from pxlib.errors import BatchError, ParameterError
from pxlib.report import (
    add_batch_arguments,
    external_loads,
    record_results,
    run_batch_from_args,
    select_notebooks,
    validate_parameters,
)
from pxlib.report.batch_setup import parse_param_pairs, select_organisations
from pxlib.report.export import ReportExporter, prepare_for_export, strip_plotlyjs
from pxlib.report.index import SUPPRESS_BELOW, render_index
from pxlib.report.isolation import plan_staging, stage_organisations
from pxlib.report.results import RecordResultsError, json_safe, read_results
from pxlib.report.runner import _is_kernel_failure, clean_error, notebook_imports

FIXTURES = TESTS_DIR / "notebooks_fixtures"

DECLARED = {
    "trust_code": {"name": "trust_code", "inferred_type_name": "str", "default": '"ZZ1"'},
    "data_dir": {"name": "data_dir", "inferred_type_name": "str", "default": '"."'},
    "output_dir": {"name": "output_dir", "inferred_type_name": "str", "default": '"."'},
    "interactive": {"name": "interactive", "inferred_type_name": "bool", "default": "True"},
}


def _declared(**extra):
    return {**DECLARED, **{k: {"name": k, **v} for k, v in extra.items()}}


# --- parameters ------------------------------------------------------------------------


def test_text_parameters_are_converted_to_the_declared_type_and_codes_stay_text():
    declared = {
        "03_measure": _declared(
            n_weeks={"inferred_type_name": "int", "default": "4"},
            site={"inferred_type_name": "str", "default": '"x"'},
            alpha={"inferred_type_name": "float", "default": "0.05"},
            show={"inferred_type_name": "bool", "default": "False"},
            units={"inferred_type_name": "list[str]", "default": "[]"},
            untyped={"inferred_type_name": "None", "default": '"abc"'},
        ),
        "04_other": _declared(n_weeks={"inferred_type_name": "int", "default": "4"}),
    }
    params = {
        "n_weeks": "12",
        "site": "010",
        "alpha": "0.1",
        "show": "yes",
        "units": "[Ash Ward, Elm]",
        "untyped": "007",
    }
    typed = validate_parameters(params, declared, from_text=params)
    assert typed["03_measure"] == {
        "n_weeks": 12,
        "site": "010",
        "alpha": 0.1,
        "show": True,
        "units": ["Ash Ward", "Elm"],
        "untyped": "007",
    }
    # a notebook gets only the parameters it declares
    assert typed["04_other"] == {"n_weeks": 12}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_wekes": "3"}, "unknown parameter 'n_wekes'"),
        ({"n_weeks": "three"}, "expects a whole number"),
        ({"trust_code": "ZZ1"}, "the batch sets them"),
        ({"data_dir": "/elsewhere"}, "the batch sets them"),
    ],
)
def test_bad_parameters_are_refused_with_a_readable_message(params, message):
    declared = {"03": _declared(n_weeks={"inferred_type_name": "int", "default": "4"})}
    with pytest.raises(ParameterError, match=message):
        validate_parameters(params, declared, from_text=params)


def test_config_values_must_already_have_the_declared_type():
    declared = {"03": _declared(site={"inferred_type_name": "str", "default": '"a"'})}
    # YAML reads an unquoted 010 as a number: refused rather than silently changed
    with pytest.raises(ParameterError, match="quote text values"):
        validate_parameters({"site": 8}, declared)
    assert validate_parameters({"site": "010"}, declared) == {"03": {"site": "010"}}


def test_a_notebook_without_the_batch_parameters_is_refused():
    declared = {"03": {k: v for k, v in DECLARED.items() if k != "interactive"}}
    with pytest.raises(ParameterError, match="interactive"):
        validate_parameters({}, declared)


def test_param_pairs():
    assert parse_param_pairs(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError):
        parse_param_pairs(["novalue"])


# --- notebooks and organisations ------------------------------------------------------


def test_default_notebooks_exclude_the_workshop(tmp_path):
    for name in ["01_define", "02_baseline", "03_measure", "04_spread", "05_workshop", "00_intro"]:
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / f"{name}.ipynb")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    assert [p.stem for p in select_notebooks(tmp_path)] == [
        "01_define",
        "02_baseline",
        "03_measure",
        "04_spread",
    ]
    assert [p.stem for p in select_notebooks(tmp_path, ["04", "03"])] == ["03_measure", "04_spread"]
    with pytest.raises(BatchError, match="starts with '07'"):
        select_notebooks(tmp_path, ["07"])


def test_all_means_trusts_and_other_providers_and_unknown_codes_are_reasons_not_crashes():
    orgs = pd.DataFrame(
        {
            "org_code": ["ZA1", "010", "ZB9", "Z80001", "ZQ1"],
            "org_type": ["trust", "trust", "other_provider", "gp_practice", "icb"],
        }
    )
    assert select_organisations(orgs, "all") == (["ZA1", "010", "ZB9"], {})
    codes, refused = select_organisations(orgs, ["010", "NOPE", "Z80001"])
    assert codes == ["010"]
    assert "not in organisations.csv" in refused["NOPE"]
    assert "gp_practice" in refused["Z80001"]
    _, refused = select_organisations(orgs, ["../ZA1", "ZA1/x", ".", "a b"])
    assert all("cannot name a report folder" in why for why in refused.values())
    assert len(refused) == 4


# --- staging --------------------------------------------------------------------------


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_staging_keeps_only_the_organisations_rows_with_values_unchanged(tmp_path):
    data, stage = tmp_path / "data", tmp_path / "stage"
    data.mkdir()
    header = ["org_code", "unit", "answer", "comment"]
    rows = [
        ["ZA1", "Ash", "Always", "NA"],
        ["010", "Elm", "", "null"],
        ["ZA1", "Oak", "0012", ""],
        ["ZB2", "Fir", "Never", "secret of ZB2"],
    ]
    _write_csv(data / "responses.csv", [header, *rows])
    _write_csv(data / "units.csv", [["org_code", "unit"], ["ZA1", "Ash"], ["010", "Elm"]])
    _write_csv(data / "organisations.csv", [["org_code", "org_type"], ["ZA1", "trust"]])
    _write_csv(data / "extra_records.csv", [["org_code", "x"], ["ZA1", "1"], ["010", "2"]])
    _write_csv(data / "stray.csv", [["who", "x"], ["ZB2", "3"]])
    (data / "README.md").write_text("sample\n")

    plan = plan_staging(data)
    assert sorted(plan.filtered) == ["extra_records.csv", "responses.csv", "units.csv"]
    assert sorted(plan.copied) == ["README.md", "organisations.csv"]
    assert plan.skipped == ["stray.csv"]

    hashes = stage_organisations(data, stage, ["ZA1", "010", "ZC3"], plan)
    with open(stage / "ZA1" / "responses.csv", newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    assert got == [header, rows[0], rows[2]]  # "NA", "" and "0012" unchanged
    with open(stage / "010" / "responses.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [header, rows[1]]
    # an organisation without rows gets the header only
    with open(stage / "ZC3" / "responses.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [header]
    assert not (stage / "ZA1" / "stray.csv").exists()
    assert (stage / "ZA1" / "README.md").read_text() == "sample\n"
    assert "secret of ZB2" not in "".join(p.read_text() for p in stage.rglob("*.csv"))
    expected = hashlib.sha256((data / "organisations.csv").read_bytes()).hexdigest()
    assert hashes["ZA1"]["organisations.csv"] == expected
    assert set(hashes["ZA1"]) == {
        "responses.csv",
        "units.csv",
        "organisations.csv",
        "extra_records.csv",
        "README.md",
    }


def test_a_record_file_without_org_code_is_a_setup_error(tmp_path):
    _write_csv(tmp_path / "responses.csv", [["trust", "x"], ["ZA1", "1"]])
    with pytest.raises(BatchError, match="org_code"):
        plan_staging(tmp_path)


# --- results files ---------------------------------------------------------------------


def test_record_results_writes_numpy_and_pandas_values_as_plain_json(tmp_path):
    path = record_results(
        tmp_path / "out",
        "03_measure.ipynb",
        [
            {
                "unit": np.str_("Ash Ward"),
                "latest_value": np.float64(0.875),
                "n": np.int64(42),
                "signal": np.bool_(True),
                "missing": np.nan,
                "na": pd.NA,
                "week": pd.Timestamp("2026-01-05"),
                "period": pd.Period("2026-01", "M"),
                "limits": np.array([0.5, 1.0]),
            },
            {"unit": "Elm", "latest_value": float("inf")},
        ],
    )
    assert path == tmp_path / "out" / "03_measure.results.json"
    raw = json.loads(path.read_text())  # strict JSON: no NaN / Infinity tokens
    assert raw["notebook"] == "03_measure"
    first = raw["results"][0]
    assert first == {
        "unit": "Ash Ward",
        "latest_value": 0.875,
        "n": 42,
        "signal": True,
        "missing": None,
        "na": None,
        "week": "2026-01-05T00:00:00",
        "period": "2026-01",
        "limits": [0.5, 1.0],
    }
    assert type(first["n"]) is int
    assert raw["results"][1]["latest_value"] is None
    assert read_results(path)["results"] == raw["results"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_record_results_refuses_tables_and_other_objects(tmp_path):
    with pytest.raises(RecordResultsError):
        record_results(tmp_path, "03", pd.DataFrame({"a": [1]}))
    with pytest.raises(RecordResultsError):
        record_results(tmp_path, "03", {"table": object()})
    assert json_safe({1: (np.int32(3),)}) == {"1": [3]}


# --- export ------------------------------------------------------------------------------


def _nb_with_outputs():
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell(
        "# Title\n\n![logo](https://example.org/logo.png)\n\n[a link](https://www.england.nhs.uk/)"
    )
    code = nbformat.v4.new_code_cell("secret_code_text = 1")
    fig = {
        "data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "name": "</script><b>"}],
        "layout": {},
    }
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            {
                "text/html": "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
                + "<script>/** plotly.js v9 */</script>"
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            {
                "application/vnd.plotly.v1+json": fig,
                "text/html": '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3/tex.js"></script>',
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "widget"},
        ),
        nbformat.v4.new_output("stream", name="stdout", text="hello"),
    ]
    nb.cells = [md, code]
    return nb


def test_export_hides_code_keeps_figures_and_loads_nothing_from_a_network():
    nb = _nb_with_outputs()
    page = ReportExporter().export(nb, title="t", plotlyjs_src="../plotly.min.js")
    assert "secret_code_text" not in page
    assert external_loads(page) == []
    assert "require.js" not in page.lower() and "mathjax" not in page.lower()
    assert page.count("Plotly.newPlot(") == 1
    # figure JSON cannot close the script element it sits in
    assert "</script><b>" not in page
    assert '<script type="text/javascript" src="../plotly.min.js"' in page
    assert "https://www.england.nhs.uk/" in page  # a link to follow, not a load
    assert "hello" in page
    assert "plotly.js v9" not in page
    # the input notebook is unchanged
    assert len(nb.cells[1].outputs) == 4


def test_strip_plotlyjs_keeps_figures():
    nb = strip_plotlyjs(_nb_with_outputs())
    kinds = [list(o.get("data", {})) for o in nb.cells[1].outputs]
    assert kinds[0] == ["application/vnd.plotly.v1+json", "text/html"]
    assert len(kinds) == 3
    ready = prepare_for_export(_nb_with_outputs()).cells[1].outputs
    # the plotly.js bundle goes; the figure becomes HTML; a widget keeps only its text
    assert [list(o.get("data", {"stream": 1})) for o in ready] == [
        ["text/html"],
        ["text/plain"],
        ["stream"],
    ]


def test_external_loads_finds_what_a_browser_would_fetch():
    assert external_loads('<img src="http://x/y.png">')
    assert external_loads("<script src='//cdn.example/x.js'></script>")
    assert external_loads('<link rel="stylesheet" href="https://x/y.css">')
    assert external_loads("<style>@import url(https://x/y.css);</style>")
    assert not external_loads('<a href="https://x/">x</a><script src="../plotly.min.js"></script>')


# --- index and errors -------------------------------------------------------------------


def test_index_escapes_suppresses_and_shows_unknown_keys(tmp_path):
    (tmp_path / "ZA1").mkdir()
    (tmp_path / "ZA1" / "03.html").write_text("<html></html>")
    record_results(
        tmp_path / "ZA1",
        "03",
        [
            {
                "unit": "Ash",
                "latest_value": 0.91,
                "n": 40,
                "verdict": "improving",
                "variation_type": "special_cause_improvement",
                "custom": "x<y",
            },
            {"unit": "Birch", "latest_value": 0.5, "n": SUPPRESS_BELOW - 1, "verdict": "small"},
        ],
    )
    results = pd.DataFrame(
        {
            "trust_code": ["ZA1", "ZB<2>"],
            "notebook": ["03", "03"],
            "status": ["ok", "failed"],
            "seconds": [1.0, 0.5],
            "error": ["", "cell 3: KeyError: '<script>alert(1)</script>'"],
        }
    )
    orgs = pd.DataFrame(
        {"org_code": ["ZA1"], "org_name": ["Ash & <Elm> Trust"], "org_type": ["trust"]}
    )
    page = render_index(tmp_path, results, orgs, ["03"], {"pxlib_version": "9.9"})
    # the error's script is text; the page's one script is its own sorting code
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "alert(1)</script>" not in page
    assert page.count("<script") == 1 and "<script>(function(){" in page.replace("\n", "")
    assert "Ash &amp; &lt;Elm&gt; Trust" in page
    assert "ZB&lt;2&gt;" in page
    assert 'href="ZA1/03.html' in page
    assert "0.91" in page and "improvement" in page
    assert "<dt>Custom</dt><dd>x&lt;y</dd>" in page  # an unknown key, named in words
    birch = page.split("Birch", 1)[1].split("</tr>", 1)[0]
    assert "0.5" not in birch and "not shown" in birch  # suppressed value
    assert external_loads(page) == []


def test_clean_error_strips_colour_and_truncates():
    text = "\x1b[0;31mValueError\x1b[0m: bad\n   value " + "x" * 1000
    out = clean_error(text)
    assert out.startswith("ValueError: bad value x")
    assert len(out) == 300 and out.endswith("…") and "\x1b" not in out


def test_error_text_has_personal_details_redacted():
    out = clean_error("KeyError: call 07700 900461 or jo.patient@example.com (Nurse Okonjo)")
    assert out == "KeyError: call [phone] or [email] (Nurse [name])"


def test_kernel_failures_are_told_from_cell_errors():
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    assert _is_kernel_failure(DeadKernelError("dead"))
    assert _is_kernel_failure(RuntimeError("Kernel died before replying to kernel_info"))
    assert _is_kernel_failure(RuntimeError("Address already in use (addr='tcp://127.0.0.1:5555')"))
    assert not _is_kernel_failure(
        PapermillExecutionError(1, 2, "raise ValueError", "ValueError", "x", [])
    )
    assert not _is_kernel_failure(CellTimeoutError("slow"))
    assert not _is_kernel_failure(ValueError("data"))


def test_notebook_imports_are_read_from_code_cells():
    mods = notebook_imports(sorted(FIXTURES.glob("0[12]_*.ipynb")), base=())
    assert {
        "pandas",
        "plotly.graph_objects",
        "plotly.express",
        "pxlib.report",
        "pxlib.errors",
    } <= set(mods)
    assert "nbformat" in mods  # plotly renderers import it: warmed too
    # pxlib notebooks: what the workbook imports inside functions is warmed too
    assert {"pxlib.survey.casemix", "openpyxl"} <= set(mods)
    assert "pxlib.survey.casemix" not in notebook_imports([], base=("pandas", "plotly.io"))
    assert not math.isnan(len(mods))


# --- command line: set-up errors exit 2 before anything runs -------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_setup_errors_exit_2_and_write_nothing(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    _write_csv(data / "organisations.csv", [["org_code", "org_type"], ["ZA1", "trust"]])
    _write_csv(data / "responses.csv", [["org_code", "x"], ["ZA1", "1"]])
    out = tmp_path / "out"
    common = ["--data", str(data), "--out", str(out), "--notebooks-dir", str(FIXTURES)]
    assert run_batch_from_args(_args("--out", str(out))) == 2
    assert run_batch_from_args(_args(*common, "--param", "n_wekes=2")) == 2
    assert "n_wekes" in capsys.readouterr().err
    assert run_batch_from_args(_args(*common, "--param", "n_weeks=two")) == 2
    assert run_batch_from_args(_args(*common, "--notebooks", "09")) == 2
    assert run_batch_from_args(_args(*common, "--kernel", "no-such-kernel-xyz")) == 2
    assert "ipykernel install" in capsys.readouterr().err
    assert (
        run_batch_from_args(
            _args(*common[:2], "--out", str(out), "--notebooks-dir", str(tmp_path / "none"))
        )
        == 2
    )
    config = tmp_path / "batch.yaml"
    config.write_text("data: data\nout: out\nworkerz: 2\n")
    assert run_batch_from_args(_args("--config", str(config))) == 2
    assert "workerz" in capsys.readouterr().err
    assert not out.exists()


def test_config_file_paths_are_relative_to_it_and_keys_are_checked(tmp_path):
    from pxlib.report.batch_setup import load_config

    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "batch.yaml"
    config.write_text(
        "data: ../data\nout: ../out\ntrusts: ZA1\nnotebooks: ['03']\nworkers: 2\n"
        "params:\n  site: '010'\n  n_weeks: 12\n"
    )
    got = load_config(config)
    assert got["data"] == str((tmp_path / "data").resolve())
    assert got["out"] == str((tmp_path / "out").resolve())
    assert got["trusts"] == ["ZA1"] and got["notebooks"] == ["03"] and got["workers"] == 2
    assert got["params"] == {"site": "010", "n_weeks": 12}
    config.write_text("params: [1, 2]\n")
    with pytest.raises(BatchError, match="params"):
        load_config(config)


def test_every_command_line_option_is_a_config_key():
    """batch.yaml takes any option ("any option as a key"): --fresh-kernels was refused."""
    import argparse

    from pxlib.report.batch_cli import add_batch_arguments
    from pxlib.report.batch_setup import CONFIG_KEYS

    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    options = {a.dest for a in parser._actions if a.dest not in ("help", "config", "no_progress")}
    options = {{"param": "params"}.get(o, o) for o in options}
    assert options <= CONFIG_KEYS, options - CONFIG_KEYS


def test_a_kernel_from_another_environment_is_warned_about(tmp_path, monkeypatch):
    from pxlib.errors import PxlibWarning
    from pxlib.report.batch_setup import _check_kernel

    spec = tmp_path / "kernels" / "pxlib-elsewhere"
    spec.mkdir(parents=True)
    other = tmp_path / "other-env" / "bin" / "python"
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(other), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "x",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    with pytest.warns(PxlibWarning, match="not this environment's Python"):
        _check_kernel("pxlib-elsewhere")


def test_reports_are_written_with_ordinary_file_permissions(tmp_path):
    import os
    import stat

    from pxlib.report import record_results

    path = record_results(tmp_path, "03_test", {"unit": "A", "n": 12})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_half_written_files_of_a_killed_run_are_removed_before_the_next(tmp_path):
    from pxlib.report.batch_guard import _remove_partial_writes

    (tmp_path / "ZA1").mkdir()
    leftovers = [tmp_path / ".results.csv.ab12.tmp", tmp_path / "ZA1" / ".03_test.html.x9.tmp"]
    finished = [tmp_path / "results.csv", tmp_path / "ZA1" / "03_test.html"]
    for path in leftovers + finished:
        path.write_text("x")
    _remove_partial_writes(tmp_path)
    assert [p.exists() for p in leftovers] == [False, False]
    assert [p.exists() for p in finished] == [True, True]


def test_index_links_the_storyboards_and_forms_that_exist(tmp_path):
    from pxlib.report.results import organisation_file, unit_file

    (tmp_path / "ZA1").mkdir()
    (tmp_path / "ZA1" / "03.html").write_text("<html></html>")
    record_results(tmp_path / "ZA1", "03", [{"unit": "Ash", "latest_value": 0.9, "n": 40}])
    for what in ("storyboard", "easy-read-form"):
        unit_file(tmp_path / "ZA1", "ZA1", "Ash", what).write_text("<html></html>")
    results = pd.DataFrame(
        {
            "trust_code": ["ZA1"],
            "notebook": ["03"],
            "status": ["ok"],
            "seconds": [1.0],
            "error": [""],
        }  # fmt: skip
    )
    orgs = pd.DataFrame({"org_code": ["ZA1"], "org_name": ["Ash Trust"], "org_type": ["trust"]})
    page = render_index(tmp_path, results, orgs, ["03"], {"pxlib_version": "9.9"})
    ash = page.split("Ash</", 1)[1].split("</tr>", 1)[0]
    assert 'href="ZA1/ZA1_ash_storyboard.html">storyboard</a>' in ash
    assert 'href="ZA1/ZA1_ash_easy-read-form.html">easy read</a>' in ash
    assert "one-page-plan" not in ash  # not written, so not linked
    assert "not made" in page  # no organisation storyboard yet
    organisation_file(tmp_path / "ZA1", "ZA1", "storyboard").write_text("<html></html>")
    page = render_index(tmp_path, results, orgs, ["03"], {"pxlib_version": "9.9"})
    assert 'href="ZA1/ZA1_storyboard.html">open</a>' in page
