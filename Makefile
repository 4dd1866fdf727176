# The documented commands. `make demo` and `make test` each do their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_JS := node_modules/.installed
# Debian packages for circom's C++ witness generator (make in a circuit's main_cpp/).
# Without them zkmargin falls back to the WASM witness calculator.
NATIVE_PKGS := g++ make nasm libgmp-dev nlohmann-json3-dev
STAMP_NATIVE := .cache/native-deps.installed
# Debian's Chromium: tests/test_web.py drives /usr/bin/chromium headless with playwright.
BROWSER_PKGS := chromium
STAMP_BROWSER := .cache/browser-deps.installed
# The account holders' page: one script bundled by the pinned esbuild (package-lock.json).
WEB_BUNDLE := verifier/web/dist/zkmargin-verify.js

.PHONY: setup demo test lint bench clean

setup: $(STAMP_PY) $(STAMP_JS) $(STAMP_NATIVE) $(STAMP_BROWSER) $(WEB_BUNDLE)

# setup.py builds the C Poseidon (zkmargin/poseidon/_fast.c) and the builtin Groth16 prover
# (zkmargin/prover/_groth16.c) into the editable install: an edit of a C source
# reinstalls, so a module never runs stale.
$(STAMP_PY): pyproject.toml requirements.lock setup.py zkmargin/poseidon/_fast.c \
		zkmargin/prover/_groth16.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,native]'
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Installs the missing packages when root; otherwise (or if apt fails) says so in one line
# and goes on without a stamp, so a later run as root still installs them.
$(STAMP_NATIVE):
	@missing=""; for p in $(NATIVE_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then mkdir -p $(@D) && touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "apt-get install$$missing (C++ witness generator)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get install -y -qq --no-install-recommends $$missing || \
	    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; }; } \
	  && mkdir -p $(@D) && touch $@ \
	  || echo "setup: apt-get install$$missing failed: the C++ witness generator will be skipped and the WASM calculator used"; \
	else echo "setup: not root, missing$$missing: the C++ witness generator will be skipped and the WASM calculator used"; fi

# Same rules as the native packages; without Chromium the browser tests fail, saying so.
$(STAMP_BROWSER):
	@missing=""; for p in $(BROWSER_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then mkdir -p $(@D) && touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "apt-get install$$missing (browser tests of the holders' page)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get install -y -qq --no-install-recommends $$missing || \
	    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; }; } \
	  && mkdir -p $(@D) && touch $@ \
	  || echo "setup: apt-get install$$missing failed: tests/test_web.py will fail"; \
	else echo "setup: not root, missing$$missing: tests/test_web.py will fail"; fi

# Offline: esbuild and the bundled packages come from node_modules (npm ci above).
$(WEB_BUNDLE): $(STAMP_JS) verifier/web/build.mjs verifier/web/index.html $(wildcard verifier/web/src/*.js)
	node verifier/web/build.mjs

## demo: an options exchange end to end: risk arrays of the sample market, a generated book,
## exact check, proofs (INSECURE dev setup), audit, one option holder's inclusion proof
demo: setup
	$(BIN)/zkmargin demo

## test: lint, type-check and run the whole suite (node tests included)
test: setup lint
	$(BIN)/python -m pytest -q -n 2 --durations=25

lint: $(STAMP_PY)
	$(BIN)/ruff check zkmargin tests benchmarks
	$(BIN)/mypy --strict zkmargin tests

## bench: the benchmarks recorded in benchmarks/README.md
bench: setup
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_merkle.py
	$(BIN)/python benchmarks/bench_prove.py

clean:
	rm -rf $(VENV) node_modules demo-out .pytest_cache .mypy_cache .ruff_cache .hypothesis
