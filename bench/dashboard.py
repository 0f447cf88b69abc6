"""The supervisors' quality dashboard (/supervision/dashboard/) over a loaded bench.

    python bench/dashboard.py [--complaints N] [--requests R]

Read-only: it uses the shared N-complaint data set of bench/_common.py (``hearken_bench``) as it is.

Measured: in process, the aggregates computed once (time, and the SQL time of each query), then
the SQL queries of the dashboard as the bench supervisor, once with the aggregates computed (cache
empty) and once served from the cache (target <= 25 each). Over HTTP, R requests by 1 client as
the page is normally served (aggregates cached for a few minutes; target p95 <= 250 ms), then R/10
requests with the cache entry dropped before each one, so every request computes all aggregates
over the N complaints (the worst case a supervisor meets once every few minutes; same target).

The test suite's fixtures empty the cache (FLUSHDB on REDIS_URL's database): when tests run on the
same machine, give the bench another Redis database (REDIS_URL=redis://127.0.0.1:6379/1) or the
"cached" run measures recomputations too.
"""

from __future__ import annotations

import os
import sys
import time

from _common import (
    HTTP_TIMEOUT,
    Measurement,
    Outcome,
    count_queries,
    emit,
    ensure_bench_database,
    gunicorn_server,
    in_process_ready,
    load_record,
    login_staff,
    parse_args,
    print_tables,
    run_load,
    staff_email,
    staff_test_client,
    warm_up,
)

BENCH = "dashboard"
PATH = "/supervision/dashboard/"
TARGET_P95 = 250.0
QUERY_LIMIT = 25
CHART_MARK = 'data-chart="funnel"'


class PageReader:
    def __init__(self, http, url: str, before=None) -> None:
        self.http = http
        self.url = url
        self.before = before

    def __call__(self, i: int) -> Outcome:
        if self.before:
            self.before()
        t0 = time.perf_counter()
        response = self.http.get(self.url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        ok = response.status_code == 200 and CHART_MARK in response.text
        parts = {"http": (time.perf_counter() - t0) * 1000} if self.before else {}
        return Outcome(response.status_code, ok, parts=parts, note="" if ok else f"answered {response.status_code}")


def drop_cached_metrics() -> None:
    from django.core.cache import cache

    from supervision.dashboard import _default_period
    from supervision.metrics import cache_key

    cache.delete(cache_key(_default_period(), "zh-hans"))


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    data = ensure_bench_database(args.complaints)
    emit(load_record(BENCH, data))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import Complaint
    from listeners.models import ListeningSession
    from supervision.dashboard import _default_period
    from supervision.metrics import dashboard_metrics

    supervisor = staff_email("supervisor", 1)
    period = _default_period()
    in_period = Complaint.objects.filter(period.q("submitted_at")).count()
    sessions = ListeningSession.objects.filter(period.q("started_at")).count()
    extra = [
        f"default period {period.start} – {period.end}: {in_period} of {data.complaints} complaints, "
        f"{sessions} sessions; supervisor {supervisor}"
    ]

    dashboard_metrics(period)  # once unmeasured: connection, caches, the planner's first look
    with CaptureQueriesContext(connection) as captured:
        t0 = time.perf_counter()
        metrics = dashboard_metrics(period)
        compute_ms = (time.perf_counter() - t0) * 1000
    extra.append(
        f"aggregates computed in process in {compute_ms:.0f} ms, {len(captured)} queries "
        f"({len(metrics['listeners']['listeners'])} listeners, {metrics['listeners']['flagged']} flagged, "
        f"platform rate {metrics['listeners']['platform_rate']} per 1,000 sessions; "
        f"{metrics['causes']['evaluated']} complaints with a final evaluation, {len(metrics['causes']['rows'])} causes; "
        f"{len(metrics['by_month'])} months; load average "
        f"{os.getloadavg()[0]:.2f})"
    )
    extra.extend(
        f"  {float(q['time']) * 1000:6.1f} ms  {' '.join(q['sql'].split())[:90]}" for q in captured.captured_queries
    )
    emit(
        {
            "bench": BENCH,
            "name": "aggregates compute",
            "ms": round(compute_ms, 1),
            "queries": len(captured),
            "sql_ms": [round(float(q["time"]) * 1000, 1) for q in captured.captured_queries],
            "complaints": in_period,
        }
    )

    in_process_ready()
    counts: list[dict] = []
    client = staff_test_client(supervisor)
    for name, warmups in (("dashboard queries (cache empty)", 0), ("dashboard queries (cached)", 1)):
        if not warmups:
            drop_cached_metrics()
        status, queries, captured = count_queries(client, PATH, show=args.show_queries, warmups=warmups)
        counts.append(
            emit(
                {
                    "bench": BENCH,
                    "name": name,
                    "status": status,
                    "rows": in_period,
                    "queries": queries,
                    "limit": QUERY_LIMIT,
                    "met": queries <= QUERY_LIMIT and status == 200,
                    "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
                }
            )
        )

    loads: list[Measurement] = []
    with gunicorn_server() as server:
        base = server.base
        http = login_staff(base, supervisor, next_url=PATH)
        first = http.get(f"{base}{PATH}", allow_redirects=False, timeout=HTTP_TIMEOUT)
        if first.status_code != 200 or CHART_MARK not in first.text:
            raise RuntimeError(f"{PATH} answered {first.status_code} to {supervisor}")
        extra.append(f"dashboard page: {len(first.content) // 1024} KiB")
        runs = [
            ("dashboard (aggregates cached)", PageReader(http, f"{base}{PATH}"), args.requests),
            (
                "dashboard (cache dropped each request)",
                PageReader(http, f"{base}{PATH}", before=drop_cached_metrics),
                max(5, args.requests // 10),
            ),
        ]
        for name, reader, total in runs:
            warm_up([reader], per_client=2)
            m = run_load(BENCH, name, [reader], total=total, concurrency=1, max_seconds=args.max_seconds, server=server)
            m.target("p95 ms", m.p95, TARGET_P95)
            emit(m)
            loads.append(m)
    print_tables(BENCH, loads, counts, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
