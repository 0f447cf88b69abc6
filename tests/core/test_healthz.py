from django.db import OperationalError
from django.test import Client


def test_healthz_is_ok_when_database_and_broker_answer(db):
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}


def test_healthz_is_unavailable_when_the_broker_is_down(db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] is False


def test_healthz_is_unavailable_when_the_database_is_down(db, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", refuse)
        response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] is False
