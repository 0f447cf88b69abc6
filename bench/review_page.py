"""The supervisor's approval queue (/review/approvals/) and a reviewer's case page, over a loaded bench.

    python bench/review_page.py [--complaints N] [--requests R]

On top of the N-complaint data set of bench/_common.py, 30,000 evaluations are bulk-loaded once
(COPY, one transaction, marked in bench_meta) over the escalated complaints: one evaluation per
reviewer plus the lead's final one, some cases with three reviewers; decisions for the decided
and closed cases, and about 50 decisions pending a supervisor's approval (with 0–3 evidence
rows each) on cases still in evaluation. Identity columns of complaints are not touched.
It runs in its own database, ``hearken_bench_review`` (BENCH_DATABASE_NAME overrides), so the
rows it adds never collide with another bench's in the shared ``hearken_bench``.

Measured: in process, the SQL queries of the approval queue (its first page: the queue shows 10
decisions a page, oldest first) as a verified supervisor and of a reviewer page at
/review/<reference>/evaluation/ as that case's lead (target <= 20 each; the reviewer page is
skipped, with the reason, when no such page is routed yet). Over HTTP, R requests by 1 client
to each (target p95 <= 80 ms).
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal

# Before _common reads it: this bench adds rows, so it keeps its own copy of the data set.
os.environ.setdefault("BENCH_DATABASE_NAME", "hearken_bench_review")

from _common import (
    BENCH_DB,
    HTTP_TIMEOUT,
    N_REVIEWERS,
    Measurement,
    Outcome,
    _copy,
    count_queries,
    emit,
    ensure_bench_database,
    gunicorn_server,
    in_process_ready,
    load_record,
    log,
    login_staff,
    parse_args,
    pg_connect,
    print_tables,
    read_meta,
    run_load,
    staff_email,
    staff_test_client,
    warm_up,
)

BENCH = "review_page"
N_EVALUATIONS = 30_000
N_PENDING = 50
MARKER_KEY = "review_evaluations"
MARKER = f"{N_EVALUATIONS} evaluations, {N_PENDING} pending decisions, v1"
QUEUE_PATH = "/review/approvals/"
TARGET_P95 = 80.0
QUERY_LIMIT = 20
DECISION_CARD = 'data-testid="approve"'
SEED = 2026_05

# What a reviewer writes, varied a little so rows are not all alike.
FACTS = [("substantiated", "录音显示倾听师多次打断用户，并评价用户“想太多”。"), ("partly", "部分属实：通话确有中断，但时长与订单基本一致。"), ("not", "录音与聊天记录均不能证实投诉所述情况。")]  # fmt: skip
DEMANDS = [("reasonable", "诉求合理，与平台规则一致。"), ("partly", "道歉合理，全额退款过高。"), ("unreasonable", "诉求超出倾诉服务范围。")]  # fmt: skip
LEVEL_OF_FACTS = {"substantiated": [2, 2, 3, 1, 4], "partly": [1, 1, 2], "not": [0]}
GRADE_MEASURES = {
    0: ([], ["coordination", "explanation"]),
    1: (["feedback", "continued_learning"], ["apology", "explanation"]),
    2: (["feedback", "supervision_sessions", "personal_therapy", "hide_profile"], ["apology", "partial_refund"]),
    3: (["competency_interview", "suspend_orders"], ["apology", "full_refund", "compensation"]),
    4: (["delist", "report_to_authorities"], ["apology", "full_refund", "compensation"]),
}


class PageReader:
    def __init__(self, http, url: str) -> None:
        self.http = http
        self.url = url

    def __call__(self, i: int) -> Outcome:
        response = self.http.get(self.url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        ok = response.status_code == 200
        return Outcome(response.status_code, ok, note="" if ok else f"answered {response.status_code}")


# --- data -------------------------------------------------------------------------------------


def _user_ids(cur, emails: list[str]) -> dict[str, int]:
    rows = cur.execute("SELECT email, id FROM accounts_user WHERE email = ANY(%s)", [emails]).fetchall()
    found = dict(rows)
    missing = [e for e in emails if e not in found]
    if missing:
        raise RuntimeError(f"bench accounts missing: {', '.join(missing)}")
    return found


def load_review_data() -> dict[str, int]:
    """Evaluations, reviewer assignments, decisions (some pending) and evidence rows, with COPY."""
    rng = random.Random(SEED)
    with pg_connect(BENCH_DB) as conn, conn.cursor() as cur:
        if cur.execute("SELECT EXISTS (SELECT 1 FROM evaluations_evaluation)").fetchone()[0]:
            raise RuntimeError(
                "evaluations_evaluation already has rows but bench_meta has no review marker: "
                "reload the bench database (drop hearken_bench) and run again"
            )
        reviewers = list(_user_ids(cur, [staff_email("reviewer", k) for k in range(1, N_REVIEWERS + 1)]).values())
        supervisor = _user_ids(cur, [staff_email("supervisor", 1)])[staff_email("supervisor", 1)]
        grades = dict(cur.execute("SELECT level, id FROM evaluations_grade").fetchall())
        cases = cur.execute(
            """SELECT c.id, c.state, c.assigned_reviewer_id, c.submitted_at, c.complainant_id, s.amount
               FROM complaints_complaint c JOIN listeners_listeningsession s ON s.id = c.session_id
               WHERE c.assigned_reviewer_id IS NOT NULL
                 AND c.state IN ('evaluation', 'decided', 'follow_up', 'closed', 'archived')
               ORDER BY c.id"""
        ).fetchall()
        rng.shuffle(cases)
        # The pending decisions first, so they exist whatever N is.
        in_evaluation = [c for c in cases if c[1] == "evaluation"]
        if len(in_evaluation) < N_PENDING:
            raise RuntimeError(f"only {len(in_evaluation)} cases in evaluation; need {N_PENDING}")
        pending_ids = {c[0] for c in in_evaluation[:N_PENDING]}
        cases.sort(key=lambda c: (c[0] not in pending_ids, rng.random()))

        next_id = {
            t: cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone()[0]
            for t in ("evaluations_evaluation", "evaluations_decision")
        }
        evaluations, assignments, decisions, attachments = [], [], [], []
        n_three = 0
        for cid, state, lead, submitted, complainant, amount in cases:
            if len(evaluations) >= N_EVALUATIONS:
                break
            pending = cid in pending_ids
            n_reviewers = rng.choices([1, 2, 3], [60, 20, 20])[0]
            if pending and cid % 3 == 0:
                n_reviewers = 3
            others = rng.sample([r for r in reviewers if r != lead], n_reviewers - 1)
            n_three += n_reviewers == 3
            facts, facts_why = rng.choice(FACTS)
            level = 2 if pending and cid % 2 == 0 else 3 if pending else rng.choice(LEVEL_OF_FACTS[facts])
            if level == 0:
                facts, facts_why = FACTS[2]
            outcome = "A" if level == 0 else "B"
            started = submitted + timedelta(days=rng.randrange(3, 10))
            for k, reviewer in enumerate([*others, lead]):
                assigned_at = submitted + timedelta(days=2, hours=k)
                if reviewer != lead:
                    assignments.append((cid, reviewer, False, lead, assigned_at))
                proposed = grades[_individual_level(rng, level)]
                evaluations.append(
                    _evaluation(rng, next_id, cid, reviewer, False, facts, facts_why, outcome, proposed,
                                started + timedelta(hours=k), "")
                )  # fmt: skip
            final = _evaluation(rng, next_id, cid, lead, True, facts, facts_why, outcome, grades[level],
                                started + timedelta(days=1),
                                "评估人对等级有不同意见，经讨论按多数意见处理。" if n_reviewers > 1 and rng.random() < 0.4 else "")  # fmt: skip
            evaluations.append(final)
            if state == "evaluation" and not pending:
                continue
            measures, remedies = GRADE_MEASURES[level]
            refund = compensation = None
            if "partial_refund" in remedies:
                refund = (Decimal(amount) * Decimal("0.4")).quantize(Decimal("0.01"))
            if "full_refund" in remedies:
                refund = Decimal(amount)
            if "compensation" in remedies:
                compensation = Decimal("100.00")
            drafted = started + timedelta(days=2)
            did = next_id["evaluations_decision"]
            next_id["evaluations_decision"] += 1
            decisions.append(
                (
                    did,
                    cid,
                    final[0],
                    grades[level],
                    measures,
                    remedies,
                    refund,
                    compensation,
                    "",
                    f"经专业组评估（{level} 级），平台向您说明处理结果。谢谢您的耐心。",
                    f"专业组的评估结论为 {level} 级，请查看需要完成的事项。",
                    "pending",
                    "",
                    "pending_approval" if pending else "notified",
                    lead,
                    None if pending or level < 2 else supervisor,
                    None if pending or level < 2 else drafted + timedelta(hours=4),
                    "",
                    None if pending else drafted + timedelta(hours=6),
                    drafted,
                )
            )
            if pending:
                for k in range(cid % 4):
                    digest = hashlib.sha256(f"{cid}-{k}".encode()).hexdigest()
                    attachments.append(
                        (uuid.uuid4(), cid, f"complaints/bench/{digest[:32]}", f"聊天截图{k + 1}.png", "image/png",
                         40_000 + k * 1_000, digest, complainant, submitted)
                    )  # fmt: skip

        _copy(
            cur,
            "evaluations_reviewerassignment",
            ["complaint_id", "reviewer_id", "is_lead", "assigned_by_id", "assigned_at"],
            assignments,
        )
        _copy(cur, "evaluations_evaluation", EVALUATION_COLUMNS, evaluations)
        _copy(cur, "evaluations_decision", DECISION_COLUMNS, decisions)
        _copy(
            cur,
            "complaints_attachment",
            ["public_id", "complaint_id", "file", "original_name", "content_type", "size", "sha256",
             "uploaded_by_id", "created_at"],
            attachments,
        )  # fmt: skip
        for table in ("evaluations_evaluation", "evaluations_decision", "evaluations_reviewerassignment"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute(
            "INSERT INTO bench_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [MARKER_KEY, MARKER],
        )
        conn.commit()
        counts = {
            "evaluations": len(evaluations),
            "cases": len({e[1] for e in evaluations}),
            "cases_with_3_reviewers": n_three,
            "assignments": len(assignments),
            "decisions": len(decisions),
            "pending": sum(1 for d in decisions if d[13] == "pending_approval"),
            "attachments": len(attachments),
        }
    with pg_connect(BENCH_DB, autocommit=True) as conn:
        for table in ("evaluations_evaluation", "evaluations_decision", "evaluations_reviewerassignment"):
            conn.execute(f"ANALYZE {table}")
        conn.execute("ANALYZE complaints_attachment")
    return counts


EVALUATION_COLUMNS = [
    "id", "complaint_id", "reviewer_id", "is_final", "facts", "facts_rationale", "evidence_cited", "demand",
    "demand_rationale", "finding_competence_gap", "finding_subjective_harm", "finding_inducing_orders",
    "finding_illegality", "competence_rationale", "awareness", "reflection", "awareness_rationale", "outcome",
    "proposed_grade_id", "outcome_rationale", "disagreements", "submitted_at", "created_at", "updated_at",
]  # fmt: skip
DECISION_COLUMNS = [
    "id", "complaint_id", "evaluation_id", "grade_id", "measures", "remedies", "refund_amount",
    "compensation_amount", "adjustment_reason", "text_to_complainant", "text_to_listener", "listener_response",
    "listener_response_reason", "state", "decided_by_id", "approved_by_id", "approved_at", "returned_reason",
    "notified_at", "created_at",
]  # fmt: skip


def _individual_level(rng: random.Random, level: int) -> int:
    """A reviewer's own proposal: the final grade, or one step either side within outcome B."""
    if level < 2:
        return level
    return min(4, level + rng.choice([-1, 0, 0, 1]))


