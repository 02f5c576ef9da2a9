# `make test` sets up a virtualenv and runs the tests; `make check` adds lint, types and the
# import contracts (the rooms of DESIGN.md, in pyproject.toml). CI runs `make check`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install test lint types imports check demo run clean

$(BIN)/monitor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	@touch $@

install: $(BIN)/monitor

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check monitor storage tests bench

types: install
	$(BIN)/mypy --strict monitor storage

imports: install
	$(BIN)/lint-imports

check: lint types imports test

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

run: install
	$(BIN)/monitor run --once --config feeds.toml
	$(BIN)/monitor clusters --config feeds.toml --limit 20

demo: install
	$(BIN)/monitor demo
