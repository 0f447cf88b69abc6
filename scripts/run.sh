#!/usr/bin/env bash
# Started by `make run` inside scripts/services.py, so DATABASE_URL and REDIS_URL are set.
set -euo pipefail
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo
exec .venv/bin/honcho start -f Procfile.dev
