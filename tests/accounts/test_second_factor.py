"""Staff must pass TOTP before they see anything; enrolment, backup codes, session handling."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..conftest import signed_in_client, totp_now
from ..factories import PASSWORD, TOTPDeviceFactory


@pytest.mark.parametrize("role", ["consultant", "reviewer", "supervisor"])
def test_staff_without_a_device_cannot_open_the_admin_and_is_sent_to_enrol(make_user, role):
    client = signed_in_client(make_user(role), verified=False)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/setup/")


def test_staff_with_a_device_but_unverified_is_asked_for_the_code(make_user):
    user = make_user("consultant")
    TOTPDeviceFactory(user=user)
    client = signed_in_client(user, verified=False)

    response = client.get("/admin/")

    assert response["Location"].startswith("/accounts/otp/verify/")


def test_staff_who_passed_the_second_factor_open_the_admin(make_user):
    client = signed_in_client(make_user("consultant"))

    assert client.get("/admin/").status_code == 200


def test_enrolment_shows_a_qr_code_then_confirms_with_a_code_and_gives_backup_codes(make_user):
    user = make_user("supervisor")
    client = Client()
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})

    page = client.get("/accounts/otp/setup/?next=/admin/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/accounts/otp/setup/?next=/admin/", {"otp_token": totp_now(device), "next": "/admin/"})

    assert "<svg" in page.content.decode()
    assert done.status_code == 200
    assert len(re.findall(r"<li>[0-9a-f]{8}</li>", done.content.decode())) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_enrolment_refuses_a_wrong_code_and_explains(make_user):
    user = make_user("reviewer")
    client = signed_in_client(user, verified=False)
    client.get("/accounts/otp/setup/")

    response = client.post("/accounts/otp/setup/", {"otp_token": "000000"})

    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_sign_in_with_password_then_code_rotates_the_session_key(make_user):
    user = make_user("consultant")
    device = TOTPDeviceFactory(user=user)
    client = Client()
    client.get("/accounts/login/")
    anonymous_key = client.session.session_key

    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    after_password = client.session.session_key
    response = client.post("/accounts/otp/verify/", {"otp_token": totp_now(device), "next": "/admin/"})
    after_code = client.session.session_key

    assert response["Location"] == "/admin/"
    assert len({anonymous_key, after_password, after_code}) == 3
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_works_once(make_user):
    from accounts.otp import backup_codes_regenerate

    user = make_user("consultant")
    TOTPDeviceFactory(user=user)
    code = backup_codes_regenerate(user=user)[0]
    first, second = Client(), Client()
    for c in (first, second):
        c.force_login(user)

    ok = first.post("/accounts/otp/verify/", {"otp_token": code, "next": "/admin/"})
    reused = second.post("/accounts/otp/verify/", {"otp_token": code, "next": "/admin/"})

    assert ok.status_code == 302
    assert reused.status_code == 200
    assert "验证码不正确" in reused.content.decode()


def test_verify_does_not_redirect_off_site(make_user):
    user = make_user("consultant")
    device = TOTPDeviceFactory(user=user)
    client = signed_in_client(user, verified=False)

    response = client.post("/accounts/otp/verify/", {"otp_token": totp_now(device), "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_staff_sessions_expire_after_thirty_idle_minutes_but_users_do_not(make_user):
    staff = signed_in_client(make_user("consultant"))
    user = signed_in_client(make_user("complainant"))

    staff.get("/")
    user.get("/")

    assert staff.session.get_expiry_age() == settings.STAFF_SESSION_IDLE_SECONDS == 1800
    assert user.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_staff_api_calls_without_the_second_factor_are_refused(make_user):
    client = signed_in_client(make_user("supervisor"), verified=False)

    response = client.get("/api/schema/")

    assert response.status_code == 403
