# gm-eval: two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo

.PHONY: help install demo test test-fast lint format surveys methodology bench clean

help:
	@echo "make demo     create .venv, install, generate demo data, score, render reports"
	@echo "make test     create .venv, install, run ruff and the whole test suite"
	@echo "make surveys  build the XLSForm survey instruments to surveys/build/"
	@echo "make bench    run the benchmarks (prints figures)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gm-eval)" >/dev/null
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gm-eval demo --out $(DEMO_DIR)

lint: $(STAMP)
	$(BIN)/ruff check gm_eval tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

format: $(STAMP)
	$(BIN)/ruff format gm_eval tests benchmarks

surveys: $(STAMP)
	$(BIN)/python -m gm_eval.surveys.build

methodology: $(STAMP)
	$(BIN)/python -m gm_eval.methodology

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO_DIR) .pytest_cache .ruff_cache test-artifacts surveys/build
	find . -name __pycache__ -prune -exec rm -rf {} +
