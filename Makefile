# Two commands: `make demo` and `make test`. Each sets up .venv if needed (idempotent,
# fast the second time) and then calls a pxlib command, so conda and Windows users can
# run the same thing without make (see README).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.pxlib-installed

.PHONY: demo test setup lint sample bench clean

demo: setup
	$(BIN)/pxlib demo

test: setup
	$(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/pxlib kernel
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check .

sample: setup
	$(BIN)/pxlib sample --out data/sample

bench: setup
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf build .pytest_cache .ruff_cache
