# Hearken: `make run` serves the site, `make test` runs the suite. Both work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVICES := $(PY) scripts/services.py

.PHONY: run test lint check-deploy bench install messages otp

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

messages: $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null

run: install messages
	$(SERVICES) --data .data/run -- bash scripts/run.sh

test: install messages
	$(SERVICES) --data .data/test -- $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9') \
	FIELD_ENCRYPTION_KEYS=k1:$$(head -c 32 /dev/urandom | base64) \
	DJANGO_ALLOWED_HOSTS=hearken.example DATABASE_URL=postgres://u@127.0.0.1:1/x REDIS_URL=redis://127.0.0.1:1/0 \
	$(PY) manage.py check --deploy --fail-level WARNING

bench: install
	$(SERVICES) --data .data/bench -- bash -c 'for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done'

otp: install
	@$(PY) manage.py demo_otp
