# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: fonts install chromium demo dev test test-unit test-integration reliability bench lint typecheck asyncapi openapi clean

# The fonts the PDFs embed (libs/giftcert/rendering/fonts.py); installed when missing and we are root (CI).
FONT_PACKAGES := fonts-noto-core fonts-droid-fallback fonts-nanum
FONT_FILES    := /usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf \
                 /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf /usr/share/fonts/truetype/nanum/NanumGothic.ttf

fonts:
	@if ls $(FONT_FILES) >/dev/null 2>&1 || [ -n "$$GIFTCERT_FONT_DIRS" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $(FONT_PACKAGES); \
	else echo "the PDFs need the fonts: sudo apt-get install $(FONT_PACKAGES) (or set GIFTCERT_FONT_DIRS)" >&2; exit 1; fi

$(STAMP): pyproject.toml | fonts
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
test: $(STAMP) chromium  ## every test: unit, integration (real PostgreSQL and broker), end to end, browser; then `make reliability`
	$(BIN)/pytest -m "not reliability"
	$(MAKE) --no-print-directory reliability

chromium:  ## Debian's Chromium for the browser tests (tests/browser): installed with apt-get as root when missing
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get -o DPkg::Lock::Timeout=900 install -y -qq chromium; } || \
		{ echo "the browser tests need Chromium: apt-get install chromium (as root)"; exit 1; }

.PHONY: screenshots
screenshots: $(STAMP) chromium  ## the README's screenshots: the browser tests that take them, writing into docs/images
	GIFTCERT_SCREENSHOTS_TO_DOCS=1 $(BIN)/pytest tests/browser -k "visitor_buys or operator_finds" -p no:cacheprovider

reliability: $(STAMP)  ## the faults and attacks, ending with the reliability report (the second half of `make test`)
	$(BIN)/pytest -m reliability

# BROKER=tansu for Tansu in place of Apache Kafka (the default: one KRaft node, needs java and mvn)
bench: $(STAMP)  ## limits, then the pipeline's figures, on the embedded stack: var/bench/results.{json,md} (not part of make test)
	$(BIN)/python -m bench $(if $(BROKER),--broker $(BROKER))

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
