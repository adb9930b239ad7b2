# The two commands: `make run` (demo on SQLite, tasks in-process) and `make test` (the suite on PostgreSQL).
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

# Django 6.1 needs Python 3.12 or newer; the first such interpreter found wins (PYTHON=... overrides).
FIND_PYTHON = for c in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python 2>/dev/null); do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$c; break; fi; done
PYTHON ?= $(shell $(FIND_PYTHON))

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/overridewatch

.PHONY: run test install lint services browser clean

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "No Python 3.12+ found. Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run

run: export DEBUG = true
run: export DEMO_MODE = true
run: $(VENV)/.installed-run
	@mkdir -p var/static
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Override Watch is starting at http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "Stop it with Ctrl-C."
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# PostgreSQL and Redis must answer; start the local ones when they do not.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it."; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
	  for i in $$(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL could not be started: the tests need it on 127.0.0.1:5432 (see README)." >&2; exit 1; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
	  echo "Redis is not answering on 127.0.0.1:6379; starting it."; \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
	    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true; sleep 1; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis could not be started: the broker tests need it on 127.0.0.1:6379 and redis-server on the PATH." >&2; exit 1; }

# Browser tests drive Debian's Chromium; no tool downloads a browser of its own.
browser:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null || { echo "chromium is missing and could not be installed (apt-get install chromium)." >&2; exit 1; }

test: export DEBUG = true
test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: $(VENV)/.installed-test services browser
	@mkdir -p var/static
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var
