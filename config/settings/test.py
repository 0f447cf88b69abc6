"""Tests: real PostgreSQL and Redis, fast hashing, mail kept in memory."""

from config.env import env

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
CACHES["default"]["KEY_PREFIX"] = "hearken-test"  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Eager unless a test starts a real worker with this set to false in the worker's environment.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Separate test databases for runs side by side on one server (e.g. TEST_DATABASE_NAME=test_hearken_2).
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}  # noqa: F405
