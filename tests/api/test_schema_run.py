"""A bounded schemathesis run over /api/schema/: whatever a caller sends, the API never answers 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import get_token
from django.test import RequestFactory
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from accounts.roles import INTEGRATION_GROUP, Role

from ..complaints.test_api import file_complaint
from ..conftest import signed_in_client
from ..factories import ListeningSessionFactory, UserFactory

CALLERS = ["complainant", "platform token", "supervisor"]


@pytest.fixture
def api_schema(db):
    # Requests go through the real WSGI handler; like Django's test client, keep it from closing the
    # test's connection (and its transaction) at the start and end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def callers(db) -> dict[str, tuple[dict, dict]]:
    return {kind: credentials(kind) for kind in CALLERS}


@pytest.fixture
def complaint(db):
    """A case the supervisor may see and the complainant may not: paths name it instead of noise."""
    owner = UserFactory(roles=[Role.COMPLAINANT])
    return file_complaint(owner, session=ListeningSessionFactory(complainant=owner))


def credentials(kind: str) -> tuple[dict, dict]:
    """Headers and cookies as the caller's own client would send them."""
    if kind == "complainant":
        user = UserFactory(roles=[Role.COMPLAINANT])
        return {"Authorization": f"Token {Token.objects.create(user=user).key}"}, {}
    if kind == "platform token":
        user = UserFactory(roles=[INTEGRATION_GROUP])
        return {"Authorization": f"Token {Token.objects.create(user=user).key}"}, {}
    # Staff reach the API only through a session that passed the second factor, with its CSRF token.
    client = signed_in_client(UserFactory(roles=[Role.SUPERVISOR]))
    csrf = get_token(RequestFactory().get("/"))
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    return {"X-CSRFToken": csrf}, cookies


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_gets_a_server_error(case, callers, complaint):
    if case.path_parameters and "reference" in case.path_parameters:
        case.path_parameters["reference"] = complaint.reference

    for kind, (headers, cookies) in callers.items():
        response = case.call(headers=headers, cookies=cookies)
        assert response.status_code < 500, (kind, case.method, case.formatted_path, response.text[:3000])
