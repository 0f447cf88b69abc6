"""Deadline sweep: time ``core.deadlines.deadlines_sweep()`` over 100,000 open deadlines, 10,000 of them due.

    python bench/sweep.py [--deadlines N] [--due D] [--breached B] [--recreate] [--profile] [--show-queries]

Runs in its own database, ``hearken_bench_sweep`` on the server DATABASE_URL names (created and
migrated with config.settings.test when absent), and publishes the email tasks the sweep queues to
the real Redis broker, database /13 of the server REDIS_URL names, queue ``celery``: purged before
and after, so no worker ever sees these messages. Every run starts from empty deadline and
notification tables and a fresh set of B complaints for the breached deadlines (TRUNCATE ...
CASCADE: whatever references complaints in this database goes too), so it can be re-run any
number of times. bench/notify.py uses the same queue, so the two take turns (a PostgreSQL
advisory lock).

Data: N open ``triage`` deadlines of one consultant on complaints.Complaint. D are due for a
reminder (remind_at past, due_at future) and carry fake, distinct subject ids; B are breached
(due_at past) and point at B real complaints, because the complaints' breach handler writes
timeline events that reference them; the rest are neither.

Measured in-process, SQL counted with CaptureQueriesContext (and an execute wrapper, which has
no 9,000-query cap): the first sweep (reminder and breach phases separately) and a second sweep
right after it, which must add nothing. Targets: reminders of the D due rows in <= 10 s, and at
most 1 query per 100 due rows plus a constant of 10. Prints one JSON object per measurement,
then a table; a missed target (a wrong count included) prints MISSED and exits 0; only an error
(an exception, an unreachable server) exits non-zero. With --profile the timings include the
profiler's overhead (about 2x).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH = "sweep"
BENCH_DB = os.environ.get("BENCH_SWEEP_DATABASE_NAME", "hearken_bench_sweep")
BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hearken")
BASE_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER_DB = 13
QUEUE = "celery"
LOCK_KEY = 0x48454152_0D  # "HEAR", Redis db 13: the advisory lock both bench scripts take
LOCK_WAIT_SECONDS = 900
SETTINGS = "config.settings.test"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

TARGET_SECONDS = 10.0
QUERIES_PER_100 = 1.0
QUERY_CONSTANT = 10
EMAIL_CHUNK = 50  # core.notifications.EMAIL_CHUNK: ids per queued task message

CONSULTANT_EMAIL = "sweep-consultant@bench.hearken.local"
SUPERVISOR_EMAIL = "sweep-supervisor@bench.hearken.local"
COMPLAINANT_EMAIL = "sweep-complainant@bench.hearken.local"
LISTENER_EMAIL = "sweep-listener@bench.hearken.local"
FAKE_SUBJECT_BASE = 50_000_000


# --- environment, database, broker (notify.py uses these too) ------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr, flush=True)


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    if (parts.hostname or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(f"refusing to benchmark against {parts.hostname}: only 127.0.0.1 is allowed")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def database_url(name: str) -> str:
    return _with_path(BASE_DATABASE_URL, f"/{name}")


def broker_url() -> str:
    return _with_path(BASE_REDIS_URL, f"/{BROKER_DB}")


def bench_env(db: str = BENCH_DB, **extra: str) -> dict[str, str]:
    """Test settings on a bench database, Celery publishing to Redis /13 rather than running eagerly."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=database_url(db),
        REDIS_URL=broker_url(),
        CELERY_BROKER_URL=broker_url(),
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextmanager
def bench_lock(what: str) -> Iterator[None]:
    """One of bench/sweep.py and bench/notify.py at a time: both purge and count the queue on Redis /13.

    A session advisory lock on the server: released when this process ends, however it ends.
    """
    import psycopg

    conn = psycopg.connect(database_url("postgres"), autocommit=True, connect_timeout=10)
    try:
        waited = time.monotonic()
        for attempt in range(int(LOCK_WAIT_SECONDS / 2) + 1):
            if conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                break
            if attempt == 0:
                log(f"{what}: another run of bench/sweep.py or bench/notify.py is in progress; waiting for it")
            time.sleep(2)
        else:
            raise SystemExit(f"{what}: another bench run kept the lock for {LOCK_WAIT_SECONDS:g}s; try again later")
        if attempt:
            log(f"{what}: got the bench lock after {time.monotonic() - waited:.0f}s")
        yield
    finally:
        conn.close()


