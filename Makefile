PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/incidentbot demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check incidentbot tests migrations
	$(BIN)/ruff format --check incidentbot tests migrations

format: $(STAMP)
	$(BIN)/ruff format incidentbot tests migrations
	$(BIN)/ruff check --fix incidentbot tests migrations

clean:
	rm -rf $(VENV) demo .pytest_cache
