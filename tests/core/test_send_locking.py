"""Sending locks the notification row alone: a busy recipient row must not make an email vanish."""

import threading

import pytest
from django.core import mail
from django.db import connection, connections, transaction

from core import tasks
from core.notifications import build

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_email_is_sent_while_another_transaction_holds_the_recipients_row():
    person = UserFactory(roles=["consultant"], email="busy@hearken.cn")
    note = build(person, kind="t", template="case_assigned", context={"reference": "TS-L-1"})
    note.save()  # queued, not yet sent
    locked, release = threading.Event(), threading.Event()

    def hold_user_row():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [person.pk])
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_user_row)
    holder.start()
    try:
        assert locked.wait(10)
        tasks.send_notification_email(note.pk)
    finally:
        release.set()
        holder.join(10)

    note.refresh_from_db()
    assert note.email_sent_at is not None
    assert [m.to for m in mail.outbox] == [["busy@hearken.cn"]]