def _evaluation(rng, next_id, cid, reviewer, final, facts, facts_why, outcome, grade_id, at, disagreements) -> tuple:
    eid = next_id["evaluations_evaluation"]
    next_id["evaluations_evaluation"] += 1
    demand, demand_why = rng.choice(DEMANDS)
    gap = outcome == "B"
    return (
        eid, cid, reviewer, final, facts, facts_why, "通话录音第 12–20 分钟；聊天截图。", demand, demand_why,
        gap, gap and rng.random() < 0.6, rng.random() < 0.05, rng.random() < 0.01,
        "共情不足，多次打断用户，对用户造成伤害。" if gap else "未发现明显的胜任力不足。",
        rng.randint(1, 4), rng.randint(1, 4), "事后经提示才觉察，陈述中有一定反思。", outcome, grade_id,
        "存在明显的胜任力不足。" if gap else "没有明确不足，由平台与用户协调。", disagreements, at, at, at,
    )  # fmt: skip


def ensure_review_data() -> dict[str, object]:
    meta = read_meta()
    if meta.get(MARKER_KEY) == MARKER:
        log(f"review data already loaded ({MARKER}): not loading again")
        return {"loaded_now": False}
    log(f"loading {N_EVALUATIONS} evaluations and {N_PENDING} pending decisions")
    started = time.monotonic()
    counts = load_review_data()
    seconds = round(time.monotonic() - started, 1)
    log(f"loaded review data in {seconds}s: {counts}")
    return {"loaded_now": True, "seconds": seconds, **counts}


