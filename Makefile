# Bekhedmetkom (بخدمتكم) — `make help` lists the targets.
# Every target installs what it needs into .venv first, so a fresh clone needs only Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install run up test lint typecheck bench migrate asyncapi image clean browser

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the pinned dependencies

run: install ## the whole platform in one process: SQLite, in-process bus (http://127.0.0.1:$${PORT:-8000})
	$(BIN)/python -m gateway.embedded

up: install ## every service, the gateway and the web app as processes on PostgreSQL + RabbitMQ (PORT, FIRST_SERVICE_PORT)
	$(BIN)/python -m services up

migrate: install ## upgrade every service's schema to head (BKH_DATABASE_URL selects the database)
	$(BIN)/python -m services migrate

browser: ## Debian's chromium for the dashboard's browser test (installed when missing; needs root)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: install lint browser ## lint, then the whole test suite against real PostgreSQL and RabbitMQ
	$(BIN)/python -m pytest

lint: install ## ruff, and mypy strict over the whole tree (code, tests, bench)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install ## the benchmark scenarios; results in bench/results/
	$(BIN)/python -m bench $(BENCH_ARGS)

asyncapi: install ## regenerate docs/asyncapi.json from the event catalog
	$(BIN)/python -m shared.events.asyncapi

# The one image every service, worker, migration job and the gateway run (see Dockerfile and
# deploy/RUNBOOK.md), tagged with the version in pyproject.toml. Needs a Docker engine.
DOCKER  ?= docker
IMAGE   ?= bekhedmetkom
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)

image: ## build the container image bekhedmetkom:<version> (needs a Docker engine)
	@if ! command -v $(DOCKER) >/dev/null 2>&1; then \
		echo "make image: '$(DOCKER)' is not installed; the image needs a Docker engine (or DOCKER=podman)." >&2; \
		exit 2; \
	fi
	@if ! $(DOCKER) info >/dev/null 2>&1; then \
		echo "make image: no Docker engine answers here ('$(DOCKER) info' failed); start one, or build where one runs." >&2; \
		exit 2; \
	fi
	$(DOCKER) build --tag $(IMAGE):$(VERSION) .

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) var
