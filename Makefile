# One command sets up, one runs the demo, one runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test lint demo server clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: setup
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -q tests

lint: setup
	$(BIN)/ruff check src tests examples benchmarks

server: setup
	$(BIN)/cove server

clean:
	rm -rf $(VENV) build src/*.egg-info
