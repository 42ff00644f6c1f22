"""The conda environment.yml and pyproject.toml stay consistent (checked statically:
no conda channel is reachable here), and constraints.txt pins versions they allow."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import REPO_ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    reqs = [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]
    return {canonicalize_name(r.name): r for r in reqs}


def conda_requirements() -> tuple[dict[str, str], list]:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    specs, pip_section = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section = dep["pip"]
            continue
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep).groups()
        specs[canonicalize_name(name)] = spec.replace(" ", "")
    return specs, pip_section


def test_environment_yml_has_the_same_packages_and_versions_as_pyproject():
    pyproject = pyproject_requirements()
    conda, pip_section = conda_requirements()
    assert conda.pop("python").startswith("=3.11")
    conda.pop("pip")
    assert set(conda) == set(pyproject), (
        f"only in environment.yml: {set(conda) - set(pyproject)}; only in pyproject: {set(pyproject) - set(conda)}"
    )
    for name, req in pyproject.items():
        assert conda[name] == str(req.specifier), f"{name}: {conda[name]} vs {req.specifier}"
    assert "-e ." in pip_section  # pxlib itself installed from the repo


def test_constraints_pin_versions_that_pyproject_allows():
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for name, req in pyproject_requirements().items():
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name]), (
            f"{name}=={pins[name]} is outside {req.specifier}"
        )


def test_make_test_is_the_fast_split_and_ci_runs_everything():
    """`make test` leaves out the tests marked slow; `make test-all` and CI run them."""
    import conftest

    makefile = (REPO_ROOT / "Makefile").read_text()
    recipes = {
        target: body.split("\n\t")
        for target, body in re.findall(r"^([a-z-]+): setup\n\t((?:.+)(?:\n\t.+)*)", makefile, re.M)
    }
    assert recipes["test"] == ["$(BIN)/python -m mypy", '$(BIN)/python -m pytest -m "not slow"']
    assert recipes["test-all"] == ["$(BIN)/python -m mypy", "$(BIN)/python -m pytest"]
    assert re.search(r"^make test-all$", (REPO_ROOT / ".ci" / "run").read_text(), flags=re.M)
    options = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    assert any(m.startswith("slow:") for m in options["ini_options"]["markers"])
    # a renamed file or test must not slip into the fast run unnoticed
    files = {path.name: path for path in (REPO_ROOT / "tests").rglob("test_*.py")}
    for name in conftest.SLOW_FILES:
        assert name in files, f"tests/**/{name} (a slow file) is gone"
    for node in conftest.SLOW_TESTS:
        file, test = node.split("::")
        source = files[file].read_text()
        assert f"def {test}(" in source, f"{node} (a slow test) is gone"


#: what only slow tests do: start a kernel, a batch of reports or a browser
SLOW_CALLS = ("execute_notebook(", "NotebookClient(", "run_batch(", ".launch(")


def test_tests_that_start_kernels_batches_or_a_browser_are_marked_slow():
    import conftest

    for path in sorted((REPO_ROOT / "tests").rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        calls = [c for c in SLOW_CALLS if c in source]
        if not calls or path.name in conftest.SLOW_FILES or "mark.slow" in source:
            continue
        assert any(t.startswith(f"{path.name}::") for t in conftest.SLOW_TESTS), (
            f"{path.relative_to(REPO_ROOT)} calls {', '.join(calls)}: add it to SLOW_FILES (or its slow "
            "tests to SLOW_TESTS) in tests/conftest.py, or mark them slow"
        )
