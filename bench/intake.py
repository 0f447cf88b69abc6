"""Intake throughput: complaints filed through the web form and through the API.

    python bench/intake.py [--complaints N] [--requests R]

Web form: each filing is GET /complaints/new/ (form and CSRF token) then POST with a fresh
submission_key and one of the complainant's sessions; success is a 302 to
/complaints/<ref>/submitted/. API: POST /api/v1/complaints/ with a fresh Idempotency-Key;
success is a 201. Each: R filings by 1 client, then R by 8 clients, every client its own
complainant. Target at 8 clients: >= 100 complaints/s and p95 <= 100 ms (the filing request:
the POST). After each run the number of new complaints must equal the number of successes.
"""

from __future__ import annotations

import re
import sys
import time

from _common import (
    HTTP_TIMEOUT,
    Measurement,
    Outcome,
    csrf_from,
    emit,
    ensure_bench_database,
    fresh_key,
    gunicorn_server,
    load_record,
    login_complainant,
    new_http,
    parse_args,
    print_tables,
    run_load,
    wait_for_feature,
    warm_up,
)

BENCH = "intake"
SUBMITTED = re.compile(r"^/complaints/TS-\d{4}-\d{6}/submitted/$")
SESSION_SELECT = re.compile(r'<select name="session"[^>]*>(.*?)</select>', re.S)
OPTION_VALUE = re.compile(r'<option value="(\d+)"')
CONSENT_VERSION = re.compile(r'name="consent_version" value="([^"]+)"')
CONTENT = "倾听师在通话中多次打断我，还说我想太多。订单时长也和实际不符。（bench {i}）"
IDENTITY = {"real_name": "张晓明", "id_number": "11010519491231002X", "phone": "13812345678"}
TARGET_RATE = 100.0
TARGET_P95_MS = 100.0
API_CHECK = """
from django.urls import resolve
view = resolve("/api/v1/complaints/").func.view_class
assert hasattr(view, "post"), "the API does not accept POST yet"
"""


