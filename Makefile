PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo playground test bench lint format serve clean mutate

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

# In parallel, two workers per core: an end-to-end test spends about half its time waiting on
# sockets and the database, so one per core leaves the cores half idle (measured in README's
# Tests section). TEST_WORKERS=0 runs it in one process, for a debugger.
TEST_WORKERS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Not part of the test suite: figures, not verdicts. BENCH_ARGS=--quick for a short run.
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Mutation testing of the pure core modules (domain/timeparse, metrics, blameless, channel_names,
# text, policy) with their own unit tests; [tool.mutmut] in pyproject.toml says which. Prints each
# module's score: killed (timeouts count) / (mutants - the equivalent ones docs/mutation.md lists).
# Minutes, not hours; MUTATE_WORKERS=1 on a busy machine. Survivors: $(BIN)/mutmut results.
MUTATE_WORKERS ?= 2
mutate: $(STAMP)
	$(BIN)/mutmut run --max-children $(MUTATE_WORKERS)
	@$(BIN)/mutmut results --all true | awk ' \
	  FNR == NR { \
	    if (/^## /) listing = /^## Equivalent mutants/; \
	    while (listing && match($$0, /`incidentbot\.domain\.[^` ]*__mutmut_[0-9]+`/)) { \
	      equivalent[substr($$0, RSTART + 1, RLENGTH - 2)] = 1; $$0 = substr($$0, RSTART + RLENGTH) \
	    } \
	    next \
	  } \
	  { \
	    name = $$1; sub(/:$$/, "", name); status = $$0; sub(/^[^:]*: /, "", status); \
	    split(name, part, "."); module = part[3]; total[module]++; \
	    if (name in equivalent) same[module]++; \
	    else if (status == "killed" || status == "timeout") killed[module]++; \
	  } \
	  END { \
	    printf "%-14s %8s %7s %11s %7s\n", "module", "mutants", "killed", "equivalent", "score"; \
	    for (module in total) { \
	      counted = total[module] - same[module]; \
	      printf "%-14s %8d %7d %11d %6.1f%%\n", module, total[module], killed[module], \
	        same[module], counted ? 100 * killed[module] / counted : 100 \
	    } \
	  }' docs/mutation.md -

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
