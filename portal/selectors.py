"""What a listener may see in the portal. Every query here is scoped to one ListenerProfile.

A complaint reaches its listener only once the group has shared it: a statement was requested
(a ListenerStatement exists) or a decision was notified. Nothing here loads the complainant.
"""

from __future__ import annotations

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Window
from django.http import Http404

from accounts.models import User
from accounts.roles import Role
from complaints.models import Complaint, ComplaintState
from core import access
from evaluations.models import (
    Appeal,
    DecisionState,
    InformationRequest,
    ListenerStatement,
    ListenerTask,
    Party,
    TaskState,
)
from interviews.models import OPEN_STATES, CompetencyInterview, InterviewPlanItem, InterviewState, PlanItemState
from listeners.models import ListenerProfile, ListenerStatusChange

# While the group is still investigating, the listener's account can inform the evaluation.
STATEMENT_STATES = [ComplaintState.INVESTIGATION, ComplaintState.EVALUATION]
SHARED = Q(listener_statement__isnull=False) | Q(decision__state=DecisionState.NOTIFIED)


def first_with_total(rows: QuerySet, limit: int) -> tuple[list[dict], int]:
    """The first ``limit`` rows of a values() queryset and how many there are in all, in one query
    (a window count, computed before the LIMIT)."""
    first = list(rows.annotate(total_rows=Window(Count("pk")))[:limit])
    return first, (first[0]["total_rows"] if first else 0)


def listener_profile_for(user: User) -> ListenerProfile | None:
    """The signed-in listener's profile, or None when the user is not a listener with a profile."""
    if not user.is_authenticated or not user.has_role(Role.LISTENER):
        return None
    return ListenerProfile.objects.filter(user=user).first()


def latest_status_change(listener: ListenerProfile) -> ListenerStatusChange | None:
    return ListenerStatusChange.objects.filter(listener=listener).order_by("-created_at", "-id").first()


def shared_complaints_for(listener: ListenerProfile, *, needing_action: bool = False) -> QuerySet:
    """Complaints about this listener that the group has shared with them, latest session first,
    as dicts of the columns the list shows: never the complainant's identity (nor its decryption).

    Sorted by the session's time, the date the list shows. NULLS LAST (the column is never null)
    is an order no single-column index provides, so Postgres takes the listener's rows by the
    listener index and sorts them; given an index in the requested order it walked that index
    backwards over every complaint of every listener (~45 ms at 100,000 complaints) looking for
    thirty of this listener's. ``needing_action`` keeps the complaints with a statement to write
    or a question to answer.
    """
    complaints = Complaint.objects.filter(SHARED, listener=listener)
    if needing_action:
        unanswered = InformationRequest.objects.filter(complaint=OuterRef("pk"), party=Party.LISTENER, answered_at=None)
        statement_due = Q(
            state__in=STATEMENT_STATES, listener_statement__isnull=False, listener_statement__submitted_at=None
        )
        complaints = complaints.filter(statement_due | Exists(unanswered))
    return complaints.order_by(F("session__started_at").desc(nulls_last=True), "-pk").values(
        "id",
        "state",
        order_no=F("session__order_no"),
        started_at=F("session__started_at"),
        channel=F("session__channel"),
    )


def shared_complaint_get(listener: ListenerProfile, pk: int) -> Complaint:
    """One shared complaint about this listener; any other complaint is a 404 (not a 403), so its
    existence is not revealed.

    Not asked of ``core.access``: its complaint rule gives listeners no complaint at all (nor the
    statements, questions and decisions that follow it), and sharing is this rule's.
    """
    complaint = (
        Complaint.objects.filter(SHARED, listener=listener, pk=pk)
        .select_related("session", "listener_statement", "decision__grade")
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


def questions_for(complaint: Complaint) -> list[InformationRequest]:
    return list(InformationRequest.objects.filter(complaint=complaint, party=Party.LISTENER).order_by("asked_at", "id"))


def listener_appeal_for(decision) -> Appeal | None:
    return decision.appeals.filter(party=Party.LISTENER).first()


# The home's open items come as dicts of the few columns it shows (values(): no model instances,
# no deferred-field bookkeeping), never the statement's body nor anything of the complainant.


def open_statements_for(listener: ListenerProfile) -> QuerySet:
    """Statements still to write, soonest due first."""
    return (
        ListenerStatement.objects.filter(
            listener=listener,
            complaint__listener=listener,
            complaint__state__in=STATEMENT_STATES,
            submitted_at=None,
        )
        .order_by(F("due_at").asc(nulls_last=True), "complaint__submitted_at", "id")
        .values(
            "id",
            "complaint_id",
            "due_at",
            order_no=F("complaint__session__order_no"),
            has_draft=ExpressionWrapper(~Q(body=""), output_field=BooleanField()),
        )
    )


def open_questions_for(listener: ListenerProfile) -> QuerySet:
    """Unanswered questions to the listener, on complaints they can open, soonest due first."""
    shared = Complaint.objects.filter(SHARED, listener=listener).values("pk")
    return (
        InformationRequest.objects.filter(party=Party.LISTENER, answered_at=None, complaint__in=shared)
        .order_by("due_at", "id")
        .values("id", "complaint_id", "due_at", order_no=F("complaint__session__order_no"))
    )


def tasks_for(listener: ListenerProfile) -> QuerySet[ListenerTask]:
    return (
        ListenerTask.objects.filter(listener=listener)
        .exclude(state=TaskState.CANCELLED)
        .select_related("decision__complaint__session")
        .order_by("due_at", "id")
    )


def open_tasks_for(listener: ListenerProfile) -> QuerySet:
    """Tasks still to do, soonest due first."""
    return (
        ListenerTask.objects.filter(listener=listener, state=TaskState.OPEN)
        .order_by("due_at", "id")
        .values("id", "kind", "due_at")
    )


def open_interviews_for(listener: ListenerProfile) -> QuerySet:
    """Interviews still ahead of the listener, with the booked slot's time (if any), soonest first."""
    return (
        CompetencyInterview.objects.filter(listener=listener, state__in=OPEN_STATES)
        .order_by(F("slot__starts_at").asc(nulls_last=True), "created_at", "id")
        .values("id", "state", order_no=F("complaint__session__order_no"), slot_starts_at=F("slot__starts_at"))
    )


def open_plan_items_for(listener: ListenerProfile) -> QuerySet:
    """Improvement-plan items of sent interview results still to hand in, soonest due first."""
    return (
        InterviewPlanItem.objects.filter(
            interview__listener=listener,
            interview__state=InterviewState.RESULT_SENT,
            state=PlanItemState.OPEN,
        )
        .order_by("due_at", "id")
        .values("id", "kind", "due_at", "interview_id")
    )


def plan_items_for(listener: ListenerProfile) -> QuerySet[InterviewPlanItem]:
    """Every item of the listener's improvement plans, for the tasks page."""
    return (
        InterviewPlanItem.objects.filter(interview__listener=listener, interview__state=InterviewState.RESULT_SENT)
        .only("id", "kind", "state", "due_at", "interview_id", "verified_at")
        .order_by("due_at", "id")
    )


def task_get(user: User, listener: ListenerProfile, pk: int) -> ListenerTask:
    """One of this listener's tasks that the access policy lets ``user`` see; a 404 otherwise."""
    tasks = ListenerTask.objects.filter(listener=listener).exclude(state=TaskState.CANCELLED)
    return access.get_visible_or_404(user, tasks, pk=pk)