class WebFiler:
    """One complainant filing through the form, with their own signed-in session."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        self.url = f"{base}/complaints/new/"
        self.http = login_complainant(base, email)
        self.sessions: list[str] = []

    def __call__(self, i: int) -> Outcome:
        t0 = time.perf_counter()
        page = self.http.get(self.url, timeout=HTTP_TIMEOUT)
        t1 = time.perf_counter()
        if page.status_code != 200:
            return Outcome(
                page.status_code, False, {"GET form": (t1 - t0) * 1000}, f"GET form answered {page.status_code}"
            )
        if not self.sessions:
            select = SESSION_SELECT.search(page.text)
            self.sessions = OPTION_VALUE.findall(select.group(1)) if select else []
            if not self.sessions:
                raise RuntimeError("the form offers no session to complain about")
        version = CONSENT_VERSION.search(page.text)
        data = {
            "csrfmiddlewaretoken": csrf_from(page.text),
            "session": self.sessions[i % len(self.sessions)],
            "order_no": "",
            "category": "professional_competence",
            "content": CONTENT.format(i=i),
            "demands": ["apology", "explanation"],
            "demands_other": "",
            **IDENTITY,
            "consent": "on",
            "consent_version": version.group(1) if version else "",
            "submission_key": fresh_key(),
        }
        posted = self.http.post(
            self.url, data=data, headers={"Referer": self.url}, allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        t2 = time.perf_counter()
        parts = {"GET form": (t1 - t0) * 1000, "POST (files the complaint)": (t2 - t1) * 1000}
        ok = posted.status_code == 302 and bool(SUBMITTED.match(posted.headers.get("Location", "")))
        note = "" if ok else f"POST answered {posted.status_code} {posted.headers.get('Location', '')}".strip()
        return Outcome(posted.status_code, ok, parts, note)


class ApiFiler:
    """One complainant filing through the API: token auth, or session auth with the CSRF header."""

    def __init__(self, base: str, email: str, order_nos: list[str], consent_version: str, token: str | None) -> None:
        self.url = f"{base}/api/v1/complaints/"
        self.order_nos = order_nos
        self.consent_version = consent_version
        if token is not None:
            self.http = new_http()
            self.http.headers["Authorization"] = f"Token {token}"
        else:
            self.http = login_complainant(base, email)
            self.http.headers["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")
            self.http.headers["Referer"] = self.url

    def __call__(self, i: int) -> Outcome:
        body = {
            "order_no": self.order_nos[i % len(self.order_nos)],
            "category": "professional_competence",
            "content": CONTENT.format(i=i),
            "demands": ["apology", "explanation"],
            "demands_other": "",
            **IDENTITY,
            "consent": True,
            "consent_version": self.consent_version,
        }
        response = self.http.post(self.url, json=body, headers={"Idempotency-Key": fresh_key()}, timeout=HTTP_TIMEOUT)
        ok = response.status_code == 201
        return Outcome(response.status_code, ok, note="" if ok else f"{response.status_code} {response.text[:160]}")


def complaint_count() -> int:
    from complaints.models import Complaint

    return Complaint.objects.count()


def measured(name: str, callables: list, *, clients: int, total: int, max_seconds: float, server) -> Measurement:
    """One run, checked against the database: every success is exactly one new complaint."""
    warm_up(callables[:clients], per_client=1)
    before = complaint_count()
    m = run_load(
        BENCH, name, callables[:clients], total=total, concurrency=clients, max_seconds=max_seconds, server=server
    )
    created = complaint_count() - before
    m.notes.append(
        f"new complaints in the database: {created}, successes: {m.ok} ({'match' if created == m.ok else 'MISMATCH'})"
    )
    if created != m.ok:
        m.targets.append({"what": "new rows == successes", "value": created, "limit": f"== {m.ok}", "met": False})
    return m


def api_auth_mode(base: str, token: str) -> str:
    http = new_http()
    http.headers["Authorization"] = f"Token {token}"
    probe = http.get(f"{base}/api/v1/complaints/?page_size=1", timeout=HTTP_TIMEOUT)
    return "token" if probe.status_code == 200 else f"session (token auth answered {probe.status_code})"


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    api_skip = wait_for_feature("the complaints API (POST /api/v1/complaints/)", API_CHECK)
    data = ensure_bench_database(args.complaints)
    emit(load_record(BENCH, data))

    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from complaints.models import ConsentText
    from listeners.models import ListeningSession

    web_users = data.complainant_emails[0:8]
    api_users = data.complainant_emails[8:16]
    loads: list[Measurement] = []
    extra: list[str] = []
    with gunicorn_server() as server:
        base = server.base
        web = [WebFiler(base, email) for email in web_users]
        for clients in (1, 8):
            m = measured(
                "web form GET+POST per complaint",
                web,
                clients=clients,
                total=args.requests,
                max_seconds=args.max_seconds,
                server=server,
            )
            if clients == 8:
                m.target("complaints/s", m.ok / m.seconds if m.seconds else 0.0, TARGET_RATE, at_least=True)
                m.target("POST p95 ms", m.parts.get("POST (files the complaint)", {}).get("p95", 0.0), TARGET_P95_MS)
                m.target("GET+POST p95 ms", m.p95, TARGET_P95_MS)
            emit(m)
            loads.append(m)

        if api_skip:
            extra.append(f"API intake skipped: {api_skip}")
            emit({"bench": BENCH, "name": "API POST", "skipped": api_skip})
        else:
            consent_version = ConsentText.objects.get(is_current=True).version
            filers = []
            mode = ""
            for email in api_users:
                user = User.objects.get(email=email)
                token, _ = Token.objects.get_or_create(user=user)
                mode = mode or api_auth_mode(base, token.key)
                order_nos = list(
                    ListeningSession.objects.filter(complainant=user).order_by("id").values_list("order_no", flat=True)
                )
                filers.append(ApiFiler(base, email, order_nos, consent_version, token.key if mode == "token" else None))
            extra.append(f"API authentication used: {mode}")
            for clients in (1, 8):
                m = measured(
                    "API POST /api/v1/complaints/",
                    filers,
                    clients=clients,
                    total=args.requests,
                    max_seconds=args.max_seconds,
                    server=server,
                )
                if clients == 8:
                    m.target("complaints/s", m.ok / m.seconds if m.seconds else 0.0, TARGET_RATE, at_least=True)
                    m.target("p95 ms", m.p95, TARGET_P95_MS)
                emit(m)
                loads.append(m)

    load_line = f"data: {data.complaints} complaints, {len(data.complainant_emails)} complainants; " + (
        f"loaded in {data.load_seconds:.1f}s" if data.load_seconds is not None else "already loaded (marker)"
    )
    print_tables(BENCH, loads, [], [load_line, *extra])
    return 0


if __name__ == "__main__":
    sys.exit(main())
