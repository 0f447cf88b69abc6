"""The consultant's triage list: /admin/complaints/complaint/ as a signed-in, TOTP-verified consultant.

    python bench/admin_list.py [--complaints N] [--requests R]

Over HTTP: the default changelist (whatever default filter the admin applies, redirect
followed once to find the URL), R requests by 1 client and R by 8 clients, each client its own
consultant. In process: the SQL queries of one page at 25 and 100 rows (``list_per_page``
patched on the registered ModelAdmin; the admin has no page-size parameter).
Targets: 1 client p95 <= 60 ms, 8 clients p95 <= 300 ms, <= 15 queries at any page size.
"""

from __future__ import annotations

import re
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
    log,
    login_staff,
    parse_args,
    print_tables,
    run_load,
    staff_test_client,
    wait_for_feature,
    warm_up,
)

BENCH = "admin_list"
LIST_PATH = "/admin/complaints/complaint/"
ROW_CHECKBOX = re.compile(r'name="_selected_action"')
ROW_REFERENCE = re.compile(r'class="field-reference"')
TARGET_P95_1 = 60.0
TARGET_P95_8 = 300.0
QUERY_LIMIT = 15
ADMIN_CHECK = """
from django.contrib import admin
from complaints.models import Complaint
assert Complaint in admin.site._registry, "Complaint is not registered in the admin"
"""


def rows_on(html: str) -> int:
    return len(ROW_CHECKBOX.findall(html)) or len(ROW_REFERENCE.findall(html))


class ListReader:
    def __init__(self, http, url: str) -> None:
        self.http = http
        self.url = url

    def __call__(self, i: int) -> Outcome:
        response = self.http.get(self.url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        ok = response.status_code == 200
        return Outcome(response.status_code, ok, note="" if ok else f"answered {response.status_code}")


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    skip = wait_for_feature("the complaint admin (/admin/complaints/complaint/)", ADMIN_CHECK)
    data = ensure_bench_database(args.complaints)
    emit(load_record(BENCH, data))
    loads: list[Measurement] = []
    counts: list[dict] = []
    extra: list[str] = []
    if skip:
        emit({"bench": BENCH, "name": "changelist", "skipped": skip})
        print_tables(BENCH, [], [{"name": "changelist", "skipped": skip}], [])
        return 0

    with gunicorn_server() as server:
        base = server.base
        sessions = [login_staff(base, email) for email in data.consultant_emails[:8]]
        first = sessions[0].get(f"{base}{LIST_PATH}", timeout=HTTP_TIMEOUT)
        if first.status_code != 200:
            raise RuntimeError(f"the changelist answered {first.status_code} to a verified consultant")
        final_path = first.url.removeprefix(base)
        rows = rows_on(first.text)
        extra.append(
            f"changelist URL measured: {final_path} ({len(first.history)} redirect(s) from {LIST_PATH}); "
            f"rows on the page: {rows}; page size {len(first.content) // 1024} KiB"
        )
        readers = [ListReader(http, first.url) for http in sessions]
        for clients, limit in ((1, TARGET_P95_1), (8, TARGET_P95_8)):
            warm_up(readers[:clients], per_client=2)
            m = run_load(
                BENCH,
                f"changelist ({rows} rows)",
                readers[:clients],
                total=args.requests,
                concurrency=clients,
                max_seconds=args.max_seconds,
                server=server,
            )
            m.target("p95 ms", m.p95, limit)
            emit(m)
            loads.append(m)

    # In process: the same page through Django's test Client, counting SQL.
    in_process_ready()
    from django.contrib import admin

    from complaints.models import Complaint

    model_admin = admin.site._registry[Complaint]
    client = staff_test_client(data.consultant_emails[0])
    default_per_page = model_admin.list_per_page
    extra.append(f"ModelAdmin.list_per_page is {default_per_page}; page size set by patching it in process")
    try:
        for per_page in (25, 100):
            model_admin.list_per_page = per_page
            status, queries, captured = count_queries(client, final_path, show=args.show_queries)
            response = client.get(final_path)
            record = {
                "bench": BENCH,
                "name": f"changelist queries, list_per_page={per_page}",
                "status": status,
                "rows": rows_on(response.content.decode()),
                "queries": queries,
                "limit": QUERY_LIMIT,
                "met": queries <= QUERY_LIMIT,
                "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
            }
            emit(record)
            counts.append(record)
    finally:
        model_admin.list_per_page = default_per_page
    log("done")
    print_tables(BENCH, loads, counts, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
