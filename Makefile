# The documented commands. `make demo` and `make test` each do their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_JS := node_modules/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP_PY) $(STAMP_JS)

$(STAMP_PY): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## demo: generate a synthetic exchange and run the exact margin check on it
demo: setup
	$(BIN)/zkmargin demo

## test: lint, type-check and run the whole suite (node tests included)
test: setup lint
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP_PY)
	$(BIN)/ruff check zkmargin tests benchmarks
	$(BIN)/mypy --strict zkmargin

## bench: the benchmarks recorded in benchmarks/README.md
bench: setup
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_merkle.py

clean:
	rm -rf $(VENV) node_modules demo-out .pytest_cache .mypy_cache .ruff_cache .hypothesis
