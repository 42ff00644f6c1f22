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
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
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
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req.specifier}"
