import logging
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from .models import Notification

log = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 5


# Emails sent per transaction: fewer commits, and a worker killed mid-way re-sends at most this many.
SEND_BATCH = 25


@shared_task(acks_late=True)
def send_notification_emails(ids: list[int]) -> None:
    """Send the emails of these notifications over one SMTP connection, committing every few.

    Each row is locked (SKIP LOCKED, the row alone) and skipped once sent or given up on, so a
    redelivered or duplicated task sends nothing twice outside the batch in flight.
    """
    connection = get_connection()
    try:
        for start in range(0, len(ids), SEND_BATCH):
            _send_batch(ids[start : start + SEND_BATCH], connection)
    finally:
        connection.close()


@shared_task(acks_late=True)
def send_notification_email_retry(notification_id: int) -> None:
    """A later attempt after a failure; the backoff is in its countdown."""
    send_notification_email(notification_id)


def send_notification_email(notification_id: int) -> None:
    connection = get_connection()
    try:
        _send_batch([notification_id], connection)
    finally:
        connection.close()


def _send_batch(ids: list[int], connection) -> None:
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk__in=ids, email_sent_at=None, email_failed_at=None)
            .order_by("pk")
        )
        sent, failed = [], []
        for n in rows:
            url = n.link if n.link.startswith("http") else f"{settings.SITE_URL}{n.link}"
            body = n.body + (f"\n\n{url}" if n.link else "")
            n.email_attempts += 1
            try:
                EmailMessage(n.subject, body, to=[n.recipient.email], connection=connection).send()
            except Exception as exc:  # SMTP refused, timed out, DNS…: retried, then recorded
                connection.close()  # the next send reconnects
                n.email_error = f"{type(exc).__name__}: {exc}"[:2000]
                if n.email_attempts >= MAX_EMAIL_ATTEMPTS:
                    n.email_failed_at = timezone.now()
                    log.error("email for notification %s failed for good: %s", n.pk, n.email_error)
                else:
                    countdown = min(30 * 2 ** (n.email_attempts - 1), 3600)
                    transaction.on_commit(
                        partial(send_notification_email_retry.apply_async, (n.pk,), countdown=countdown)
                    )
                failed.append(n)
            else:
                n.email_sent_at = timezone.now()
                sent.append(n)
        if sent:
            Notification.objects.bulk_update(sent, ["email_attempts", "email_sent_at", "email_error"])
        if failed:
            Notification.objects.bulk_update(failed, ["email_attempts", "email_error", "email_failed_at"])


@shared_task(acks_late=True)
def deliver_outbox_event(event_id: str) -> None:
    """One delivery attempt of an outbox event to the main platform; a no-op once it is delivered."""
    from .outbox import outbox_deliver

    outbox_deliver(event_id)


@shared_task(acks_late=True)
def sweep_deadlines() -> dict:
    """Beat runs this every minute; safe to run on several workers at once."""
    from .deadlines import deadlines_sweep
    from .notifications import notifications_requeue_stale
    from .outbox import outbox_requeue_stale

    result = deadlines_sweep()
    requeued = notifications_requeue_stale()
    outbox_requeue_stale()
    return {"reminded": result.reminded, "breached": result.breached, "requeued": requeued}
