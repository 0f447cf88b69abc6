"""Benchmarks (`make bench`): production settings over plain http on 127.0.0.1, in their own database.

What differs from production, and why: no HTTPS (gunicorn serves 127.0.0.1 directly), a fast
password hasher and no lockouts (sign-in is not what is measured), mail thrown away and Celery
tasks run in the request (no worker to start), static files served from the finders (no
collectstatic), and the database ``hearken_bench`` beside the one DATABASE_URL names.
"""

import warnings

from config.env import env

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="bench-only-insecure-key-0123456789abcdef-0123456789")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# Same database server as DATABASE_URL, its own database.
DATABASES["default"]["NAME"] = env("BENCH_DATABASE_NAME", default="hearken_bench")  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "hearken-bench"  # noqa: F405

# Plain http on the loopback: no redirect to https, no HSTS, cookies without the Secure flag.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False

EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
# Served from the finders, so there is no collectstatic folder to warn about.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
WHITENOISE_AUTOREFRESH = False
