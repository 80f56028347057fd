# Parley — one-command setup, run and test. Everything a fresh Debian/Ubuntu machine needs is installed here.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_QUIET := 2>&1 | { grep -v -E "^WARNING: Location .* is ignored" || true; }
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help setup python-deps system-deps frontend run test test-python test-frontend lint typecheck bench schema clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: python-deps frontend ## Install everything (virtualenv, Python packages, front end)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip setuptools wheel $(PIP_QUIET)
	$(BIN)/pip install -q torch==2.13.0 $(PIP_QUIET)
	$(BIN)/pip install -q -e '.[dev]' $(PIP_QUIET)
	touch $@

python-deps: $(VENV)/.installed

system-deps: ## Debian packages the browser tests need (Chromium)
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Chromium from Debian's packages..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

frontend: ## Install and build the dashboard and the widget (when present)
	@for dir in frontend widget; do \
		if [ -f $$dir/package.json ]; then \
			echo "Building $$dir..."; \
			(cd $$dir && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm install --no-audit --no-fund --loglevel=error; } && npm run build --silent); \
		fi; \
	done

run: setup ## Start Parley on embedded PostgreSQL + Redis with demo data
	$(BIN)/parley up

lint: python-deps ## ruff (lint + format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy parley

test-python: python-deps
	$(BIN)/pytest -q

test-frontend: frontend
	@for dir in frontend widget; do \
		if [ -f $$dir/package.json ] && grep -q '"test"' $$dir/package.json; then (cd $$dir && npm test --silent); fi; \
	done

test: setup system-deps lint test-frontend test-python ## The whole suite: lint, types, front-end and Python tests (incl. browser)

bench: setup ## Run every benchmark (one JSON line each)
	@for script in bench/*.py; do echo "# $$script" >&2; $(BIN)/python $$script; done

schema: python-deps ## Regenerate docs/openapi.json from the backend (the dashboard's typed client is generated from it)
	$(BIN)/parley manage spectacular --format openapi-json --file docs/openapi.json

clean: ## Remove build outputs and local data (keeps .venv)
	rm -rf .parley .parley-test frontend/dist widget/dist
