"""The outbox: what the main platform must act on, delivered as signed webhooks.

A service writes an ``OutboxEvent`` in the transaction of the change it reports, so an event
exists exactly when its change was committed. Celery then POSTs it to
``settings.PLATFORM_WEBHOOK_URL``: signed, retried with backoff, every attempt recorded as a
``WebhookDelivery``. Delivery is at least once; the receiver dedupes on ``X-Hearken-Event-Id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import OutboxEvent, WebhookDelivery

log = logging.getLogger(__name__)

TIMEOUT_SECONDS: float = 10
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
EXCERPT_CHARS = 500
# A pending event whose next attempt is this overdue lost its task (worker killed, broker
# restarted, broker down when it was written): the sweep queues it again.
REQUEUE_AFTER = timedelta(minutes=5)
REQUEUE_BATCH = 500


def outbox_write(*, kind: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event for the main platform and deliver it once the transaction commits.

    Call it inside the transaction of the change it reports (a rollback drops both).
    ``payload`` is plain JSON data and must carry no identity data of complainants.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_write must run inside the transaction of the change it reports")
    event = OutboxEvent.objects.create(kind=kind, payload=payload, next_attempt_at=timezone.now())
    transaction.on_commit(partial(_publish, str(event.event_id)))
    return event


def _publish(event_id: str, countdown: int | None = None) -> None:
    """A broker outage must not turn a committed change into an error page: the event is saved,
    and the sweep queues it again once the broker is back."""
    from .tasks import deliver_outbox_event

    try:
        deliver_outbox_event.apply_async((event_id,), countdown=countdown)
    except Exception:
        log.warning("could not queue outbox event %s; the sweep will retry", event_id, exc_info=True)


def webhook_body(event: OutboxEvent) -> str:
    """The JSON body sent for an event: the same text on every attempt."""
    created_at = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"id": str(event.event_id), "type": event.kind, "created_at": created_at, "data": event.payload},
        separators=(",", ":"),
        sort_keys=True,
    )


def webhook_signature(*, secret: str, timestamp: str, body: str) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under the shared secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff_seconds(attempts: int) -> int:
    """Wait before the next attempt after ``attempts`` failures: 30 s, 60 s, 120 s … at most 1 h."""
    return min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)


@transaction.atomic
def outbox_deliver(event_id: str | UUID) -> WebhookDelivery | None:
    """Make one delivery attempt of a pending event and record it; safe to run twice.

    An event already delivered or given up on, or being delivered by another worker right now,
    is left alone (returns None). With no ``PLATFORM_WEBHOOK_URL`` nothing is sent and the event
    stays pending. A network error or a non-2xx answer schedules a retry with backoff; after
    MAX_ATTEMPTS the event is marked failed. Errors are recorded, never raised.
    """
    url = settings.PLATFORM_WEBHOOK_URL
    if not url:
        return None
    event = (
        OutboxEvent.objects.select_for_update(skip_locked=True)
        .filter(event_id=event_id, delivered_at=None, failed_at=None)
        .first()
    )
    if event is None:
        return None

    body = webhook_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Hearken-Webhook/1",
        "X-Hearken-Event-Id": str(event.event_id),
        "X-Hearken-Timestamp": timestamp,
        "X-Hearken-Signature": webhook_signature(
            secret=settings.PLATFORM_WEBHOOK_SECRET, timestamp=timestamp, body=body
        ),
    }
    delivery = WebhookDelivery(event=event, attempted_at=timezone.now())
    started = time.monotonic()
    try:
        # No redirects: a 3xx is a misconfigured URL, and following it would turn the POST into a GET.
        with requests.post(
            url, data=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True
        ) as response:
            delivery.status_code = response.status_code
            # Read only the start of the answer: it is for the log, and may be a large error page.
            delivery.response_excerpt = _excerpt(response)
    except Exception as exc:  # timeout, refused, DNS, TLS…: recorded and retried
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.save()

    event.attempts += 1
    now = timezone.now()
    if delivery.status_code is not None and 200 <= delivery.status_code < 300:
        event.delivered_at = now
        event.last_error = ""
        event.next_attempt_at = None
    else:
        event.last_error = delivery.error or f"HTTP {delivery.status_code}: {delivery.response_excerpt[:200]}"
        if event.attempts >= MAX_ATTEMPTS:
            event.failed_at = now
            event.next_attempt_at = None
            log.error("outbox event %s (%s) failed for good: %s", event.event_id, event.kind, event.last_error)
        else:
            countdown = backoff_seconds(event.attempts)
            event.next_attempt_at = now + timedelta(seconds=countdown)
            transaction.on_commit(partial(_publish, str(event.event_id), countdown))
    event.save(update_fields=["attempts", "delivered_at", "failed_at", "next_attempt_at", "last_error"])
    return delivery


def _excerpt(response: requests.Response) -> str:
    try:
        raw = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
    except Exception:  # a broken body does not change what the status code said
        return ""
    return raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]


def outbox_requeue_stale(*, now: datetime | None = None) -> int:
    """Pending events whose next attempt is long overdue lost their task: queue them again.
    Safe on several workers at once (rows locked by another are skipped); delivering is idempotent.
    Does nothing while no ``PLATFORM_WEBHOOK_URL`` is set (the events wait)."""
    if not settings.PLATFORM_WEBHOOK_URL:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(delivered_at=None, failed_at=None)
            .filter(Q(next_attempt_at__lt=now - REQUEUE_AFTER) | Q(next_attempt_at=None))
            .order_by("created_at")
            .values_list("pk", "event_id")[:REQUEUE_BATCH]
        )
        if ids:
            OutboxEvent.objects.filter(pk__in=[pk for pk, _ in ids]).update(next_attempt_at=now)
            for _, event_id in ids:
                transaction.on_commit(partial(_publish, str(event_id)))
    return len(ids)
