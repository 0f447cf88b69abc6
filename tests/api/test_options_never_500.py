"""OPTIONS on every API URL of the URLconf answers 200 or 405, never a server error."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from accounts.roles import INTEGRATION_GROUP, Role

from ..complaints.test_api import file_complaint
from ..conftest import signed_in_client
from ..factories import UserFactory


def api_routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route under api/ as a string with its converters, e.g. api/v1/complaints/<str:reference>/."""
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/"):
            routes.append(route)
    return routes


def test_the_urlconf_has_api_routes_to_check():
    assert {"api/v1/complaints/", "api/v1/sessions/", "api/schema/"} <= set(api_routes())


def fill(route: str, reference: str) -> str:
    return "/" + route.replace("<str:reference>", reference).replace("<str:name>", "escalate")


@pytest.fixture
def callers(db):
    complainant = UserFactory(roles=[Role.COMPLAINANT])
    platform = UserFactory(roles=[INTEGRATION_GROUP])
    token_client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=platform).key}")
    complainant_token = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=complainant).key}")
    return complainant, {
        "anonymous": Client(),
        "complainant (session)": signed_in_client(complainant),
        "complainant (token)": complainant_token,
        "platform token": token_client,
        "listener": signed_in_client(UserFactory(roles=[Role.LISTENER])),
        "supervisor": signed_in_client(UserFactory(roles=[Role.SUPERVISOR])),
    }


@pytest.mark.parametrize("route", api_routes())
def test_options_answers_200_or_405_for_every_caller(route, callers):
    complainant, clients = callers
    complaint = file_complaint(complainant)
    answers = {
        (name, reference): client.options(fill(route, reference)).status_code
        for name, client in clients.items()
        for reference in (complaint.reference, "TS-0000-000000")
    }
    assert {key: status for key, status in answers.items() if status not in (200, 405)} == {}


def test_options_names_the_methods_and_describes_nothing(callers):
    _, clients = callers

    response = clients["anonymous"].options("/api/v1/complaints/")

    assert response.status_code == 200
    assert set(response["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert response.content == b""
