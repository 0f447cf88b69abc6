"""Sign-in, sign-up, lockout and password reset as a person meets them."""

import re

from django.core import mail
from django.test import Client

from accounts.models import User

from ..factories import PASSWORD


def test_complainant_registers_and_lands_signed_in_with_the_complainant_role(db):
    client = Client()

    response = client.post(
        "/accounts/register/",
        {"email": "Xiao.Lin@Example.cn", "display_name": "小林", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user = User.objects.get(email="xiao.lin@example.cn")
    assert user.role_names == {"complainant"}
    assert not user.is_staff
    assert client.get("/").status_code == 200


def test_registration_keeps_what_was_typed_and_says_what_is_wrong(db):
    response = Client().post(
        "/accounts/register/",
        {"email": "a@example.cn", "display_name": "阿青", "password1": PASSWORD, "password2": "something-else-1"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "两次输入的密码不一致" in page
    assert 'value="a@example.cn"' in page
    assert 'value="阿青"' in page
    assert not User.objects.exists()


def test_registering_a_known_email_points_to_password_reset(make_user):
    existing = make_user("complainant")

    response = Client().post(
        "/accounts/register/",
        {"email": existing.email.upper(), "password1": PASSWORD, "password2": PASSWORD},
    )

    assert "忘记密码" in response.content.decode()
    assert User.objects.filter(email__iexact=existing.email).count() == 1


def test_sign_in_with_a_wrong_password_says_so_in_chinese(make_user):
    user = make_user("complainant")

    response = Client().post("/accounts/login/", {"username": user.email, "password": "wrong-password"})

    assert response.status_code == 200
    assert "邮箱或密码不正确" in response.content.decode()


def test_repeated_failures_lock_out_that_user_from_that_address_with_a_clear_message(make_user):
    user = make_user("complainant")
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": user.email, "password": "wrong-password"})

    locked = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    other_user = make_user("complainant")
    not_locked = Client().post("/accounts/login/", {"username": other_user.email, "password": PASSWORD})

    assert locked.status_code == 429
    assert "暂时锁定" in locked.content.decode()
    assert not_locked.status_code == 302


SPELLINGS = [" Ann@X.org", "ann@x.org ", "ANN@X.ORG", "aNn@x.OrG", "  ann@X.ORG  "]


def test_every_spelling_of_an_email_counts_towards_one_lockout(make_user):
    make_user("complainant", email="ann@x.org")
    client = Client()
    for spelling in SPELLINGS:  # five failures, each spelled differently
        client.post("/accounts/login/", {"username": spelling, "password": "wrong-password"})

    answers = [client.post("/accounts/login/", {"username": s, "password": PASSWORD}) for s in SPELLINGS]

    assert [r.status_code for r in answers] == [429] * len(SPELLINGS)
    assert "暂时锁定" in answers[0].content.decode()


def test_a_lockout_by_email_leaves_the_same_email_from_another_address_alone(make_user):
    make_user("complainant", email="ann@x.org")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for spelling in SPELLINGS:
        client.post("/accounts/login/", {"username": spelling, "password": "wrong-password"})

    elsewhere = Client(REMOTE_ADDR="198.51.100.20").post(
        "/accounts/login/", {"username": "Ann@X.org", "password": PASSWORD}
    )

    assert elsewhere.status_code == 302


def test_password_reset_reaches_an_imported_account_that_never_had_a_password(db):
    imported = User.objects.create_user(email="platform.user@example.cn")  # no password, as the import makes
    client = Client()

    client.post("/accounts/password_reset/", {"email": imported.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [imported.email]
    assert done.status_code == 302
    imported.refresh_from_db()
    assert imported.check_password(PASSWORD)


def test_password_reset_for_an_unknown_email_sends_nothing_and_reveals_nothing(db):
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.cn"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_sign_out_is_a_post_and_ends_the_session(make_user):
    user = make_user("complainant")
    client = Client()
    client.force_login(user)

    client.post("/accounts/logout/")

    assert client.get("/").status_code == 302


def test_pages_send_a_strict_content_security_policy(db):
    response = Client().get("/accounts/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()


def test_english_is_available_beside_chinese(db):
    response = Client().get("/accounts/login/", headers={"accept-language": "en"})

    page = response.content.decode()
    assert "Sign in" in page
    assert "邮箱或密码" not in page
