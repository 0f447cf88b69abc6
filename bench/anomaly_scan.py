"""Anomaly scan: time ``supervision.anomalies.anomalies_scan()`` over 1,000,000 listening sessions.

    python bench/anomaly_scan.py [--sessions N] [--listeners L] [--users U] [--recreate]

Runs in its own database, ``hearken_bench_anomaly`` on the server DATABASE_URL names (created and
migrated with config.settings.test when absent). The data set (U users, L listeners, N sessions
over 12 weeks, 20-60 minutes each, plus planted anomalies) is bulk-loaded with COPY and kept
between runs; a different size reloads it. Each run empties the ethics cases first.

Random sessions are rated 1-5 (skewed high, as real ratings are) or not at all (30 %).
Planted: 50 pairs with 7 sessions in one week (rule: > 5 in 7 days), 50 pairs with three
100-minute sessions on one day (> 4 h a day), 50 listeners with eight 90-minute sessions with
different users on one day (> 10 h a day), and 50 listeners reported for rating manipulation
with ten 1-star sessions in the week before the report and ten 5-star ones in the week after
(> 1 star rise). Besides those 50 reports, 950 reports of random kinds about random listeners
(about half of them rating manipulation) are written before each run. Random traffic at this
density plants almost none. The rules are the shipped defaults (supervision.defaults).

The scan itself runs in a child process, so its peak RSS (resource.getrusage) is the scan's and
not the loader's. Measured: the first scan over all sessions; a second right after it, which must
record nothing; and a scan over a later window (the week after the data) in which the 50 planted
"7 sessions a week" pairs do it again: each finding must be added to the pair's open case as a
note, opening no case (those 50 later sessions are written by the run and removed by the next).
Targets: <= 30 s and <= 300 MB peak RSS. Prints one JSON line per measurement, then a table; a
missed target prints MISSED and exits 0; only errors exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_ANOMALY_DATABASE_NAME", "hearken_bench_anomaly")
BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hearken")
SETTINGS = "config.settings.test"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 300.0
PLANTED = 50
RANDOM_REPORTS = 950
# Bumped when the generated data changes, so an older data set is reloaded.
DATA_VERSION = "v2"
WEEKS = 12
# Order numbers of the sessions the later-window scan finds (written by the run, not by the loader).
LATER_PREFIX = "LATER"
# A Monday at 00:00 Beijing time: the scan's buckets start on Mondays.
START = datetime(2026, 6, 1, tzinfo=UTC) - timedelta(hours=8)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr, flush=True)


def database_url(name: str) -> str:
    parts = urlsplit(BASE_DATABASE_URL)
    if (parts.hostname or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(f"refusing to benchmark against {parts.hostname}: only 127.0.0.1 is allowed")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=database_url(BENCH_DB),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def connect(name: str = BENCH_DB, *, autocommit: bool = False):
    import psycopg

    return psycopg.connect(database_url(name), autocommit=autocommit, connect_timeout=10)


def ensure_database(*, recreate: bool) -> None:
    with connect("postgres", autocommit=True) as conn:
        if recreate:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
            log(f"created database {BENCH_DB}")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=bench_env(),
        check=True,
        timeout=900,
    )
    log(f"migrated {BENCH_DB} in {time.monotonic() - started:.1f}s")


# --- data ------------------------------------------------------------------------------------


def _loaded(conn) -> str:
    conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
    row = conn.execute("SELECT value FROM bench_meta WHERE key = 'anomaly'").fetchone()
    return row[0] if row else ""


def swing_report_at(k: int) -> datetime:
    """When the k-th planted rating-manipulation report was filed: a week of sessions on each side."""
    return START + timedelta(weeks=1 + k % (WEEKS - 2), days=k % 7, hours=12)


def swing_listener(k: int) -> int:
    return 1 + 3 * PLANTED + k


def _rating(rng: random.Random) -> int | None:
    return rng.choices([None, 1, 2, 3, 4, 5], weights=[30, 2, 3, 7, 23, 35])[0]


def _sessions(n: int, listeners: int, users: int, rng: random.Random):
    """(listener id, user id, started_at, minutes, rating) rows: random traffic, then the planted anomalies."""
    span = WEEKS * 7 * 24 * 3600
    for _ in range(n):
        yield (
            rng.randint(1, listeners),
            listeners + rng.randint(1, users),
            START + timedelta(seconds=rng.randrange(span)),
            rng.randint(20, 60),
            _rating(rng),
        )
    first_user = listeners + 1
    for k in range(PLANTED):
        week = START + timedelta(weeks=k % WEEKS)
        pair = (1 + k, first_user + k)
        for d in range(7):
            yield (*pair, week + timedelta(days=d % 6, hours=9 + d), 30, None)
        day = START + timedelta(days=k % (WEEKS * 7))
        pair = (1 + PLANTED + k, first_user + PLANTED + k)
        for h in range(3):
            yield (*pair, day + timedelta(hours=8 + 2 * h), 100, None)
        listener = 1 + 2 * PLANTED + k
        for h in range(8):
            yield (listener, first_user + 2 * PLANTED + 8 * k + h, day + timedelta(hours=8 + 1.6 * h), 90, None)
        reported = swing_report_at(k)
        for h in range(10):
            user = first_user + 10 * PLANTED + 20 * k + h
            yield (swing_listener(k), user, reported - timedelta(hours=6 + 15 * h), 40, 1)
            yield (swing_listener(k), user + 10, reported + timedelta(hours=6 + 15 * h), 40, 5)


def load(conn, *, sessions: int, listeners: int, users: int) -> None:
    started = time.monotonic()
    now = datetime.now(UTC)
    conn.execute("SET LOCAL hearken.allow_truncate = 'on'")  # the event table is append-only
    conn.execute(
        "TRUNCATE supervision_ethicscaseevent, supervision_listenerreport, supervision_ethicscase, "
        "listeners_listeningsession, listeners_listenerprofile, accounts_user RESTART IDENTITY CASCADE"
    )
    with conn.cursor() as cur:
        columns = "id, password, is_superuser, email, display_name, phone, language, is_active, is_staff, date_joined"
        with cur.copy(f"COPY accounts_user ({columns}) FROM STDIN") as copy:
            for i in range(1, listeners + users + 1):
                copy.write_row((i, "!", False, f"b{i}@bench.hearken.local", f"u{i}", "", "zh-hans", True, False, now))
        log(f"copied {listeners + users} users")
        columns = "id, code, display_name, status, certificate_number, certificate_verified, joined_on, user_id"
        with cur.copy(f"COPY listeners_listenerprofile ({columns}) FROM STDIN") as copy:
            for i in range(1, listeners + 1):
                copy.write_row((i, f"B{i:06d}", f"l{i}", "active", "", False, now.date(), i))
        rng = random.Random(20261126)
        columns = (
            "order_no, listener_id, complainant_id, started_at, duration_minutes, rating, channel, amount, imported_at"
        )
        count = 0
        with cur.copy(f"COPY listeners_listeningsession ({columns}) FROM STDIN") as copy:
            rows = _sessions(sessions, listeners, users, rng)
            for count, (listener, user, at, minutes, rating) in enumerate(rows, 1):
                copy.write_row((f"A{count:09d}", listener, user, at, minutes, rating, "voice", "99.00", now))
        log(f"copied {count} sessions")
        for table in ("accounts_user", "listeners_listenerprofile"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute(
            "INSERT INTO bench_meta VALUES ('anomaly', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [f"{DATA_VERSION}/{sessions}/{listeners}/{users}"],
        )
    conn.commit()
    with connect(autocommit=True) as other:
        other.execute("VACUUM ANALYZE listeners_listeningsession")
    log(f"loaded in {time.monotonic() - started:.1f}s")


def prepare(args: argparse.Namespace) -> None:
    ensure_database(recreate=args.recreate)
    with connect() as conn:
        wanted = f"{DATA_VERSION}/{args.sessions}/{args.listeners}/{args.users}"
        if _loaded(conn) != wanted:
            conn.commit()
            load(conn, sessions=args.sessions, listeners=args.listeners, users=args.users)
        conn.execute("SET LOCAL hearken.allow_truncate = 'on'")  # the event table is append-only
        conn.execute(
            "TRUNCATE supervision_ethicscaseevent, supervision_anomalyfinding, supervision_listenerreport, "
            "supervision_ethicscase CASCADE"
        )
        conn.execute("DELETE FROM listeners_listeningsession WHERE order_no LIKE %s", [f"{LATER_PREFIX}%"])
        conn.execute("DELETE FROM supervision_anomalyrule")
        conn.commit()


# --- the measurement (child process) -----------------------------------------------------------


def later_sessions(listeners: int):
    """The planted 7-sessions pairs again, in the week after the data: one more finding each."""
    from decimal import Decimal

    from listeners.models import ListeningSession

    week = START + timedelta(weeks=WEEKS)
    return [
        ListeningSession(
            order_no=f"{LATER_PREFIX}{k:04d}{d}",
            listener_id=1 + k,
            complainant_id=listeners + 1 + k,
            channel="voice",
            started_at=week + timedelta(days=d % 6, hours=9 + d),
            duration_minutes=30,
            amount=Decimal("99.00"),
        )
        for k in range(PLANTED)
        for d in range(7)
    ]


def measure() -> None:
    import django

    django.setup()
    from django.utils import timezone

    from listeners.models import ListenerProfile, ListeningSession
    from supervision.anomalies import anomalies_scan
    from supervision.defaults import anomaly_rules_load
    from supervision.models import AnomalyRule, ListenerReport, ReportKind

    anomaly_rules_load()
    listeners = ListenerProfile.objects.count()
    rng = random.Random(20261127)
    reports = [(swing_listener(k), ReportKind.RATING_MANIPULATION, swing_report_at(k)) for k in range(PLANTED)]
    span = WEEKS * 7 * 24 * 3600
    for _ in range(RANDOM_REPORTS):
        kind = rng.choice([ReportKind.RATING_MANIPULATION, ReportKind.RATING_MANIPULATION, *ReportKind.values])
        reports.append((rng.randint(1, listeners), kind, START + timedelta(seconds=rng.randrange(span))))
    ListenerReport.objects.bulk_create(
        ListenerReport(
            kind=kind,
            listener_id=listener,
            listener_code=f"B{listener:06d}",
            content="bench",
            anonymous=True,
            created_at=at,
        )
        for listener, kind, at in reports
    )
    kinds = dict(AnomalyRule.objects.values_list("pk", "kind"))
    until = timezone.now()
    results = []
    later = START + timedelta(weeks=WEEKS)
    for name, since in (("first scan", START), ("second scan", START), ("later window", later)):
        if name == "later window":
            ListeningSession.objects.bulk_create(later_sessions(listeners))
        started = time.perf_counter()
        result = anomalies_scan(since=since, until=until, notify_supervisors=False)
        seconds = time.perf_counter() - started
        results.append(
            {
                "name": name,
                "seconds": round(seconds, 2),
                "opened": len(result.case_ids),
                "added": result.additions,
                "failed": len(result.failed),
                "by_kind": {kinds[pk]: len(ids) for pk, ids in result.opened.items()},
                "added_by_kind": {kinds[pk]: len(ids) for pk, ids in result.added.items() if ids},
            }
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"runs": results, "peak_rss_mb": round(rss_mb, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the bench database")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure()
        return
    if args.listeners < 4 * PLANTED or args.users < 30 * PLANTED:
        parser.error(f"need at least {4 * PLANTED} listeners and {30 * PLANTED} users for the planted anomalies")
    prepare(args)
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure"],
        cwd=ROOT,
        env=bench_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"the measurement failed (exit {out.returncode})")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    first, second, later = report["runs"]
    swings = first["by_kind"].get("rating_swing_after_report", 0)
    second_found = second["opened"] + second["added"]
    later_pairs = later["added_by_kind"].get("pair_sessions_7d", 0)
    rows = [
        ("first scan seconds", first["seconds"], TARGET_SECONDS, first["seconds"] <= TARGET_SECONDS),
        ("second scan seconds", second["seconds"], TARGET_SECONDS, second["seconds"] <= TARGET_SECONDS),
        ("later-window scan seconds", later["seconds"], TARGET_SECONDS, later["seconds"] <= TARGET_SECONDS),
        ("peak RSS MB", report["peak_rss_mb"], TARGET_RSS_MB, report["peak_rss_mb"] <= TARGET_RSS_MB),
        ("cases opened (>= planted)", first["opened"], 4 * PLANTED, first["opened"] >= 4 * PLANTED),
        ("rating-swing cases (>= planted)", swings, PLANTED, swings >= PLANTED),
        ("notes added by the first scan", first["added"], "-", True),
        ("findings of the second scan", second_found, 0, second_found == 0),
        ("later window: notes on open cases", later_pairs, PLANTED, later_pairs == PLANTED),
        ("later window: cases opened", later["opened"], 0, later["opened"] == 0),
        (
            "rules that failed",
            sum(r["failed"] for r in report["runs"]),
            0,
            all(r["failed"] == 0 for r in report["runs"]),
        ),
    ]
    for name, value, target, ok in rows:
        print(json.dumps({"measurement": name, "value": value, "target": target, "ok": ok}))
    print(f"\nanomaly scan over {args.sessions:,} random sessions + planted ({args.listeners:,} listeners)")
    for name, value, target, ok in rows:
        print(f"  {name:<34} {value:>10}   target {target:<6} {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
