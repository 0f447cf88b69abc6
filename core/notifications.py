"""Notifications: a row per recipient (the in-app bell), then an email sent by Celery.

The row is the truth: the email task records the outcome on it, and the deadline sweep
re-queues any email whose task was lost, so nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # settings.AUTH_USER_MODEL to django-stubs

EMAIL_CHUNK = 50
log = logging.getLogger(__name__)


def _requeue_after() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_REQUEUE_SECONDS)


def render_for(user: User, template: str, context: dict) -> tuple[str, str]:
    """Subject and body of ``emails/<template>`` in the recipient's language."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        ctx = {**context, "recipient": user.get_short_name(), "site_url": settings.SITE_URL}
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", ctx).split())
        body = render_to_string(f"emails/{template}.body.txt", ctx).strip()
    return subject, body


def build(
    user: User, *, kind: str, template: str, context: dict, link: str = "", urgent: bool = False, dedupe_key=None
) -> Notification:
    subject, body = render_for(user, template, {**context, "link": link})
    return Notification(
        recipient=user,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=link,
        urgent=urgent,
        dedupe_key=dedupe_key,
        email_queued_at=timezone.now(),
    )


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    template: str,
    context: dict,
    link: str = "",
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Tell each recipient once, in-app and by email after the transaction commits.

    ``context`` is plain data and must carry no identity data: emails leave the platform.
    ``dedupe_key`` (suffixed per recipient) makes a repeated call a no-op.
    """
    rows = [
        build(
            user,
            kind=kind,
            template=template,
            context=context,
            link=link,
            urgent=urgent,
            dedupe_key=f"{dedupe_key}:{user.pk}" if dedupe_key else None,
        )
        for user in {u.pk: u for u in recipients if u.is_active}.values()
    ]
    return notifications_save(rows)


def notifications_save(rows: list[Notification]) -> list[Notification]:
    """Insert in one statement (a row whose dedupe key exists is left as it was) and queue the emails."""
    if not rows:
        return []
    keyed = [r for r in rows if r.dedupe_key]
    plain = [r for r in rows if not r.dedupe_key]
    saved = Notification.objects.bulk_create(plain) if plain else []
    if keyed:
        saved += Notification.objects.bulk_create(
            keyed, update_conflicts=True, unique_fields=["dedupe_key"], update_fields=["dedupe_key"]
        )
    queue_emails([n.pk for n in saved])
    return saved


def queue_emails(ids: list[int]) -> None:
    for start in range(0, len(ids), EMAIL_CHUNK):
        chunk = ids[start : start + EMAIL_CHUNK]
        transaction.on_commit(partial(_publish, chunk))


def _publish(ids: list[int]) -> None:
    """A broker outage must not turn a saved action into an error page: the rows are committed,
    and the sweep re-queues their emails once the broker is back."""
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay(ids)
    except Exception:
        log.warning("could not queue %d notification emails; the sweep will retry", len(ids), exc_info=True)


def notifications_requeue_stale(*, now=None) -> int:
    """Emails queued long ago and neither sent nor failed: their task was lost (worker killed,
    broker restarted). Queue them again; sending is idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(email_sent_at=None, email_failed_at=None, email_queued_at__lt=now - _requeue_after())
            .values_list("pk", flat=True)[:5000]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(email_queued_at=now)
            queue_emails(ids)
    return len(ids)


def notification_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; another user's id changes nothing."""
    qs = Notification.objects.filter(recipient=user, read_at=None)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).count()
