# The commands of the README:
#   make run    install, migrate, add demo data, run web + worker + router
#   make test   install, then run the whole test suite
#   make lint   ruff (lint and format check) on the whole tree, mypy on the core
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INI ?= development.ini
# Two workers fit the 2-core machines the suite is planned for.
PYTEST_WORKERS ?= 2

.PHONY: install run test lint bench vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=70.1,<82' wheel

# Reinstalled when the distribution's metadata changes (dependencies, entry points).
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[all,test]'
	touch $@

install: $(VENV)/.installed
	$(BIN)/pyramidion router install

run: install
	$(BIN)/pyramidion run $(INI) --demo-data

test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The installed tools only (ruff, mypy: the test extra); no router, no database.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

# Refresh the console's vendored browser assets from npm (versions in core/console/vendor.py).
vendor: | $(BIN)/python
	$(BIN)/python -m pyramidion.console.vendor
