"""Notifications in-app and by email: each person sees only their own, and no email is lost silently."""

from smtplib import SMTPServerDisconnected

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone

from accounts.roles import role_permissions
from core import tasks
from core.models import Notification
from core.notifications import notifications_requeue_stale, notify

from ..complaints.helpers import file_complaint
from ..conftest import signed_in_client
from ..factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(roles=["complainant"], email="alice@example.cn")


@pytest.fixture
def bob(db):
    return UserFactory(roles=["complainant"], email="bob@example.cn")


def tell(user, n=1, prefix="TS-T", **kwargs):
    return [
        notify(
            recipients=[user], kind="test", template="case_assigned", context={"reference": f"{prefix}-{i}"}, **kwargs
        )[0]
        for i in range(n)
    ]


def test_the_bell_shows_the_unread_count_on_every_signed_in_page(alice):
    tell(alice, 3)
    client = signed_in_client(alice)

    page = client.get("/").content.decode()

    assert 'data-testid="unread-count">3<' in page


def test_a_user_sees_only_their_own_notifications(alice, bob):
    tell(alice, prefix="TS-ALICE")
    tell(bob, prefix="TS-BOB")

    page = signed_in_client(alice).get("/notifications/").content.decode()

    assert "TS-ALICE-0" in page
    assert "TS-BOB" not in page


def test_marking_anothers_notification_read_changes_nothing(alice, bob):
    bob_note = tell(bob)[0]

    response = signed_in_client(alice).post("/notifications/read/", {"id": bob_note.pk})

    assert response.status_code == 302
    bob_note.refresh_from_db()
    assert bob_note.read_at is None


def test_marking_ones_own_read_clears_the_bell(alice):
    note = tell(alice)[0]
    client = signed_in_client(alice)

    client.post("/notifications/read/", {"id": note.pk})

    note.refresh_from_db()
    assert note.read_at is not None
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()


def test_mark_all_read(alice):
    tell(alice, 4)

    signed_in_client(alice).post("/notifications/read/")

    assert not Notification.objects.filter(recipient=alice, read_at=None).exists()


def test_notifications_need_sign_in(client):
    assert client.get("/notifications/").status_code == 302


def test_emails_go_in_the_recipients_language(alice, bob, django_capture_on_commit_callbacks):
    bob.language = "en"
    bob.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        tell(alice)
        tell(bob)

    by_to = {m.to[0]: m for m in mail.outbox}
    assert "新案件分派给您" in by_to["alice@example.cn"].subject
    assert "New case assigned to you" in by_to["bob@example.cn"].subject


def test_the_same_dedupe_key_notifies_once(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tell(alice, dedupe_key="deadline:1:reminder")
        tell(alice, dedupe_key="deadline:1:reminder")

    assert Notification.objects.filter(recipient=alice).count() == 1
    assert len(mail.outbox) == 1


def test_a_failing_mail_server_is_retried_then_the_failure_is_recorded(alice, monkeypatch):
    note = tell(alice)[0]
    attempts = []

    def refuse(self, *args, **kwargs):
        attempts.append(1)
        raise SMTPServerDisconnected("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    for _ in range(tasks.MAX_EMAIL_ATTEMPTS + 2):
        tasks.send_notification_email(note.pk)

    note.refresh_from_db()
    assert len(attempts) == tasks.MAX_EMAIL_ATTEMPTS
    assert note.email_failed_at is not None and note.email_sent_at is None
    assert "SMTPServerDisconnected" in note.email_error


def test_a_sent_email_is_never_sent_again(alice):
    note = tell(alice)[0]

    tasks.send_notification_email(note.pk)
    tasks.send_notification_email(note.pk)

    assert len(mail.outbox) == 1


def test_emails_whose_task_was_lost_are_queued_again_by_the_sweep(alice, settings, django_capture_on_commit_callbacks):
    note = tell(alice)[0]  # queued, but the task never ran (no on_commit here)
    Notification.objects.filter(pk=note.pk).update(email_queued_at=timezone.now() - timezone.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        requeued = notifications_requeue_stale()

    note.refresh_from_db()
    assert requeued == 1
    assert note.email_sent_at is not None
    assert len(mail.outbox) == 1


def test_a_broker_outage_does_not_turn_a_saved_complaint_into_an_error(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        with django_capture_on_commit_callbacks(execute=True):
            complaint = file_complaint()
    finally:
        app.conf.task_always_eager = True

    assert complaint.pk is not None
    assert Notification.objects.filter(recipient=complaint.complainant, email_sent_at=None).exists()


def test_complaint_emails_carry_no_identity_data(db, django_capture_on_commit_callbacks):
    UserFactory(roles=["supervisor"])
    with django_capture_on_commit_callbacks(execute=True):
        file_complaint(content="我不想活了")

    assert mail.outbox
    for message in mail.outbox:
        for secret in ("张晓明", "11010519491231002X", "13812345678", "张**", "138****5678"):
            assert secret not in message.subject + message.body


def test_every_role_permission_named_in_code_exists(db):
    for role, perms in role_permissions().items():
        for perm in perms:
            app_label, codename = perm.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), (
                role,
                perm,
            )
