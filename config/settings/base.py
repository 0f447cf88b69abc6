"""Settings shared by every environment. Values come from the environment via config.env."""

from datetime import timedelta

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, DEV_DATABASE_URL, DEV_REDIS_URL, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    # ours, lowest layer first
    "core",
    "accounts",
    "listeners",
    "complaints",
    "interviews",
    "evaluations",
    "supervision",
    "portal",
]

MIDDLEWARE = [
    "core.middleware.ProxiedClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.StaffSecondFactorMiddleware",
    "core.middleware.SignedInPagesNotStoredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.ApiOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "core.context_processors.notifications",
            ],
        },
    },
]

# --- database and cache -------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=DEV_DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections (a new one costs ~9 ms here), checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default=DEV_REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "hearken",
    }
}

# --- accounts, passwords, second factor ---------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"
OTP_TOTP_ISSUER = "Hearken"
# Staff (consultant, reviewer, supervisor) sessions end after this much idleness.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
# Reverse proxies in front of gunicorn whose X-Forwarded-For entries are trusted (0: none).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# django-axes: lock out an email (however it is spelled) from one address after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]

# --- field encryption ---------------------------------------------------------
# "key-id:base64-32-byte-key", newest first. Older keys stay readable until
# `manage.py rotate_field_keys` has re-encrypted every row under the newest.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=["dev1:ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc="],
)

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media"))
# No URL route serves MEDIA_ROOT: uploads are streamed by views that check permission first.
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- email --------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Hearken <no-reply@hearken.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Links in emails are absolute: the site's public address.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- the main platform's webhook ----------------------------------------------
# Listener status changes and approved money remedies are POSTed here, signed with the secret
# (core.outbox). Empty: events stay pending in the outbox and nothing is sent.
PLATFORM_WEBHOOK_URL = env("PLATFORM_WEBHOOK_URL", default="")
PLATFORM_WEBHOOK_SECRET = env("PLATFORM_WEBHOOK_SECRET", default="dev-only-webhook-secret")

# --- security headers ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- DRF and the API schema ---------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Service errors as HTTP: ValidationError 400, PermissionDenied 403, core.errors.Conflict 409.
    "EXCEPTION_HANDLER": "core.api_errors.service_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hearken API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it ran, and re-queued if its worker died:
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Longer than the longest task, or Redis would hand an unacknowledged task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".data" / "celerybeat-schedule")
DEADLINE_SWEEP_SECONDS = env.float("DEADLINE_SWEEP_SECONDS", default=60.0)
# An email queued this long ago and neither sent nor failed lost its task: the sweep queues it again.
NOTIFICATION_REQUEUE_SECONDS = env.int("NOTIFICATION_REQUEUE_SECONDS", default=600)
# The sweep has its own queue, so a backlog of emails never delays it. Workers consume both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"core.tasks.sweep_deadlines": {"queue": "sweep"}}
CELERY_BEAT_SCHEDULE: dict = {
    "sweep-deadlines": {"task": "core.tasks.sweep_deadlines", "schedule": DEADLINE_SWEEP_SECONDS},
    "scan-anomalies": {"task": "supervision.tasks.scan_anomalies", "schedule": 3600},
    "warm-dashboard": {"task": "supervision.tasks.warm_dashboard", "schedule": 240},
    "anonymize-archived": {"task": "supervision.tasks.anonymize_archived_cases", "schedule": 24 * 3600},
    "draw-monthly-audits": {
        "task": "supervision.tasks.draw_monthly_audits",
        "schedule": crontab(minute=30, hour=2, day_of_month=1),
    },
    "send-monthly-summary": {
        "task": "supervision.tasks.send_monthly_summary",
        "schedule": crontab(minute=0, hour=8, day_of_month=1),
    },
}
SUPERVISION_AUDITS_PER_LISTENER = env.int("SUPERVISION_AUDITS_PER_LISTENER", default=2)
# Archived cases older than this have their personal data anonymised (the statistics stay).
RETENTION_YEARS = env.int("RETENTION_YEARS", default=3)
# Whether a competency interview's result tells the listener the total as well as the band and
# feedback; the choice is stored on each interview when its result is sent.
INTERVIEW_RESULT_SHOWS_TOTAL = env.bool("INTERVIEW_RESULT_SHOWS_TOTAL", default=True)

# --- logging: never log request bodies (they may carry identity data) ---------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
