PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo playground test bench lint format serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/incidentbot demo

# Prints the page's URL and runs until Ctrl-C. PLAYGROUND_ARGS=--reset for a new drill.
playground: $(STAMP)
	$(BIN)/incidentbot playground $(PLAYGROUND_ARGS)

# In parallel, a worker per core (TEST_WORKERS=0 runs it in one process, for a debugger).
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Not part of the test suite: figures, not verdicts. BENCH_ARGS=--quick for a short run.
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# mypy checks the package as [tool.mypy] in pyproject.toml says: strict for domain and infra.
lint: $(STAMP)
	$(BIN)/ruff check incidentbot tests migrations benchmarks
	$(BIN)/ruff format --check incidentbot tests migrations benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format incidentbot tests migrations benchmarks
	$(BIN)/ruff check --fix incidentbot tests migrations benchmarks

clean:
	rm -rf $(VENV) demo .pytest_cache
