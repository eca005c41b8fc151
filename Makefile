# OneMap: `make demo` sets up everything and serves the demo city; `make test` runs the suite.
# Both install only what is missing and are fast the second time.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
ONEMAP  := $(VENV)/bin/onemap
PYTHON  ?= python3
STAMPS  := .onemap/stamps
SYSTEM_EXTRAS ?=

.PHONY: help demo test setup system db lint typecheck bench clean-db

help:
	@echo "make demo   - install what is missing, start PostGIS, load the demo city, serve the map"
	@echo "make test   - the same set-up, then the whole test suite"
	@echo "make lint   - ruff, mypy and eslint"
	@echo "make bench  - benchmarks on the scaled city (bench/)"

system:
	@bash scripts/install-system.sh $(SYSTEM_EXTRAS)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

db: $(VENV)/.installed
	@$(ONEMAP) db start
	@$(ONEMAP) db migrate

setup: system $(VENV)/.installed node_modules/.installed db

demo: setup
	@$(ONEMAP) demo load
	@$(ONEMAP) demo tokens
	@$(ONEMAP) serve

test: SYSTEM_EXTRAS = chromium gdal
test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	npx eslint .

bench: SYSTEM_EXTRAS = wrk
bench: setup
	$(PY) -m bench.run

clean-db: $(VENV)/.installed
	-@$(ONEMAP) db stop
	rm -rf .onemap/pgdata .onemap/port
