"""The one place that reads the process environment (12-factor settings)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEV_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hearken"
DEV_REDIS_URL = "redis://127.0.0.1:6379/0"
