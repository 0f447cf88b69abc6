"""The outbox: what the main platform must act on is recorded with the change and delivered as a
signed webhook to a real HTTP server, retried, logged, and never sent twice once delivered."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from core import outbox
from core.models import OutboxEvent, WebhookDelivery
from core.outbox import outbox_deliver, outbox_requeue_stale, outbox_write
from listeners.models import ListenerStatus, ListenerStatusChange
from listeners.services import listener_set_status

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory

SECRET = "test-webhook-secret"
ROOT = Path(__file__).resolve().parent.parent.parent


class PlatformServer:
    """The main platform's webhook endpoint: answers with the queued status codes (then 200)
    and keeps every request it received."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[int] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                platform.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = platform.answers.pop(0) if platform.answers else 200
                reply = b'{"ok": true}' if status < 300 else b"upstream exploded"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/hearken"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def platform(db, settings):
    server = PlatformServer()
    settings.PLATFORM_WEBHOOK_URL = server.url
    settings.PLATFORM_WEBHOOK_SECRET = SECRET
    yield server
    server.stop()


@pytest.fixture
def silent_platform(db, settings, monkeypatch):
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.PLATFORM_WEBHOOK_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
    settings.PLATFORM_WEBHOOK_SECRET = SECRET
    monkeypatch.setattr(outbox, "TIMEOUT_SECONDS", 0.5)
    yield accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def pending_event(kind="test.event", payload=None) -> OutboxEvent:
    """An event written in a transaction whose delivery task is not run."""
    with transaction.atomic():
        return outbox_write(kind=kind, payload=payload or {"n": 1})


# --- writing ----------------------------------------------------------------------------------


def test_a_listener_status_change_writes_exactly_one_event_with_no_complainant_data(
    db, django_capture_on_commit_callbacks
):
    session = ListeningSessionFactory(listener__status=ListenerStatus.ACTIVE)
    listener = session.listener

    with django_capture_on_commit_callbacks() as callbacks:
        listener_set_status(listener=listener, status=ListenerStatus.SUSPENDED, reason="等待胜任力面试", actor=None)

    event = OutboxEvent.objects.get()
    change = ListenerStatusChange.objects.get()
    assert event.kind == "listener.status_changed"
    assert event.payload == {
        "listener_code": listener.code,
        "from": "active",
        "to": "suspended",
        "reason": "等待胜任力面试",
        "changed_at": change.created_at.isoformat(),
    }
    assert session.complainant.email not in json.dumps(event.payload)
    assert event.delivered_at is None and event.attempts == 0
    assert len(callbacks) == 1  # the delivery, queued once the change commits


def test_the_event_is_rolled_back_with_the_status_change(db):
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        listener_set_status(listener=listener, status=ListenerStatus.DELISTED, reason="严重违反伦理", actor=None)
        assert OutboxEvent.objects.count() == 1
        raise RuntimeError("boom")

    assert not OutboxEvent.objects.exists()
    assert not ListenerStatusChange.objects.exists()


def test_setting_the_same_status_writes_no_event(db):
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    listener_set_status(listener=listener, status=ListenerStatus.ACTIVE, reason="重复", actor=None)

    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_writing_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        outbox_write(kind="test.event", payload={})

    assert not OutboxEvent.objects.exists()


