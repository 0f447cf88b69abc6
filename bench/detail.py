"""The admin change page of one case with a 20-event timeline, as a verified consultant.

    python bench/detail.py [--complaints N] [--requests R]

In process: the SQL queries of one page (target <= 20). Over HTTP: R requests by 1 client
(target p95 <= 80 ms).
"""

from __future__ import annotations

import sys

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
    staff_test_client,
    wait_for_feature,
    warm_up,
)

BENCH = "detail"
TARGET_P95 = 80.0
QUERY_LIMIT = 20
ADMIN_CHECK = """
from django.contrib import admin
from complaints.models import Complaint
assert Complaint in admin.site._registry, "Complaint is not registered in the admin"
"""


class PageReader:
    def __init__(self, http, url: str) -> None:
        self.http = http
        self.url = url

    def __call__(self, i: int) -> Outcome:
        response = self.http.get(self.url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        ok = response.status_code == 200
        return Outcome(response.status_code, ok, note="" if ok else f"answered {response.status_code}")


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    skip = wait_for_feature("the complaint admin change page", ADMIN_CHECK)
    data = ensure_bench_database(args.complaints)
    emit(load_record(BENCH, data))
    if skip:
        emit({"bench": BENCH, "name": "change page", "skipped": skip})
        print_tables(BENCH, [], [{"name": "change page", "skipped": skip}], [])
        return 0

    from complaints.models import Complaint, TimelineEvent

    complaint = Complaint.objects.get(reference=data.timeline_reference)
    events = TimelineEvent.objects.filter(complaint=complaint).count()
    path = f"/admin/complaints/complaint/{complaint.pk}/change/"
    extra = [f"case {complaint.reference} (pk {complaint.pk}), {events} timeline events, page {path}"]

    in_process_ready()
    client = staff_test_client(data.consultant_emails[0])
    status, queries, captured = count_queries(client, path, show=args.show_queries)
    record = {
        "bench": BENCH,
        "name": f"change page queries ({events} events)",
        "status": status,
        "rows": events,
        "queries": queries,
        "limit": QUERY_LIMIT,
        "met": queries <= QUERY_LIMIT,
        "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
    }
    emit(record)

    loads: list[Measurement] = []
    with gunicorn_server() as server:
        base = server.base
        http = login_staff(base, data.consultant_emails[0])
        first = http.get(f"{base}{path}", allow_redirects=False, timeout=HTTP_TIMEOUT)
        if first.status_code != 200:
            raise RuntimeError(f"the change page answered {first.status_code} to a verified consultant")
        extra.append(f"page size {len(first.content) // 1024} KiB")
        readers = [PageReader(http, f"{base}{path}")]
        warm_up(readers, per_client=2)
        m = run_load(
            BENCH,
            "change page",
            readers,
            total=args.requests,
            concurrency=1,
            max_seconds=args.max_seconds,
            server=server,
        )
        m.target("p95 ms", m.p95, TARGET_P95)
        emit(m)
        loads.append(m)
    print_tables(BENCH, loads, [record], extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
