"""Listening sessions arrive from the main platform by CSV and by API; bad rows never cost good ones."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import INTEGRATION_GROUP
from listeners.models import ListeningSession
from listeners.services import sessions_import

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory


def row(n: int, listener_code: str, **overrides) -> dict:
    data = {
        "order_no": f"QS2026{n:06d}",
        "user_email": f"buyer{n % 7}@example.cn",
        "listener_code": listener_code,
        "channel": "voice",
        "started_at": "2026-11-20T20:00:00+08:00",
        "duration_minutes": "45",
        "amount": "88.00",
        "rating": "4",
    }
    data.update(overrides)
    return data


@pytest.fixture
def listener(db):
    return ListenerProfileFactory(code="L0001")


@pytest.fixture
def platform_api(db):
    platform = UserFactory(roles=[INTEGRATION_GROUP])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=platform).key}")
    return api


def test_good_rows_are_created_with_their_users_and_bad_rows_are_reported_with_the_reason(listener):
    rows = [
        row(1, "L0001"),
        row(2, "L9999"),  # unknown listener
        row(3, "L0001", channel="video"),
        row(4, "L0001", amount="-5"),
        row(5, "L0001", started_at="yesterday"),
        row(6, "L0001", rating="9"),
        row(7, "L0001"),
    ]

    result = sessions_import(rows=rows)

    assert (result.created, result.updated, result.failed) == (2, 0, 5)
    assert sorted(ListeningSession.objects.values_list("order_no", flat=True)) == ["QS2026000001", "QS2026000007"]
    by_row = {e.row: e.errors for e in result.errors}
    assert "L9999" in by_row[2]["listener_code"][0]
    assert set(by_row) == {2, 3, 4, 5, 6}
    assert "channel" in by_row[3] and "amount" in by_row[4] and "started_at" in by_row[5] and "rating" in by_row[6]


def test_import_is_idempotent_by_order_number_and_updates_in_place(listener):
    sessions_import(rows=[row(1, "L0001", rating="")])

    again = sessions_import(rows=[row(1, "L0001", rating="2")])

    assert (again.created, again.updated) == (0, 1)
    session = ListeningSession.objects.get()
    assert session.rating == 2
    assert session.amount == Decimal("88.00")


def test_a_repeated_order_number_within_one_file_is_reported_not_imported_twice(listener):
    result = sessions_import(rows=[row(1, "L0001"), row(1, "L0001", amount="1.00")])

    assert result.created == 1
    assert result.errors[0].row == 2
    assert "第 1 行" in result.errors[0].errors["order_no"][0]
    assert ListeningSession.objects.get().amount == Decimal("88.00")


def test_unknown_platform_users_get_a_complainant_account_without_a_password(listener):
    sessions_import(rows=[row(1, "L0001", user_email="New.Person@Example.cn")])

    user = User.objects.get(email="new.person@example.cn")
    assert not user.has_usable_password()
    assert user.role_names == {"complainant"}
    assert ListeningSession.objects.get().complainant == user


def test_import_queries_do_not_grow_with_the_number_of_rows(listener, django_assert_max_num_queries):
    few = [row(n, "L0001") for n in range(5)]
    many = [row(n, "L0001", user_email=f"buyer{n}@example.cn") for n in range(100, 600)]

    with django_assert_max_num_queries(12):
        sessions_import(rows=few)
    with django_assert_max_num_queries(12):
        sessions_import(rows=many)

    assert ListeningSession.objects.count() == 505


def test_csv_command_imports_and_reports_bad_rows_by_spreadsheet_line(listener, tmp_path, capsys):
    path = tmp_path / "sessions.csv"
    rows = [row(1, "L0001"), row(2, "NOPE")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out, err = io.StringIO(), io.StringIO()

    call_command("import_sessions", str(path), stdout=out, stderr=err)
    call_command("import_sessions", str(path), stdout=out, stderr=err)

    assert "created 1, updated 0, failed 1" in out.getvalue()
    assert "created 0, updated 1, failed 1" in out.getvalue()
    assert "row 3 (QS2026000002)" in err.getvalue()
    assert ListeningSession.objects.count() == 1


def test_api_imports_rows_and_reports_errors_row_by_row(listener, platform_api):
    response = platform_api.post("/api/v1/sessions/", [row(1, "L0001"), row(2, "L0404")], format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"][0]["row"] == 2
    assert body["errors"][0]["order_no"] == "QS2026000002"


def test_api_reports_a_list_or_object_where_a_value_belongs_as_that_row_s_error(listener, platform_api):
    bad = {**row(2, "L0001"), "started_at": [None, None], "amount": {"yuan": 1}}
    odd = {**row(3, "L0001"), "started_at": 1.5, "rating": True}

    response = platform_api.post("/api/v1/sessions/", [row(1, "L0001"), bad, odd], format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["failed"]) == (1, 2)
    assert set(body["errors"][0]["errors"]) == {"started_at", "amount"}
    assert "started_at" in body["errors"][1]["errors"]


def test_api_refuses_a_body_that_is_not_a_list_with_a_clear_message(platform_api):
    response = platform_api.post("/api/v1/sessions/", {"order_no": "x"}, format="json")

    assert response.status_code == 400
    assert "JSON 数组" in response.json()["detail"]


def test_api_repeated_push_is_idempotent(listener, platform_api):
    payload = [row(n, "L0001") for n in range(3)]

    first = platform_api.post("/api/v1/sessions/", payload, format="json").json()
    second = platform_api.post("/api/v1/sessions/", payload, format="json").json()

    assert (first["created"], second["created"], second["updated"]) == (3, 0, 3)
    assert ListeningSession.objects.count() == 3


def test_the_session_admin_never_shows_who_the_user_is(make_user):
    user = UserFactory(roles=["complainant"], email="session-user@example.test", display_name="赵小雨")
    session = ListeningSessionFactory(complainant=user, order_no="QS-PRIVATE-1")
    client = signed_in_client(make_user("supervisor"))

    listing = client.get("/admin/listeners/listeningsession/?q=QS-PRIVATE-1")
    page = client.get(f"/admin/listeners/listeningsession/{session.pk}/change/")

    assert listing.status_code == 200 and page.status_code == 200
    for body in (listing.content.decode(), page.content.decode()):
        assert "session-user@example.test" not in body and "赵小雨" not in body
    assert f"用户 #{user.pk}" in page.content.decode()
    assert client.get("/admin/listeners/listeningsession/add/").status_code == 403
