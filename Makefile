# Two commands do all set-up on a fresh machine:
#   make run   — install, create an SQLite database with demo data and logins, start web UI + scheduler
#   make test  — install (with test tools, PostgreSQL and Chromium) and run every test and feature file
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
export FANGPIN_CLOCK ?= demo

.PHONY: run test install lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json tools/build-vendor
	npm ci --no-audit --no-fund --silent
	bash tools/build-vendor
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	$(BIN)/fangpin init --demo
	$(BIN)/fangpin run

test: install
	bash tools/ensure-system-packages
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n auto --maxschedchunk 1 --durations=15

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Engine and timer benchmarks against their targets (BENCH_QUICK=1 make bench: a smaller run, under a minute)
bench: install
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
