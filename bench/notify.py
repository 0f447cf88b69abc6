"""Email throughput: notification emails sent per second by ONE real Celery worker process.

    python bench/notify.py [--emails N] [--pools solo,prefork] [--concurrency 2] [--no-components]

For each pool: N notifications (email queued, 20 recipients with addresses) are written to the
bench database ``hearken_bench_notify`` (created and migrated with config.settings.test when
absent); a worker is started as a subprocess (``celery -A config worker -Q celery --pool=<pool>``,
config.settings.test, the real Redis broker on database /13, Django's SMTP email backend) and its
"ready" awaited; then the emails are queued with ``core.notifications.queue_emails(ids)`` inside
``transaction.atomic()``, so they are published on commit in task messages of 50 ids, as the
application does. The mail goes to an aiosmtpd server in this process on a free 127.0.0.1 port,
which stamps each message as it arrives.

Measured: emails per second from the first received email to the last, and over the wall time
from queueing to the last email; the worker's CPU per email. Verified: the sink received exactly
N messages, each notification's exactly once, and every notification has email_sent_at set.
Before that, unless --no-components, what one email costs part by part without Celery: the task
body with mail kept in memory (database work and message building), and SMTP alone to the same
sink from another process, with a new connection per email (what the task does) and over one.

The worker is always stopped (its process group: TERM, then KILL), and the queue on Redis /13 is
purged before and after; bench/sweep.py uses that queue too, so the two take turns (a PostgreSQL
advisory lock). Target: >= 200 emails/s for one worker. Prints one JSON object per measurement,
then tables; a missed target (a lost or duplicated email included) prints MISSED and exits 0;
only an error (a worker that does not start or dies, an unreachable server) exits non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sweep import (
    QUEUE,
    ROOT,
    bench_env,
    bench_lock,
    bench_user,
    broker_length,
    broker_purge,
    broker_url,
    django_setup,
    emit,
    ensure_database,
    log,
    truncate,
    verdict,
)

BENCH = "notify"
BENCH_DB = os.environ.get("BENCH_NOTIFY_DATABASE_NAME", "hearken_bench_notify")
CELERY = str(Path(sys.executable).parent / "celery")
TARGET_RATE = 200.0
N_RECIPIENTS = 20
READY_SECONDS = 90
SETTLE_SECONDS = 1.0
STALL_SECONDS = 15.0
COMPONENT_EMAILS = 500
EMAIL_CHUNK = 50  # core.notifications.EMAIL_CHUNK: ids per task message
TOKEN = re.compile(r"\[bench-(\d+)\]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """aiosmtpd handler: keeps each message's arrival time, recipients and raw bytes (parsed later)."""

    def __init__(self) -> None:
        self.received: list[tuple[float, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.received.append((time.monotonic(), list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class Worker:
    """One `celery worker` process in its own session, so its whole process group can be stopped."""

    def __init__(self, pool: str, concurrency: int, smtp_port: int, logdir: Path) -> None:
        self.pool = pool
        self.logpath = logdir / f"worker-{pool}.log"
        args = [CELERY, "-A", "config", "worker", "-Q", QUEUE, f"--pool={pool}"]
        if pool != "solo":
            args.append(f"--concurrency={concurrency}")
        args += ["-n", f"bench-notify-{pool}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"]
        args.append("--loglevel=INFO")
        env = bench_env(
            BENCH_DB,
            TEST_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            EMAIL_TIMEOUT="20",
        )
        self.logfile = open(self.logpath, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.logpath.read_text(errors="replace") if self.logpath.exists() else ""

    def wait_ready(self, seconds: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if " ready." in self.log():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {seconds}s:\n{self.log()[-3000:]}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the worker and its pool processes so far."""
        try:
            import psutil

            main = psutil.Process(self.proc.pid)
            procs = [main, *main.children(recursive=True)]
            return sum(sum(p.cpu_times()[:2]) for p in procs)
        except Exception:
            return None

    def stop(self) -> None:
        """TERM the worker's process group (a warm shutdown), KILL it if that is not enough, and KILL
        any pool process that outlived its parent (psutil checks it is still the same process)."""
        try:
            kids = []
            with contextlib.suppress(Exception):
                import psutil

                kids = psutil.Process(self.proc.pid).children(recursive=True)
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(20)
            if self.proc.poll() is None:  # not reaped yet, so its group id is still its own
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            for kid in kids:
                with contextlib.suppress(Exception):
                    kid.kill()
        finally:
            self.logfile.close()


def make_notifications(n: int) -> list[int]:
    """An empty notification table, then n notifications whose emails are queued, spread over 20 people."""
    from django.utils import timezone

    from core.models import Notification

    truncate("core_notification")
    people = [
        bench_user(f"notify-rcpt{k:02d}@bench.hearken.local", f"顾问N{k}", "consultant") for k in range(N_RECIPIENTS)
    ]
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=people[i % N_RECIPIENTS],
                kind="deadline.deadline_reminder",
                subject=f"[bench-{i:05d}] 提醒：TS-2026-{i:06d} 的初步处理将于 2026-05-01 18:00 到期",
                body=(
                    f"顾问N{i % N_RECIPIENTS}，您好：\n\nTS-2026-{i:06d} 的初步处理期限是 2026-05-01 18:00，"
                    "请及时处理。\n\nHearken"
                ),
                link=f"/staff/complaints/{i}/",
                email_queued_at=now,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    return [r.pk for r in rows]


def measure(pool: str, concurrency: int, n: int, max_seconds: float, controller, sink: Sink, logdir: Path):
    from django.db import transaction

    from core.models import Notification
    from core.notifications import queue_emails

    ids = make_notifications(n)
    purged = broker_purge()
    if purged:
        log(f"purged {purged} messages left in {QUEUE}")
    sink.received.clear()
    name = f"{pool}" + (f" x{concurrency}" if pool != "solo" else "")
    notes: list[str] = []
    worker = Worker(pool, concurrency, controller.port, logdir)
    try:
        ready = worker.wait_ready(READY_SECONDS)
        log(f"worker {name} ready in {ready:.1f}s (pid {worker.proc.pid})")
        cpu0, bench_cpu0, load0 = worker.cpu_seconds(), time.process_time(), os.getloadavg()[0]

        t0 = time.monotonic()
        with transaction.atomic():
            queue_emails(ids)
        queued_at = time.monotonic()
        waiting = broker_length()

        deadline = t0 + max_seconds
        seen, progress_at, stalled = 0, time.monotonic(), False
        while len(sink.received) < n and time.monotonic() < deadline:
            if worker.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {worker.proc.returncode}:\n{worker.log()[-3000:]}")
            if len(sink.received) != seen:
                seen, progress_at = len(sink.received), time.monotonic()
            elif time.monotonic() - progress_at > STALL_SECONDS and broker_length() == 0:
                stalled = True  # nothing arrives and nothing is waiting: the rest will not come
                break
            time.sleep(0.05)
        pending = n
        while time.monotonic() < deadline:
            pending = Notification.objects.filter(pk__in=ids, email_sent_at=None).count()
            if pending == 0 or stalled:
                break
            time.sleep(0.1)
        all_recorded = time.monotonic()
        cpu1, bench_cpu1 = worker.cpu_seconds(), time.process_time()
        if stalled:
            notes.append(f"gave up after {STALL_SECONDS:g}s without a new email and with the queue empty")
        elif len(sink.received) < n or pending:
            notes.append(f"stopped at the {max_seconds:g}s cap")
        time.sleep(SETTLE_SECONDS)  # a duplicate would arrive now
    finally:
        worker.stop()

    received = list(sink.received)
    times = [t for t, _, _ in received]
    first, last = (min(times), max(times)) if times else (t0, t0)
    span = last - first
    tokens: dict[int, int] = {}
    for _, _, raw in received:
        subject = str(email.message_from_bytes(raw, policy=email.policy.default)["subject"])
        found = TOKEN.search(subject)
        if found:
            k = int(found.group(1))
            tokens[k] = tokens.get(k, 0) + 1
    sent = Notification.objects.filter(pk__in=ids).exclude(email_sent_at=None).count()
    # Never sent and never attempted: the task skipped the row (its lock was not free) and moved on.
    skipped = Notification.objects.filter(pk__in=ids, email_sent_at=None, email_attempts=0).count()
    attempts_over_1 = Notification.objects.filter(pk__in=ids, email_attempts__gt=1).count()
    failed = Notification.objects.filter(pk__in=ids).exclude(email_failed_at=None).count()
    left = broker_length()
    rate = (len(received) - 1) / span if len(received) > 1 and span > 0 else 0.0
    wall = last - t0
    checks = [
        (len(received) == n, f"the sink got {len(received)} messages, expected {n}"),
        (sorted(tokens) == list(range(n)), f"{n - len(tokens)} notifications never arrived"),
        (all(c == 1 for c in tokens.values()), f"{sum(c > 1 for c in tokens.values())} arrived more than once"),
        (sent == n, f"{sent} of {n} notifications have email_sent_at"),
        (failed == 0, f"{failed} notifications failed"),
        (left == 0, f"{left} task messages still in {QUEUE}"),
    ]
    failures = [f"{name}: {why}" for ok, why in checks if not ok]
    if skipped:
        failures.append(f"{name}: {skipped} notifications were skipped by the task without an attempt")
    record = {
        "bench": BENCH,
        "name": f"one worker, pool {name}",
        "emails": n,
        "task_messages": math.ceil(n / EMAIL_CHUNK),
        "queue_length_after_commit": waiting,
        "received": len(received),
        "email_sent_at_set": sent,
        "retried": attempts_over_1,
        "skipped_without_attempt": skipped,
        "first_to_last_seconds": round(span, 3),
        "emails_per_second": round(rate, 1),
        "wall_seconds_from_queueing": round(wall, 3),
        "wall_emails_per_second": round(len(received) / wall, 1) if wall > 0 else 0.0,
        "queueing_seconds": round(queued_at - t0, 3),
        "first_email_after_seconds": round(first - t0, 3),
        "all_recorded_after_seconds": round(all_recorded - t0, 3),
        "worker_cpu_seconds": round(cpu1 - cpu0, 2) if cpu0 is not None and cpu1 is not None else None,
        "worker_cpu_ms_per_email": round((cpu1 - cpu0) * 1000 / max(len(received), 1), 2)
        if cpu0 is not None and cpu1 is not None
        else None,
        "bench_process_cpu_seconds": round(bench_cpu1 - bench_cpu0, 2),
        "load_avg": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "worker_ready_seconds": round(ready, 1),
        "targets": [
            {"what": "emails/s", "value": round(rate, 1), "limit": f">= {TARGET_RATE:g}", "met": rate >= TARGET_RATE},
            {
                "what": "delivered once",
                "value": sum(c == 1 for c in tokens.values()),
                "limit": f"== {n}",
                "met": not failures,
            },
        ],
        "notes": notes + failures,
    }
    return emit(record)


def _smtp_client(port: int, n: int, reuse: bool, out) -> None:
    """In a forked child (so the sink does not share this process's GIL): n Django emails to the sink."""
    from django.core.mail import EmailMessage
    from django.core.mail.backends.smtp import EmailBackend

    started = time.perf_counter()
    if reuse:
        with EmailBackend(host="127.0.0.1", port=port, timeout=20) as conn:
            for i in range(n):
                EmailMessage(
                    f"[comp-{i:05d}] 提醒：TS-2026 的初步处理将于到期",
                    "顾问，您好：请及时处理。",
                    to=["a@bench.hearken.local"],
                    connection=conn,
                ).send()
    else:
        for i in range(n):
            conn = EmailBackend(host="127.0.0.1", port=port, timeout=20)
            EmailMessage(
                f"[comp-{i:05d}] 提醒：TS-2026 的初步处理将于到期",
                "顾问，您好：请及时处理。",
                to=["a@bench.hearken.local"],
                connection=conn,
            ).send()
    out.put(time.perf_counter() - started)


def components(controller, sink: Sink, n: int) -> list[dict[str, Any]]:
    """What one email costs, part by part, without Celery: the task's database work and message
    building (in this process, mail kept in memory), and SMTP to the same sink from another
    process, with a new connection per email (what the task does) and over one connection."""
    import multiprocessing

    from django.test.utils import override_settings

    from core.tasks import send_notification_email

    records = []
    ids = make_notifications(n)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        started = time.perf_counter()
        for pk in ids:
            send_notification_email(pk)
        seconds = time.perf_counter() - started
    records.append(("task body, mail in memory (database + message)", seconds))
    ctx = multiprocessing.get_context("fork")
    for reuse, label in ((False, "SMTP only, new connection per email"), (True, "SMTP only, one connection")):
        sink.received.clear()
        out = ctx.Queue()
        child = ctx.Process(target=_smtp_client, args=(controller.port, n, reuse, out))
        child.start()
        seconds = out.get(timeout=120)
        child.join(30)
        records.append((label, seconds))
    sink.received.clear()
    return [
        emit(
            {
                "bench": BENCH,
                "name": f"component: {label}",
                "emails": n,
                "seconds": round(seconds, 3),
                "per_second": round(n / seconds, 1),
                "ms_per_email": round(seconds * 1000 / n, 2),
                "load_avg": round(os.getloadavg()[0], 2),
            }
        )
        for label, seconds in records
    ]


def print_table(records: list[dict[str, Any]]) -> None:
    print()
    print(f"== {BENCH} ({BENCH_DB}, broker {broker_url()} queue {QUEUE}, SMTP sink on 127.0.0.1)")
    header = (
        f"{'measurement':<28} {'emails':>6} {'recvd':>6} {'sent_at':>7} {'span s':>7} {'emails/s':>9} "
        f"{'wall s':>7} {'wall/s':>7} {'cpu ms/email':>12}  targets"
    )
    print(header)
    print("-" * len(header))
    for r in records:
        targets = "; ".join(f"{t['what']} {t['value']} {t['limit']} {verdict(t['met'])}" for t in r["targets"])
        cpu = r["worker_cpu_ms_per_email"]
        print(
            f"{r['name']:<28} {r['emails']:>6} {r['received']:>6} {r['email_sent_at_set']:>7} "
            f"{r['first_to_last_seconds']:>7.2f} {r['emails_per_second']:>9.1f} {r['wall_seconds_from_queueing']:>7.2f} "
            f"{r['wall_emails_per_second']:>7.1f} {(f'{cpu:.2f}' if cpu is not None else '-'):>12}  "
            f"{targets}"
        )
        for note in r["notes"]:
            print(f"{'  note':<28} {note}")
    print(flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=2000, help="notifications to email per run (default 2000)")
    parser.add_argument("--pools", default="solo,prefork", help="worker pools to measure, in order (default both)")
    parser.add_argument("--concurrency", type=int, default=2, help="prefork processes (default 2)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="wall-clock cap of one run (default 180)")
    parser.add_argument(
        "--no-components", dest="components", action="store_false", help="skip the per-part cost measurements"
    )
    args = parser.parse_args()
    pools = [p.strip() for p in args.pools.split(",") if p.strip()]
    if args.emails < 2 or not pools or any(p not in {"solo", "prefork", "threads"} for p in pools):
        parser.error("--emails must be at least 2 and --pools a list of solo, prefork, threads")

    with bench_lock(BENCH):
        return run(args, pools)


def run(args: argparse.Namespace, pools: list[str]) -> int:
    ensure_database(BENCH_DB)
    django_setup(BENCH_DB)
    from aiosmtpd.controller import Controller
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise SystemExit("Celery is eager in-process: the emails would be sent here, not by the worker")

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), server_hostname="bench-sink.local")
    controller.start()
    records: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    try:
        if args.components:
            parts = components(controller, sink, COMPONENT_EMAILS)
        with tempfile.TemporaryDirectory(prefix="bench-notify-") as logdir:
            for pool in pools:
                record = measure(pool, args.concurrency, args.emails, args.max_seconds, controller, sink, Path(logdir))
                records.append(record)
    finally:
        controller.stop()
        left = broker_purge()
        log(f"purged {left} task messages from {QUEUE} on {broker_url()}")
    print_table(records)
    if parts:
        header = f"{'in-process component (no Celery)':<50} {'emails':>6} {'seconds':>8} {'per s':>7} {'ms/email':>9}"
        print(header)
        print("-" * len(header))
        for r in parts:
            name = r["name"].removeprefix("component: ")
            print(f"{name:<50} {r['emails']:>6} {r['seconds']:>8.2f} {r['per_second']:>7.1f} {r['ms_per_email']:>9.2f}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
