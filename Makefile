# `make demo`, `make test` (the fast tests) and `make test-all` (every test, with the
# notebooks, batches and browser). Each sets up .venv if needed (idempotent, fast the
# second time) and then calls a pxlib command or pytest, so conda and Windows users can
# run the same thing without make (see README).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.pxlib-installed
# pip shows the build backend's warnings; setuptools' "Editable installation ... be careful
# with folders in your working directory" box is information about editable installs of a
# flat layout, not a problem: ignore that one message (errors and other warnings still show)
QUIET_EDITABLE := -W "ignore:Editable installation:UserWarning"

.PHONY: demo test test-all setup lint sample bench clean

demo: setup
	$(BIN)/pxlib demo

# the type check, then the unit, reference and property tests: a few minutes
test: setup
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -m "not slow"

# the type check and every test, with those marked slow (notebooks, batches, browser)
test-all: setup
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

# in a git checkout, also register the filter that stores notebooks without outputs and
# the pre-commit hook (.pre-commit-config.yaml: ruff, ruff format, stripped notebooks, mypy)
setup: $(STAMP)
	@$(BIN)/python -m pxlib.workbook.nbtools install-filter
	@if [ -e .git ]; then $(BIN)/pre-commit install --allow-missing-config >/dev/null; fi

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python $(QUIET_EDITABLE) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/pxlib kernel
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

sample: setup
	$(BIN)/pxlib sample --out data/sample

bench: setup
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf build .pytest_cache .ruff_cache