def ensure_database(db: str = BENCH_DB, *, recreate: bool = False) -> None:
    """Create the bench database if absent (drop it first with ``recreate``), then migrate it."""
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True, connect_timeout=10) as conn:
        if recreate:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            log(f"dropped database {db}")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')
            log(f"created database {db}")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=bench_env(db),
        check=True,
        timeout=900,
    )
    log(f"migrated {db} in {time.monotonic() - started:.1f}s")


def django_setup(db: str = BENCH_DB) -> None:
    os.environ.update(bench_env(db))
    import django

    django.setup()


def broker_purge() -> int:
    """Drop every message waiting in the bench queue on Redis /13; returns how many there were."""
    from config.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.queue_purge(QUEUE) or 0


def broker_length() -> int:
    import redis

    client = redis.Redis.from_url(broker_url(), socket_timeout=10)
    try:
        return int(client.llen(QUEUE))
    finally:
        client.close()


def bench_user(email: str, name: str, role: str):
    from accounts.models import User
    from accounts.services import user_assign_role

    user, created = User.objects.get_or_create(email=email, defaults={"display_name": name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user_assign_role(user=user, role=role)


def truncate(*tables: str) -> None:
    from django.db import connection, transaction

    # The append-only tables refuse TRUNCATE unless their owner allows it for this transaction.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL hearken.allow_truncate = 'on'")
        cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def emit(record: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps(record, ensure_ascii=False, default=str), flush=True)
    return record


# --- data ----------------------------------------------------------------------------------


def breach_subjects(n: int) -> list[int]:
    """n real complaints (bulk-inserted) for the breached deadlines: the breach handler writes
    timeline events that reference them, so fake ids would fail the foreign key at commit."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from complaints.models import Complaint, ConsentMethod, ConsentText
    from listeners.models import Channel, ListenerProfile, ListenerStatus, ListeningSession

    if n == 0:
        return []
    now = timezone.now()
    complainant = bench_user(COMPLAINANT_EMAIL, "投诉人S", "complainant")
    listener_user = bench_user(LISTENER_EMAIL, "倾听师S", "listener")
    profile, _ = ListenerProfile.objects.get_or_create(
        user=listener_user, defaults={"code": "BSWEEP01", "display_name": "倾听师S", "status": ListenerStatus.ACTIVE}
    )
    session, _ = ListeningSession.objects.get_or_create(
        order_no="BSWEEP-00000001",
        defaults={
            "complainant": complainant,
            "listener": profile,
            "channel": Channel.VOICE,
            "started_at": now - timedelta(days=2),
            "duration_minutes": 50,
            "amount": Decimal("99.00"),
        },
    )
    consent = ConsentText.objects.get(is_current=True)
    rows = Complaint.objects.bulk_create(
        [
            Complaint(
                reference=f"BSW-{i:06d}",
                complainant=complainant,
                session=session,
                listener=profile,
                content="倾听师在通话中多次打断我。（bench sweep）",
                real_name="张晓明",
                id_number="11010519491231002X",
                phone="13812345678",
                consent_text=consent,
                consent_method=ConsentMethod.CHECKBOX,
                consent_at=now - timedelta(days=1),
                submitted_at=now - timedelta(days=1),
                first_response_due=now - timedelta(hours=1),
            )
            for i in range(n)
        ]
    )
    return [c.pk for c in rows]


def load_deadlines(total: int, due: int, breached: int) -> dict[str, Any]:
    """Empty tables, then ``total`` open triage deadlines: ``due`` reminders due, ``breached`` past due."""
    import random
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from complaints.models import Complaint
    from core.models import Deadline, DeadlineKind

    started = time.monotonic()
    truncate("core_notification", "core_deadline", "complaints_complaint")
    consultant = bench_user(CONSULTANT_EMAIL, "顾问S", "consultant")
    bench_user(SUPERVISOR_EMAIL, "督导S", "supervisor")
    supervisors = get_user_model().objects.filter(groups__name="supervisor", is_active=True).count()
    subjects = breach_subjects(breached)
    ct = ContentType.objects.get_for_model(Complaint)
    rng = random.Random(2026)
    now = timezone.now()

    def rows() -> Iterator[Deadline]:
        for i in range(total):
            if i < due:  # reminder due up to 4 h ago, so due within the next 4 h (the policy's remind_before)
                remind = now - timedelta(minutes=rng.randrange(1, 240))
                due_at = remind + timedelta(hours=4)
                subject, reminded = FAKE_SUBJECT_BASE + i, None
            elif i < due + breached:  # reminded earlier, now past due
                due_at = now - timedelta(minutes=rng.randrange(1, 120))
                remind = due_at - timedelta(hours=4)
                subject, reminded = subjects[i - due], remind
            else:  # open, nothing due yet: reminder at least an hour away
                due_at = now + timedelta(hours=5) + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
                remind = due_at - timedelta(hours=4)
                subject, reminded = FAKE_SUBJECT_BASE + i, None
            yield Deadline(
                subject_type=ct,
                subject_id=subject,
                label=f"BSW-{i:06d}",
                link=f"/staff/deadlines/{i}/",
                kind=DeadlineKind.TRIAGE,
                owner=consultant,
                starts_at=due_at - timedelta(hours=24),
                due_at=due_at,
                remind_at=remind,
                reminded_at=reminded,
            )

    batch: list[Deadline] = []
    for d in rows():
        batch.append(d)
        if len(batch) == 5000:
            Deadline.objects.bulk_create(batch)
            batch = []
    if batch:
        Deadline.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE core_deadline")
    return {
        "bench": BENCH,
        "name": "data setup",
        "deadlines": Deadline.objects.count(),
        "due_reminders": due,
        "breached": breached,
        "supervisors": supervisors,
        "seconds": round(time.monotonic() - started, 2),
    }


# --- measurement ---------------------------------------------------------------------------


class QueryCounter:
    """Counts every statement executed (execute wrapper: exact, whatever the debug cursor's cap)."""

    def __init__(self) -> None:
        self.count = 0
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.kinds[sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"] += 1
        return execute(sql, params, many, context)


@contextmanager
def phases() -> Iterator[dict[str, dict[str, Any]]]:
    """Time the sweep's reminder and breach batches separately by wrapping core.deadlines' batch
    functions (deadlines_sweep looks them up as module globals at each call).

    Two counts per phase: ``queries``, what CaptureQueriesContext sees (the debug cursor's log, which
    since Django 4.2 includes each transaction's BEGIN and COMMIT), and ``statements``, the SQL
    statements only, counted by an execute wrapper (exact even past the log's 9,000-entry cap).
    """
    from django.db import connection

    from core import deadlines as dl

    stats: dict[str, dict[str, Any]] = {
        name: {"seconds": 0.0, "cpu_seconds": 0.0, "queries": 0, "statements": 0, "batches": [], "kinds": Counter()}
        for name in ("remind", "breach")
    }
    counter = QueryCounter()

    def wrap(name: str, fn: Callable[..., int]) -> Callable[..., int]:
        def timed(*args: Any, **kwargs: Any) -> int:
            q0, n0, kinds0 = counter.count, len(connection.queries_log), counter.kinds.copy()
            t0, c0 = time.perf_counter(), time.process_time()
            done = 0
            try:
                done = fn(*args, **kwargs)
                return done
            finally:
                s = stats[name]
                s["seconds"] += time.perf_counter() - t0
                s["cpu_seconds"] += time.process_time() - c0
                s["statements"] += counter.count - q0
                s["queries"] += len(connection.queries_log) - n0
                s["kinds"].update(counter.kinds - kinds0)
                s["batches"].append(done)

        return timed

    originals = dl._remind_batch, dl._breach_batch
    dl._remind_batch, dl._breach_batch = wrap("remind", originals[0]), wrap("breach", originals[1])
    try:
        with connection.execute_wrapper(counter):
            yield stats
    finally:
        dl._remind_batch, dl._breach_batch = originals
    stats["total"] = {"statements": counter.count, "kinds": counter.kinds}


def run_sweep(*, profile: bool, show_queries: bool, label: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.deadlines import deadlines_sweep

    profiler = cProfile.Profile() if profile else None
    with CaptureQueriesContext(connection) as ctx, phases() as stats:
        t0, c0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = deadlines_sweep()
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        log(f"cProfile of {label} (cumulative):\n{out.getvalue()}")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        log(f"cProfile of {label} (own time):\n{out.getvalue()}")
    if show_queries:
        for q in ctx.captured_queries:
            sql = q["sql"]
            log(f"{q['time']}s {sql if len(sql) <= 400 else sql[:200] + ' … ' + sql[-200:]}")
    return {
        "result": result,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "captured": len(ctx.captured_queries),
        "captured_capped": len(ctx.captured_queries) >= connection.queries_limit,
        "stats": stats,
    }


def expected_messages(batches: list[int], notes_per_row: int) -> int:
    return sum(math.ceil(rows * notes_per_row / EMAIL_CHUNK) for rows in batches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, default=100_000, help="open deadlines in all (default 100000)")
    parser.add_argument("--due", type=int, default=10_000, help="of which reminders due (default 10000)")
    parser.add_argument("--breached", type=int, default=300, help="of which past due (default 300)")
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--profile", action="store_true", help="cProfile the first sweep (to stderr)")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of the first sweep (to stderr)")
    args = parser.parse_args()
    if args.due < 1 or args.breached < 0 or args.due + args.breached > args.deadlines:
        parser.error("need 1 <= due and due + breached <= deadlines")
    with bench_lock(BENCH):
        return run(args)


def run(args: argparse.Namespace) -> int:
    ensure_database(recreate=args.recreate)
    django_setup()
    from django.conf import settings
    from django.utils import timezone

    from core.models import Deadline, Notification

    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise SystemExit("Celery is eager in-process: the sweep's emails would be sent here, not queued")
    records: list[dict[str, Any]] = []
    failures: list[str] = []
    purged = broker_purge()
    if purged:
        log(f"purged {purged} messages left in {QUEUE} on {broker_url()}")
    try:
        setup = emit(load_deadlines(args.deadlines, args.due, args.breached))
        supervisors = setup["supervisors"]
        log(f"loaded {setup['deadlines']} deadlines ({args.due} due, {args.breached} breached) in {setup['seconds']}s")

        first = run_sweep(profile=args.profile, show_queries=args.show_queries, label="sweep 1")
        queued = broker_length()
        r, s = first["result"], first["stats"]
        remind, breach = s["remind"], s["breach"]
        notes = Notification.objects.count()
        expected_notes = r.reminded + r.breached * (1 + supervisors)
        expected_queue = expected_messages(remind["batches"], 1) + expected_messages(breach["batches"], 1 + supervisors)
        reminded_rows = Deadline.objects.exclude(reminded_at=None).filter(state="open").count()
        breached_rows = Deadline.objects.filter(state="breached").count()

        limit = args.due / 100 * QUERIES_PER_100 + QUERY_CONSTANT
        rec_remind = emit(
            {
                "bench": BENCH,
                "name": "sweep 1: reminders",
                "due": args.due,
                "reminded": r.reminded,
                "seconds": round(remind["seconds"], 3),
                "rows_per_second": round(r.reminded / remind["seconds"], 1) if remind["seconds"] else None,
                "cpu_seconds": round(remind["cpu_seconds"], 3),
                "load_avg": round(os.getloadavg()[0], 2),
                "queries": remind["queries"],
                "statements": remind["statements"],
                "queries_per_100_due": round(remind["queries"] / (args.due / 100), 3),
                "query_kinds": dict(remind["kinds"]),
                "batches": len(remind["batches"]),
                "targets": [
                    {
                        "what": "seconds",
                        "value": round(remind["seconds"], 3),
                        "limit": f"<= {TARGET_SECONDS:g}",
                        "met": remind["seconds"] <= TARGET_SECONDS,
                    },
                    {
                        "what": "queries",
                        "value": remind["queries"],
                        "limit": f"<= {limit:g} (1/100 rows + {QUERY_CONSTANT})",
                        "met": remind["queries"] <= limit,
                    },
                ],
            }
        )
        blimit = args.breached / 100 * QUERIES_PER_100 + QUERY_CONSTANT
        rec_breach = emit(
            {
                "bench": BENCH,
                "name": "sweep 1: breaches",
                "due": args.breached,
                "breached": r.breached,
                "seconds": round(breach["seconds"], 3),
                "cpu_seconds": round(breach["cpu_seconds"], 3),
                "queries": breach["queries"],
                "statements": breach["statements"],
                "queries_per_100_due": round(breach["queries"] / (args.breached / 100), 3) if args.breached else None,
                "query_kinds": dict(breach["kinds"]),
                "batches": len(breach["batches"]),
                "targets": [
                    {
                        "what": "queries",
                        "value": breach["queries"],
                        "limit": f"<= {blimit:g} (1/100 rows + {QUERY_CONSTANT})",
                        "met": breach["queries"] <= blimit,
                    }
                ],
            }
        )
        checks = [
            (r.reminded == args.due, f"reminded {r.reminded}, expected {args.due}"),
            (r.breached == args.breached, f"breached {r.breached}, expected {args.breached}"),
            (reminded_rows == args.due, f"{reminded_rows} deadlines marked reminded, expected {args.due}"),
            (breached_rows == args.breached, f"{breached_rows} deadlines breached, expected {args.breached}"),
            (notes == expected_notes, f"{notes} notifications, expected {expected_notes}"),
            (queued == expected_queue, f"{queued} task messages in Redis, expected {expected_queue}"),
        ]
        failures += [why for ok, why in checks if not ok]
        rec_total = emit(
            {
                "bench": BENCH,
                "name": "sweep 1: whole call",
                "seconds": round(first["seconds"], 3),
                "cpu_seconds": round(first["cpu_seconds"], 3),
                "queries": first["captured"],
                "statements": s["total"]["statements"],
                "query_kinds": dict(s["total"]["kinds"]),
                "captured_capped": first["captured_capped"],
                "reminded": r.reminded,
                "breached": r.breached,
                "notifications": notes,
                "expected_notifications": expected_notes,
                "deadlines_reminded": reminded_rows,
                "deadlines_breached": breached_rows,
                "email_task_messages_queued": queued,
                "expected_messages": expected_queue,
                "profiled": args.profile,
                "load_avg": round(os.getloadavg()[0], 2),
                "targets": [
                    {
                        "what": "rows, notifications, messages",
                        "value": "as expected" if not failures else f"{len(failures)} wrong",
                        "limit": "as expected",
                        "met": not failures,
                    }
                ],
            }
        )
        records += [rec_remind, rec_breach, rec_total]

        before = timezone.now()
        second = run_sweep(profile=False, show_queries=False, label="sweep 2")
        r2 = second["result"]
        queued2 = broker_length()
        new_notes = Notification.objects.filter(created_at__gte=before).count()
        repeat_ok = r2.reminded == 0 and r2.breached == 0 and new_notes == 0 and queued2 == queued
        rec_repeat = emit(
            {
                "bench": BENCH,
                "name": "sweep 2: repeat",
                "seconds": round(second["seconds"], 3),
                "cpu_seconds": round(second["cpu_seconds"], 3),
                "queries": second["captured"],
                "statements": second["stats"]["total"]["statements"],
                "reminded": r2.reminded,
                "breached": r2.breached,
                "new_notifications": new_notes,
                "new_messages": queued2 - queued,
                "targets": [{"what": "new reminders", "value": r2.reminded, "limit": "== 0", "met": repeat_ok}],
            }
        )
        records.append(rec_repeat)
        if not repeat_ok:
            failures.append(
                f"second sweep: {r2.reminded} reminded, {r2.breached} breached, "
                f"{new_notes} notifications, {queued2 - queued} messages"
            )
    finally:
        left = broker_purge()
        log(f"purged {left} email task messages from {QUEUE} on {broker_url()}")

    print_table(records, failures)
    return 0


def print_table(records: list[dict[str, Any]], failures: list[str]) -> None:
    print()
    print(f"== {BENCH} ({BENCH_DB}, broker {broker_url()} queue {QUEUE})")
    header = f"{'measurement':<22} {'rows':>7} {'seconds':>8} {'cpu s':>7} {'rows/s':>8} {'queries':>8} {'stmts':>6} {'q/100':>7}  targets"
    print(header)
    print("-" * len(header))
    for rec in records:
        rows = rec.get("reminded", 0) + rec.get("breached", 0)
        if rec["name"] == "sweep 1: reminders":
            rows = rec["reminded"]
        elif rec["name"] == "sweep 1: breaches":
            rows = rec["breached"]
        rate = f"{rows / rec['seconds']:.0f}" if rec["seconds"] and rows else "-"
        q100 = rec.get("queries_per_100_due")
        targets = "; ".join(
            f"{t['what']} {t['value']} {t['limit']} {verdict(t['met'])}" for t in rec.get("targets", [])
        )
        print(
            f"{rec['name']:<22} {rows:>7} {rec['seconds']:>8.3f} {rec['cpu_seconds']:>7.2f} {rate:>8} {rec['queries']:>8} {rec['statements']:>6} "
            f"{(f'{q100:.2f}' if q100 is not None else '-'):>7}  {targets}"
        )
    total = next((r for r in records if r["name"] == "sweep 1: whole call"), None)
    if total and total["profiled"]:
        print("profiled with cProfile: the seconds include its overhead (about 2x); measure without --profile")
    if total:
        print(
            f"notifications {total['notifications']} (expected {total['expected_notifications']}); "
            f"email task messages queued (LLEN {QUEUE}) {total['email_task_messages_queued']} "
            f"(expected {total['expected_messages']})"
        )
    print("queries: as CaptureQueriesContext counts them (BEGIN and COMMIT included); stmts: SQL statements only")
    print(
        f"cpu s: this process's CPU (not PostgreSQL's); machine load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    for why in failures:
        print(f"WRONG: {why}")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
