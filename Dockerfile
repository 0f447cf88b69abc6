# syntax=docker/dockerfile:1
# Production image for Hearken.
#   docker build -t hearken .
#   docker run --env-file prod.env -p 8000:8000 hearken          # gunicorn (default CMD)
#   docker run --env-file prod.env hearken celery -A config worker --loglevel=INFO
# See docker-compose.yml for the full stack (web, worker, beat, Postgres, Redis).

# --- build stage: dependencies, compiled translations, collected static files ----
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# gettext provides msgfmt for compilemessages; it stays in this stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

# Dependencies first, from pyproject.toml alone, so this layer is cached until it changes.
# ([tool.setuptools] packages = [] : `pip install .` installs [project].dependencies only;
# the application code runs from /app.)
WORKDIR /build
COPY pyproject.toml ./
RUN pip install .

WORKDIR /app
COPY . .

# The vendored Bootstrap files end in `sourceMappingURL=*.map` comments but the .map files
# are not vendored, which makes the manifest storage's post-processing (collectstatic)
# fail. Drop only references whose map file is missing; a no-op once the maps are vendored.
RUN for f in $(grep -rlE '[/*]# sourceMappingURL=' static); do \
        map="$(sed -n 's|.*# sourceMappingURL=\([^ *]*\).*|\1|p' "$f" | tail -n 1)"; \
        if [ ! -f "$(dirname "$f")/$map" ]; then \
            echo "dropping dangling source map reference from $f"; \
            sed -i -e 's|//# sourceMappingURL=[^ ]*$||' -e 's|/\*# sourceMappingURL=[^ ]* \*/||' "$f"; \
        fi; \
    done

# Production settings refuse to load without their secrets, so this one RUN line gets
# throw-away values. They are not baked into the image (no ENV) and nothing here touches
# the database or the broker.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_SECRET_KEY=build-time-only-not-a-secret \
    FIELD_ENCRYPTION_KEYS=k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build:build@127.0.0.1:1/build \
    REDIS_URL=redis://127.0.0.1:1/0 \
    sh -c 'python manage.py compilemessages && python manage.py collectstatic --noinput'

# --- runtime stage ---------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/app/media

RUN groupadd --system --gid 10001 hearken \
    && useradd --system --uid 10001 --gid hearken --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin hearken

COPY --from=build /opt/venv /opt/venv
# Code and static files stay root-owned (read-only for the app user);
# only the media directory is writable. A fresh named volume mounted at /app/media
# inherits this ownership.
COPY --from=build /app /app
RUN mkdir -p /app/media && chown hearken:hearken /app/media

WORKDIR /app
USER 10001:10001

EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
