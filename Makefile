# The two commands a researcher needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What the app needs to run (`make run`) and what the tests add (`make test`, `make lint`).
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
# axe-core (npm) for the browser tests' accessibility checks; never served by the app.
AXE := var/test-node/node_modules/axe-core/axe.min.js

.PHONY: run test install lint format bench browser-deps clean-var

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

install: $(STAMP)

# serve takes the terminal for itself, so one Ctrl-C stops the server and the worker
# once each and make exits 0 (see annotations/management/commands/serve.py).
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seed
	@$(PY) manage.py ensure_admin --url http://$(HOST):$(PORT)/
	@$(PY) manage.py serve --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium; as root we install it, otherwise they are
# skipped with a message saying why (see tests/browser/conftest.py).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if [ ! -f $(AXE) ] && ! command -v npm >/dev/null && [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's npm for the accessibility checks..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	fi
	@if [ ! -f $(AXE) ] && command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix var/test-node axe-core@4 >/dev/null; \
	fi

test: $(DEV_STAMP) browser-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(DEV_STAMP)
	$(PY) -m bench

# doccano and Label Studio beside Framing on the same data (bench/peers.py); the first run
# installs both under var/peers/ (minutes), later runs reuse them. `make bench` skips it.
.PHONY: bench-peers
bench-peers: $(DEV_STAMP)
	FRAMING_BENCH_PEERS=1 $(PY) -m bench peers

clean-var:
	rm -rf var
