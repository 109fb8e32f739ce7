# Thor — two commands: `make run` (Thor locally with Azurite and the sandboxes) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: run test lint typecheck bench demo smoke setup clean drill

setup: $(STAMP_PY) $(STAMP_NODE)

$(STAMP_PY): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: setup
	$(PY) -m localdev.run

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff (lint + format), mypy and the layer contracts of pyproject.toml: a lint finding, a type error
# or a crossed layer fails the build.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# mypy alone (also part of `make lint`).
typecheck: setup
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m bench.run

# The scale-out drill (localdev/drill.py): per seed, a fault-free run and a faulted one of 3 runners
# on one Azurite; prints the table, exits non-zero on any violation. SEEDS: a range or a list (1-10, 3,5).
SEEDS ?= 1-10
drill: setup
	$(PY) -m localdev.drill --seeds $(SEEDS) $(DRILL_ARGS)

demo: setup
	$(PY) -m localdev.demo $(DEMO_ARGS)

# ENV=test|prod picks the environment's base URL; THOR_BASE_URL overrides it (docs/deploy.md).
smoke: setup
	$(PY) -m localdev.smoke $(if $(ENV),--env $(ENV))

clean:
	rm -rf $(VENV) node_modules .azurite .pytest_cache .hypothesis