def test_a_broker_outage_does_not_fail_the_status_change(platform, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("core.tasks.deliver_outbox_event.apply_async", broker_down)
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        listener_set_status(listener=listener, status=ListenerStatus.HIDDEN, reason="待完成督导任务", actor=None)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN
    assert OutboxEvent.objects.get().delivered_at is None
    assert platform.requests == []


# --- delivering -------------------------------------------------------------------------------


def test_delivery_posts_a_signed_body_and_records_the_answer(platform, django_capture_on_commit_callbacks):
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        listener_set_status(listener=listener, status=ListenerStatus.HIDDEN, reason="待完成督导任务", actor=None)

    event = OutboxEvent.objects.get()
    [received] = platform.requests
    headers, body = received["headers"], received["body"]
    assert received["path"] == "/hooks/hearken"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hearken-Event-Id"] == str(event.event_id)
    expected = hmac.new(SECRET.encode(), f"{headers['X-Hearken-Timestamp']}.{body}".encode(), hashlib.sha256)
    assert hmac.compare_digest(headers["X-Hearken-Signature"], f"sha256={expected.hexdigest()}")
    sent = json.loads(body)
    assert sent["id"] == str(event.event_id)
    assert sent["type"] == "listener.status_changed"
    assert sent["data"]["listener_code"] == listener.code
    assert sent["data"]["to"] == "hidden"
    assert sent["created_at"].endswith("Z")
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status_code == 200
    assert delivery.error == ""
    assert "ok" in delivery.response_excerpt
    assert event.delivered_at is not None
    assert event.attempts == 1
    assert event.next_attempt_at is None


def test_a_signature_made_with_another_secret_does_not_verify(platform):
    event = pending_event()

    outbox_deliver(event.event_id)

    headers, body = platform.requests[0]["headers"], platform.requests[0]["body"]
    forged = hmac.new(b"not-the-secret", f"{headers['X-Hearken-Timestamp']}.{body}".encode(), hashlib.sha256)
    assert headers["X-Hearken-Signature"] != f"sha256={forged.hexdigest()}"


def test_a_server_error_is_recorded_and_retried_with_backoff_then_delivered(
    platform, django_capture_on_commit_callbacks
):
    platform.answers = [500]
    event = pending_event()

    with django_capture_on_commit_callbacks() as callbacks:
        before = timezone.now()
        first = outbox_deliver(event.event_id)

    event.refresh_from_db()
    assert first is not None and first.status_code == 500
    assert "upstream exploded" in first.response_excerpt
    assert event.attempts == 1
    assert event.delivered_at is None and event.failed_at is None
    assert "HTTP 500" in event.last_error
    assert before + timedelta(seconds=29) < event.next_attempt_at < timezone.now() + timedelta(seconds=31)
    assert len(callbacks) == 1  # the retry, with its countdown

    # given the countdown has passed (eager tests call the retry directly)
    second = outbox_deliver(event.event_id)

    event.refresh_from_db()
    assert second is not None and second.status_code == 200
    assert event.attempts == 2
    assert event.delivered_at is not None
    assert event.last_error == ""
    assert len(platform.requests) == 2
    assert {r["headers"]["X-Hearken-Event-Id"] for r in platform.requests} == {str(event.event_id)}
    assert list(event.deliveries.order_by("attempted_at", "id").values_list("status_code", flat=True)) == [500, 200]


def test_an_event_already_delivered_is_never_sent_again(platform, django_capture_on_commit_callbacks):
    event = pending_event()

    outbox_deliver(event.event_id)
    with django_capture_on_commit_callbacks() as callbacks:
        again = outbox_deliver(event.event_id)

    assert again is None
    assert len(platform.requests) == 1
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    assert callbacks == []


def test_a_server_that_never_answers_is_recorded_as_a_timeout(silent_platform):
    event = pending_event()

    delivery = outbox_deliver(event.event_id)

    event.refresh_from_db()
    assert silent_platform  # the connection was accepted, then nothing came back
    assert delivery is not None
    assert delivery.status_code is None
    assert "Timeout" in delivery.error
    assert delivery.duration_ms >= 400
    assert event.attempts == 1
    assert event.delivered_at is None and event.failed_at is None
    assert "Timeout" in event.last_error


def test_an_unreachable_server_is_recorded_as_a_connection_error(db, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PLATFORM_WEBHOOK_URL = f"http://127.0.0.1:{port}/hooks"
    event = pending_event()

    delivery = outbox_deliver(event.event_id)

    assert delivery is not None and "ConnectionError" in delivery.error


def test_after_the_last_attempt_the_event_is_marked_failed(platform, django_capture_on_commit_callbacks):
    platform.answers = [503] * 20
    event = pending_event()

    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(outbox.MAX_ATTEMPTS + 2):
            outbox_deliver(event.event_id)

    event.refresh_from_db()
    assert len(platform.requests) == outbox.MAX_ATTEMPTS
    assert event.attempts == outbox.MAX_ATTEMPTS
    assert event.failed_at is not None and event.delivered_at is None
    assert event.next_attempt_at is None
    assert event.deliveries.count() == outbox.MAX_ATTEMPTS
    assert len(callbacks) == outbox.MAX_ATTEMPTS - 1  # a retry after each failure but the last


def test_the_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [outbox.backoff_seconds(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_without_a_platform_url_nothing_is_sent_and_events_stay_pending(
    platform, settings, django_capture_on_commit_callbacks
):
    settings.PLATFORM_WEBHOOK_URL = ""
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        listener_set_status(listener=listener, status=ListenerStatus.HIDDEN, reason="待完成督导任务", actor=None)
    event = OutboxEvent.objects.get()
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        requeued = outbox_requeue_stale()

    event.refresh_from_db()
    assert requeued == 0
    assert platform.requests == []
    assert (event.delivered_at, event.failed_at, event.attempts) == (None, None, 0)
    assert not WebhookDelivery.objects.exists()


# --- re-delivery of lost tasks ----------------------------------------------------------------


def test_pending_events_whose_task_was_lost_are_delivered_by_the_requeue_pass(
    platform, django_capture_on_commit_callbacks
):
    lost = pending_event(payload={"n": "lost"})  # written, but its task never ran
    recent = pending_event(payload={"n": "recent"})  # its task may still be on its way
    delivered = pending_event(payload={"n": "delivered"})
    outbox_deliver(delivered.event_id)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    OutboxEvent.objects.filter(pk__in=[lost.pk, delivered.pk]).update(next_attempt_at=an_hour_ago)

    with django_capture_on_commit_callbacks(execute=True):
        requeued = outbox_requeue_stale()

    assert requeued == 1
    assert [r["headers"]["X-Hearken-Event-Id"] for r in platform.requests] == [
        str(delivered.event_id),
        str(lost.event_id),
    ]
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.delivered_at is not None
    assert recent.delivered_at is None and recent.attempts == 0


def test_the_deadline_sweep_runs_the_requeue_pass(platform, django_capture_on_commit_callbacks):
    from core.tasks import sweep_deadlines

    lost = pending_event()
    OutboxEvent.objects.filter(pk=lost.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        sweep_deadlines()

    lost.refresh_from_db()
    assert lost.delivered_at is not None


# --- the admin ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_the_outbox_and_its_delivery_log_are_read_only_in_the_admin(platform, make_user, who):
    platform.answers = [502]
    event = pending_event()
    outbox_deliver(event.event_id)
    user = make_user("supervisor") if who == "supervisor" else UserFactory(is_superuser=True, is_staff=True)
    client = signed_in_client(user)
    base = "/admin/core/outboxevent/"

    listing = client.get(base)
    detail = client.get(f"{base}{event.pk}/change/")
    log = client.get("/admin/core/webhookdelivery/")
    add = client.get(f"{base}add/")
    delete = client.post(f"{base}{event.pk}/delete/", {"post": "yes"})
    change = client.post(f"{base}{event.pk}/change/", {"kind": "changed"})

    assert listing.status_code == 200 and str(event.event_id) in listing.content.decode()
    assert detail.status_code == 200
    assert "502" in detail.content.decode()  # the attempt, inline
    assert 'name="kind"' not in detail.content.decode()
    assert log.status_code == 200
    assert (add.status_code, delete.status_code, change.status_code) == (403, 403, 403)
    assert OutboxEvent.objects.get().kind == "test.event"


@pytest.mark.parametrize("role", ["consultant", "reviewer"])
def test_the_outbox_is_hidden_from_consultants_and_reviewers(make_user, role):
    client = signed_in_client(make_user(role))

    assert client.get("/admin/core/outboxevent/").status_code == 403


# --- configuration ----------------------------------------------------------------------------


def test_production_refuses_a_webhook_url_without_a_secret():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PLATFORM_WEBHOOK_"))}
    env.update(
        DJANGO_SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS="k1:ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=",
        DJANGO_ALLOWED_HOSTS="hearken.example",
        PLATFORM_WEBHOOK_URL="https://platform.example/hooks/hearken",
    )
    load = [sys.executable, "-c", "import config.settings.production"]

    refused = subprocess.run(load, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    accepted = subprocess.run(
        load, cwd=ROOT, env={**env, "PLATFORM_WEBHOOK_SECRET": "s3cret"}, capture_output=True, text=True, timeout=60
    )

    assert refused.returncode != 0 and "PLATFORM_WEBHOOK_SECRET" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
