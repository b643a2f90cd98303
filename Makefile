# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint typecheck unit bench clean golden docs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/probe demo

lint: setup
	$(BIN)/ruff check probe tests benchmarks
	$(BIN)/ruff format --check probe tests benchmarks

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint typecheck unit

bench: setup
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks burst
	$(BIN)/python -m benchmarks jwt_secrets
	$(BIN)/python -m benchmarks injection_judges

golden: setup
	PROBE_REGEN_GOLDEN=1 $(BIN)/pytest tests/reports -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

docs: setup
	$(BIN)/python -m probe.catalogue README.md
