# peoplesync developer commands. Every target bootstraps .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help demo test check format bench conformance-extra clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) ## Seeded sandbox org + peoplesync serve, connected (Ctrl+C stops)
	$(BIN)/peoplesync demo

CHROMIUM := /usr/bin/chromium

# Debian's Chromium for the browser tests (tests/browser); installed when missing and root.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install -y chromium' (browser tests skip, fail in CI)"; \
	fi

test: $(STAMP) $(CHROMIUM) ## Run unit, integration and browser tests on SQLite and PostgreSQL
	$(BIN)/pytest tests

check: $(STAMP) ## Lint, format check and mypy strict
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(STAMP) ## Run benchmarks; each prints JSON figures
	$(BIN)/python -m bench

CONFORMANCE := .conformance

$(CONFORMANCE)/tap-salesforce/.installed:
	$(PYTHON) -m venv $(CONFORMANCE)/tap-salesforce
	$(CONFORMANCE)/tap-salesforce/bin/pip install --quiet tap-salesforce==2.8.1
	touch $@

$(CONFORMANCE)/source-salesforce/.installed:
	$(PYTHON) -m venv $(CONFORMANCE)/source-salesforce
	$(CONFORMANCE)/source-salesforce/bin/pip install --quiet airbyte-source-salesforce==2.10.3
	touch $@

conformance-extra: $(STAMP) $(CONFORMANCE)/tap-salesforce/.installed $(CONFORMANCE)/source-salesforce/.installed ## tap-salesforce and Airbyte's source-salesforce read every Contact (slow)
	$(BIN)/python -m bench extractors

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) $(CONFORMANCE) .peoplesync .pytest_cache .mypy_cache .ruff_cache
