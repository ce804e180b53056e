# The two commands of the README's quick start: `make demo` and `make test`.
# Both create .venv with Python 3.11 and install the pinned dependencies (constraints.txt) when they changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo serve test lint bench install

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Generates the demo city (idempotent) and serves it on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/citycommons demo
	$(BIN)/citycommons serve --host $(HOST) --port $(PORT)

serve: $(STAMP)
	$(BIN)/citycommons serve --host $(HOST) --port $(PORT)

## Runs the whole test suite (SQLite and PostgreSQL on 127.0.0.1:5432, browser tests in Debian's chromium)
test: $(STAMP)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## Benchmarks (each prints its peers' figures and the ratios; see bench/README.md)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/ledger.py --postgres
	$(BIN)/python bench/datastore.py
