# Argus: `make run` to run the product, `make test` to run the test suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run stop test setup venv browser services migrate lint reset

run: setup services migrate
	DEBUG=$${DEBUG-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG-1} ARGUS_PUBLIC_PORT=$${ARGUS_PORT-8000} $(PY) -m argus.devstack serve

stop:
	@[ -x $(PY) ] && $(PY) -m argus.devstack down || true

# The suite runs in production mode (DEBUG off) over plain HTTP, with its own Redis database.
test: setup services
	SECRET_KEY=argus-test-suite-only DEBUG=0 ARGUS_HTTPS=0 ARGUS_REDIS_DB=$${ARGUS_REDIS_DB:-1} \
	EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend MEDIA_ROOT=$(CURDIR)/.argus/test-media \
	$(PY) -m pytest $(PYTEST_ARGS)

setup: venv browser

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Debian's Chromium and its driver; Selenium is always pointed at these, never at a download.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "argus: installing Debian's chromium and chromium-driver"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

services: venv
	$(PY) -m argus.devstack up

migrate: services
	DEBUG=$${DEBUG-1} $(PY) manage.py setup_platform --verbosity 0

lint: venv
	$(PY) -m ruff check .

# Stops everything and deletes .argus/ (database, Redis data, logs).
reset:
	@[ -x $(PY) ] && $(PY) -m argus.devstack reset || rm -rf .argus
