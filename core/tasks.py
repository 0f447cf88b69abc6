import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import Notification

log = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 5


@shared_task(acks_late=True)
def send_notification_emails(ids: list[int]) -> None:
    """Send the emails of these notifications; each one is sent at most once."""
    for notification_id in ids:
        send_notification_email(notification_id)


@shared_task(acks_late=True)
def send_notification_email_retry(notification_id: int) -> None:
    """A later attempt after a failure; the backoff is in its countdown."""
    send_notification_email(notification_id)


def send_notification_email(notification_id: int) -> None:
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=notification_id, email_sent_at=None, email_failed_at=None)
            .first()
        )
        if n is None:  # sent already, given up on, or being sent by another worker right now
            return
        url = n.link if n.link.startswith("http") else f"{settings.SITE_URL}{n.link}"
        body = n.body + (f"\n\n{url}" if n.link else "")
        n.email_attempts += 1
        try:
            EmailMessage(n.subject, body, to=[n.recipient.email]).send()
        except Exception as exc:  # SMTP refused, timed out, DNS…: retried, then recorded
            n.email_error = f"{type(exc).__name__}: {exc}"[:2000]
            if n.email_attempts >= MAX_EMAIL_ATTEMPTS:
                n.email_failed_at = timezone.now()
                log.error("email for notification %s failed for good: %s", n.pk, n.email_error)
            n.save(update_fields=["email_attempts", "email_error", "email_failed_at"])
            if n.email_failed_at is None:
                countdown = min(30 * 2 ** (n.email_attempts - 1), 3600)
                transaction.on_commit(
                    lambda: send_notification_email_retry.apply_async((notification_id,), countdown=countdown)
                )
            return
        n.email_sent_at = timezone.now()
        n.save(update_fields=["email_attempts", "email_sent_at", "email_error"])


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