# --- the reviewer page (another engineer's) -----------------------------------------------------


def reviewer_page_path(reference: str) -> tuple[str, str | None]:
    """The reviewer page's path, and why it is skipped (None when it is routed)."""
    from django.urls import Resolver404, resolve

    path = f"/review/{reference}/evaluation/"
    try:
        match = resolve(path)
    except Resolver404:
        return path, f"no view is routed at /review/<reference>/evaluation/ yet ({path} is a 404)"
    return path, None if match.func is not None else f"{path} resolves to nothing"


def reviewer_case() -> tuple[str, str]:
    """A case in evaluation with three reviewers and a pending decision: (reference, lead's email)."""
    from complaints.models import Complaint
    from evaluations.models import ReviewerAssignment

    multi = (
        ReviewerAssignment.objects.filter(complaint__state="evaluation", complaint__decision__state="pending_approval")
        .values("complaint_id")
        .order_by("complaint_id")
    )
    complaint = (
        Complaint.objects.filter(pk__in=multi).select_related("assigned_reviewer").only(
            "reference", "assigned_reviewer__email"
        ).order_by("pk").first()
    )  # fmt: skip
    if complaint is None or complaint.assigned_reviewer is None:
        raise RuntimeError("no case in evaluation with several reviewers was loaded")
    return complaint.reference, complaint.assigned_reviewer.email


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    data = ensure_bench_database(args.complaints)
    emit(load_record(BENCH, data))
    review_load = ensure_review_data()
    emit({"bench": BENCH, "name": "review data load", **review_load})

    from evaluations.models import Decision, Evaluation

    pending = Decision.objects.filter(state="pending_approval").count()
    evaluations = Evaluation.objects.count()
    supervisor = staff_email("supervisor", 1)
    reference, lead = reviewer_case()
    reviewer_path, skip_reviewer = reviewer_page_path(reference)
    extra = [
        f"{evaluations} evaluations in the bench database; {pending} decisions pending approval",
        f"supervisor {supervisor}; reviewer page case {reference} (lead {lead})",
    ]

    in_process_ready()
    counts: list[dict] = []
    status, queries, captured = count_queries(staff_test_client(supervisor), QUEUE_PATH, show=args.show_queries)
    counts.append(
        emit(
            {
                "bench": BENCH,
                "name": f"approval queue queries ({pending} pending)",
                "status": status,
                "rows": pending,
                "queries": queries,
                "limit": QUERY_LIMIT,
                "met": queries <= QUERY_LIMIT and status == 200,
                "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
            }
        )
    )
    if skip_reviewer:
        log(f"reviewer page skipped: {skip_reviewer}")
        counts.append(emit({"bench": BENCH, "name": "reviewer page queries", "skipped": skip_reviewer}))
    else:
        status, queries, captured = count_queries(staff_test_client(lead), reviewer_path, show=args.show_queries)
        counts.append(
            emit(
                {
                    "bench": BENCH,
                    "name": "reviewer page queries (3 reviewers)",
                    "status": status,
                    "rows": 3,
                    "queries": queries,
                    "limit": QUERY_LIMIT,
                    "met": queries <= QUERY_LIMIT and status == 200,
                    "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
                }
            )
        )
        if status != 200:
            extra.append(f"reviewer page answered {status} in process to the case's lead")

    loads: list[Measurement] = []
    with gunicorn_server() as server:
        base = server.base
        pages = [("approval queue", supervisor, QUEUE_PATH)]
        if not skip_reviewer:
            pages.append(("reviewer page", lead, reviewer_path))
        for name, email, path in pages:
            http = login_staff(base, email, next_url=path)
            first = http.get(f"{base}{path}", allow_redirects=False, timeout=HTTP_TIMEOUT)
            if first.status_code != 200:
                raise RuntimeError(f"{path} answered {first.status_code} to {email}")
            size = len(first.content) // 1024
            if path == QUEUE_PATH:
                from evaluations.views_approvals import QUEUE_PAGE_SIZE

                cards = first.text.count(DECISION_CARD)
                extra.append(
                    f"approval queue: {cards} of {pending} pending decisions on its first page "
                    f"(page size {QUEUE_PAGE_SIZE}, oldest first), {size} KiB"
                )
                if cards != min(pending, QUEUE_PAGE_SIZE):
                    raise RuntimeError(f"the queue shows {cards} decisions, the database has {pending} pending")
            else:
                extra.append(f"reviewer page: {size} KiB")
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
