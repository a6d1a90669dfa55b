# The README's two commands: `make demo` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system-deps services lint types contracts test-sqlite test-postgresql clean

demo: setup
	$(BIN)/zerotrip demo

test: setup system-deps services lint types contracts test-sqlite test-postgresql

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	scripts/ensure-chromium

services:
	scripts/ensure-postgresql

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types:
	$(BIN)/mypy

contracts:
	$(BIN)/lint-imports

test-sqlite:
	ZEROTRIP_TEST_DATABASE=sqlite $(BIN)/pytest -p no:cacheprovider

test-postgresql:
	ZEROTRIP_TEST_DATABASE=postgresql $(BIN)/pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
