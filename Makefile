# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo dev test test-unit test-integration reliability bench lint typecheck asyncapi openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## the whole stack embedded, one certificate walked through its life
	$(BIN)/giftcert demo

dev: $(STAMP)  ## the whole stack embedded, running until Ctrl-C
	$(BIN)/giftcert dev

# GIFTCERT_TEST_BROKER=kafka (the default: Apache Kafka, needs java and mvn, else Tansu) or tansu
test: $(STAMP)  ## every test: unit, integration (real PostgreSQL and broker), end to end; then `make reliability`
	$(BIN)/pytest -m "not reliability"
	$(MAKE) --no-print-directory reliability

reliability: $(STAMP)  ## the faults and attacks, ending with the reliability report (the second half of `make test`)
	$(BIN)/pytest -m reliability

bench: $(STAMP)  ## limits, then the pipeline's figures, on the embedded stack: var/bench/results.{json,md} (not part of make test)
	$(BIN)/python -m bench

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

asyncapi: $(STAMP)  ## regenerate docs/asyncapi.yaml from the FastStream apps
	$(BIN)/giftcert asyncapi > docs/asyncapi.yaml

openapi: $(STAMP)  ## regenerate docs/openapi.json from the HTTP API
	$(BIN)/giftcert openapi > docs/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
