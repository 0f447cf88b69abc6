"""The listener portal's home and complaint list for a listener with 500 shared complaints and 200 tasks.

    python bench/portal.py [--complaints N] [--requests R]

The bench data set (N complaints, default 100000) is loaded as by the other benches; on top of it
this script adds, once, its own listener (portal-listener@bench.hearken.local) with 500 complaints
shared with them (a statement requested for each; 20 of them also carry a notified decision),
200 tasks from those decisions, 30 open questions and one interview in each open state. Nothing
of the other benches is changed.

In process: the SQL queries of each page (target <= 15). Over HTTP: R requests by 1 client per
page (target p95 <= 60 ms): the home, the complaint list and the list filtered to the complaints
needing the listener (where the home's "see all" links lead).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from decimal import Decimal

from _common import (
    HTTP_TIMEOUT,
    PASSWORD,
    Measurement,
    Outcome,
    complainant_email,
    count_queries,
    emit,
    ensure_bench_database,
    gunicorn_server,
    in_process_ready,
    load_record,
    log,
    login_complainant,
    md5_password,
    parse_args,
    print_tables,
    run_load,
    staff_email,
    wait_for_feature,
    warm_up,
)

BENCH = "portal"
TARGET_P95 = 60.0
QUERY_LIMIT = 15
N_SHARED = 500
N_DECISIONS = 20
TASKS_PER_DECISION = 10
N_QUESTIONS = 30
INTERVIEW_STATES = ["requested", "scheduling", "materials_due", "scheduled"]
EMAIL = "portal-listener@bench.hearken.local"
CODE = "BPORTAL1"
PAGES = [
    ("portal home", "/portal/"),
    ("complaint list", "/portal/complaints/"),
    ("complaint list, needing action", "/portal/complaints/?todo=1"),
]
PORTAL_CHECK = """
from django.urls import reverse
reverse("portal:listener_home"); reverse("portal:complaints")
"""


def ensure_portal_listener() -> str:
    """The bench listener with its shared complaints and tasks; created once, in one transaction."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from complaints.models import Complaint
    from evaluations.models import (
        Decision,
        DecisionState,
        Evaluation,
        Grade,
        ListenerStatement,
        ListenerTask,
        Measure,
        TaskState,
    )
    from listeners.models import ListenerProfile, ListeningSession

    profile = ListenerProfile.objects.filter(code=CODE).first()
    if profile is not None:
        shared = Complaint.objects.filter(listener=profile, listener_statement__isnull=False).count()
        tasks = ListenerTask.objects.filter(listener=profile).count()
        if shared == N_SHARED and tasks == N_DECISIONS * TASKS_PER_DECISION:
            log(f"portal listener already loaded ({shared} shared complaints, {tasks} tasks)")
            return EMAIL
        raise RuntimeError(f"{EMAIL} exists with {shared} complaints and {tasks} tasks; reload the bench database")

    now = timezone.now()
    template = Complaint.objects.filter(state="investigation").order_by("pk").first()
    if template is None:
        raise RuntimeError("the bench data set has no complaint in investigation to copy")
    complainant = User.objects.get(email=complainant_email(1))
    reviewer = User.objects.get(email=staff_email("reviewer", 1))
    grade = Grade.objects.get(level=2)
    skip = {"id", "reference", "session", "listener", "state", "submission_key", "public_id"}
    copied = {
        f.attname: getattr(template, f.attname)
        for f in Complaint._meta.concrete_fields
        if f.name not in skip and not f.primary_key
    }
    with transaction.atomic():
        user = User(email=EMAIL, display_name="门户压测倾听师", language="zh-hans", is_active=True)
        user.password = md5_password(PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name="listener"))
        profile = ListenerProfile.objects.create(
            user=user, code=CODE, display_name="门户压测倾听师", status="active", certificate_number="CERT-PORTAL"
        )
        sessions = ListeningSession.objects.bulk_create(
            ListeningSession(
                order_no=f"BP2026{i:07d}",
                complainant=complainant,
                listener=profile,
                channel="voice",
                started_at=now - timedelta(days=200) + timedelta(hours=9 * i),
                duration_minutes=45,
                amount=Decimal("99.00"),
            )
            for i in range(N_SHARED)
        )
        decided = set(range(0, N_SHARED, N_SHARED // N_DECISIONS))
        complaints = Complaint.objects.bulk_create(
            Complaint(
                **copied,
                reference=f"PB-2026-{i + 1:06d}",
                session=s,
                listener=profile,
                state="follow_up" if i in decided else ("investigation" if i % 2 else "evaluation"),
            )
            for i, s in enumerate(sessions)
        )
        # Every complaint was shared by asking for a statement; most statements are in.
        ListenerStatement.objects.bulk_create(
            ListenerStatement(
                complaint=c,
                listener=profile,
                body="我的陈述。" if i % 10 else "",
                submitted_at=s.started_at + timedelta(days=3) if i % 10 else None,
            )
            for i, (c, s) in enumerate(zip(complaints, sessions, strict=True))
        )
        with_decision = [c for i, c in enumerate(complaints) if i in decided]
        evaluations = Evaluation.objects.bulk_create(
            Evaluation(complaint=c, reviewer=reviewer, is_final=True, outcome="B", submitted_at=now)
            for c in with_decision
        )
        decisions = Decision.objects.bulk_create(
            Decision(
                complaint=c,
                evaluation=e,
                grade=grade,
                measures=[Measure.FEEDBACK, Measure.CONTINUED_LEARNING],
                text_to_complainant="平台向您致歉。",
                text_to_listener="请完成以下任务。",
                state=DecisionState.NOTIFIED,
                decided_by=reviewer,
                notified_at=now - timedelta(days=10),
            )
            for c, e in zip(with_decision, evaluations, strict=True)
        )
        kinds = [Measure.FEEDBACK, Measure.CONTINUED_LEARNING, Measure.SUPERVISION_SESSIONS]
        states = [TaskState.OPEN, TaskState.SUBMITTED, TaskState.SUBMITTED, TaskState.VERIFIED]
        ListenerTask.objects.bulk_create(
            ListenerTask(
                decision=d,
                listener=profile,
                kind=kinds[k % len(kinds)],
                description="阅读书面反馈并提交反思。",
                due_at=now + timedelta(days=k + j),
                state=states[(k + j) % len(states)],
            )
            for j, d in enumerate(decisions)
            for k in range(TASKS_PER_DECISION)
        )
    log(f"created {EMAIL}: {len(complaints)} shared complaints, {len(decisions)} decisions, 200 tasks")
    return EMAIL


def ensure_open_questions_and_interviews(email: str) -> None:
    """Once, on top of the listener's cases: questions to answer and one interview in each open
    state, so the home's every kind of open item is read. Added to an existing bench listener too."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from complaints.models import Complaint
    from evaluations.models import InformationRequest
    from interviews.models import CompetencyInterview, InterviewSlot, InterviewState
    from listeners.models import ListenerProfile

    profile = ListenerProfile.objects.get(user__email=email)
    if CompetencyInterview.objects.filter(listener=profile).exists():
        return
    now = timezone.now()
    reviewer = User.objects.get(email=staff_email("reviewer", 1))
    investigated = list(Complaint.objects.filter(listener=profile, state="investigation").order_by("pk")[:N_QUESTIONS])
    with transaction.atomic():
        InformationRequest.objects.bulk_create(
            InformationRequest(
                complaint=c,
                party="listener",
                question="当时您为什么结束了通话？",
                asked_by=reviewer,
                due_at=now + timedelta(days=1 + i % 7),
            )
            for i, c in enumerate(investigated)
        )
        for k, state in enumerate(INTERVIEW_STATES):
            interview = CompetencyInterview.objects.create(
                listener=profile,
                complaint=investigated[k],
                reason="处理决定要求进行胜任力考核面试。",
                requested_by=reviewer,
                state=state,
            )
            if state in (InterviewState.MATERIALS_DUE, InterviewState.SCHEDULED):
                starts = now + timedelta(days=5 + k)
                InterviewSlot.objects.create(
                    starts_at=starts, ends_at=starts + timedelta(hours=1), published_by=reviewer, interview=interview
                )
    log(f"added {len(investigated)} open questions and {len(INTERVIEW_STATES)} open interviews to {email}")


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
    skip = wait_for_feature("the listener portal", PORTAL_CHECK)
    data = ensure_bench_database(args.complaints)
    emit(load_record(BENCH, data))
    if skip:
        emit({"bench": BENCH, "name": "portal", "skipped": skip})
        print_tables(BENCH, [], [{"name": "portal", "skipped": skip}], [])
        return 0

    from django.test import Client

    from accounts.models import User

    email = ensure_portal_listener()
    ensure_open_questions_and_interviews(email)
    extra = [
        f"listener {email}: {N_SHARED} shared complaints, {N_DECISIONS * TASKS_PER_DECISION} tasks, "
        f"{N_QUESTIONS} open questions, {len(INTERVIEW_STATES)} open interviews"
    ]

    in_process_ready()
    client = Client()
    client.force_login(User.objects.get(email=email))
    counts = []
    for name, path in PAGES:
        status, queries, captured = count_queries(client, path, show=args.show_queries)
        if status != 200:
            raise RuntimeError(f"{path} answered {status} to the bench listener")
        counts.append(
            emit(
                {
                    "bench": BENCH,
                    "name": f"{name} queries",
                    "status": status,
                    "rows": N_SHARED,
                    "queries": queries,
                    "limit": QUERY_LIMIT,
                    "met": queries <= QUERY_LIMIT,
                    "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
                }
            )
        )

    loads: list[Measurement] = []
    with gunicorn_server() as server:
        base = server.base
        http = login_complainant(base, email)
        for name, path in PAGES:
            first = http.get(f"{base}{path}", allow_redirects=False, timeout=HTTP_TIMEOUT)
            if first.status_code != 200:
                raise RuntimeError(f"{path} answered {first.status_code} over HTTP")
            extra.append(f"{path}: page size {len(first.content) // 1024} KiB")
            readers = [PageReader(http, f"{base}{path}")]
            warm_up(readers, per_client=3)
            m = run_load(
                BENCH, name, readers, total=args.requests, concurrency=1, max_seconds=args.max_seconds, server=server
            )
            m.target("p95 ms", m.p95, TARGET_P95)
            emit(m)
            loads.append(m)
    print_tables(BENCH, loads, counts, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
