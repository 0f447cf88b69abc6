"""Who reaches what: each role against the pages and endpoints built so far."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import INTEGRATION_GROUP

from ..conftest import signed_in_client

# (path, {role: expected status}); None is an anonymous visitor.
PAGES = [
    ("/", {None: 302, "complainant": 200, "listener": 200, "consultant": 200, "reviewer": 200, "supervisor": 200}),
    (
        "/admin/",
        {None: 302, "complainant": 302, "listener": 302, "consultant": 200, "reviewer": 200, "supervisor": 200},
    ),
    (
        "/admin/listeners/listeningsession/",
        {None: 302, "complainant": 302, "listener": 302, "consultant": 200, "reviewer": 200, "supervisor": 200},
    ),
    (
        "/admin/listeners/listenerprofile/add/",
        {"consultant": 403, "reviewer": 403, "supervisor": 200},
    ),
    ("/admin/accounts/user/add/", {"consultant": 403, "reviewer": 403, "supervisor": 200}),
    ("/healthz", {None: 200, "complainant": 200, "consultant": 200}),
]


@pytest.mark.parametrize(
    ("path", "role", "expected"),
    [(path, role, status) for path, table in PAGES for role, status in table.items()],
)
def test_role_reaches_page_only_when_allowed(client_for, path, role, expected):
    client, _ = client_for(role)

    response = client.get(path)

    assert response.status_code == expected


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_non_staff_roles_are_sent_to_the_admin_login_not_the_admin(client_for):
    client, _ = client_for("listener")

    response = client.get("/admin/")

    assert response["Location"].startswith("/admin/login/")
    assert client.get(response["Location"])["Location"].startswith("/accounts/login/?next=/admin/")


@pytest.mark.parametrize("role", ["complainant", "listener", "consultant", "reviewer", "supervisor"])
def test_only_the_platform_integration_may_import_sessions(make_user, role):
    person = make_user(role)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=person).key}")

    response = api.post("/api/v1/sessions/", [], format="json")

    assert response.status_code == 403


def test_platform_integration_token_may_import_sessions(make_user):
    platform = make_user(INTEGRATION_GROUP)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=platform).key}")

    response = api.post("/api/v1/sessions/", [], format="json")

    assert response.status_code == 200


def test_session_import_refuses_anonymous_callers(db):
    response = APIClient().post("/api/v1/sessions/", [], format="json")

    assert response.status_code == 401


def test_home_shows_each_role_its_own_entry_points(make_user):
    consultant = signed_in_client(make_user("consultant"))
    complainant = signed_in_client(make_user("complainant"))

    staff_page = consultant.get("/").content.decode()
    user_page = complainant.get("/").content.decode()

    assert "进入管理后台" in staff_page
    assert "进入管理后台" not in user_page
    assert "我的倾诉订单" in user_page
