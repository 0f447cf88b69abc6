"""Reading the professional group's work: queues and case pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.policy import is_review_staff as is_review_staff
from accounts.policy import is_reviewer, is_supervisor
from complaints.models import Complaint, ComplaintState
from complaints.selectors import complaint_list_for
from core import access
from core.models import Deadline, DeadlineKind

from .models import (
    ContactRecord,
    Decision,
    DecisionState,
    Evaluation,
    InformationRequest,
    ListenerStatement,
    ListenerTask,
    ReviewerAssignment,
    TaskState,
)

if TYPE_CHECKING:
    from accounts.models import User

# The states in which a case is the professional group's daily work.
QUEUE_STATES = [
    ComplaintState.INVESTIGATION,
    ComplaintState.EVALUATION,
    ComplaintState.DECIDED,
    ComplaintState.FOLLOW_UP,
]
INVESTIGATING = (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION)
STAGE_DEADLINES = [DeadlineKind.INVESTIGATION, DeadlineKind.DECISION]
IDENTITY_FIELDS = ("real_name", "id_number", "phone")


def _count(qs: QuerySet) -> Coalesce:
    """A correlated COUNT of ``qs`` (already filtered on an OuterRef), as one subquery."""
    counted = qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def review_queue_for(user: User, *, everyone: bool = False) -> QuerySet[Complaint]:
    """Cases where ``user`` is the lead or an added reviewer (or, for a supervisor asking for
    ``everyone``, all of the group's cases), annotated with what the page shows: the open stage
    deadline and what waits for this user. Identity columns are not even fetched."""
    complaint_type = ContentType.objects.get_for_model(Complaint)
    added = Exists(ReviewerAssignment.objects.filter(complaint=OuterRef("pk"), reviewer=user))
    stage_deadline = Deadline.objects.filter(
        subject_type=complaint_type, subject_id=OuterRef("pk"), kind__in=STAGE_DEADLINES
    ).filter(Q(state=Deadline.State.OPEN) | Q(state=Deadline.State.BREACHED, closed_at=None))
    first_deadline = stage_deadline.order_by("due_at")
    submitted = Evaluation.objects.filter(complaint=OuterRef("pk"), is_final=False, submitted_at__isnull=False)
    # An added reviewer who has not submitted yet holds up the lead's reconciliation.
    unsubmitted_added = ReviewerAssignment.objects.filter(complaint=OuterRef("pk")).exclude(
        Exists(
            Evaluation.objects.filter(
                complaint=OuterRef("complaint"),
                reviewer=OuterRef("reviewer"),
                is_final=False,
                submitted_at__isnull=False,
            )
        )
    )
    decision = Decision.objects.filter(complaint=OuterRef("pk"))
    qs = (
        Complaint.objects.filter(state__in=QUEUE_STATES)
        .select_related("session", "listener", "assigned_reviewer")
        .defer(*IDENTITY_FIELDS)
        .annotate(
            i_am_added=added,
            deadline_due=Subquery(first_deadline.values("due_at")[:1]),
            deadline_kind=Subquery(first_deadline.values("kind")[:1]),
            deadline_breached=Exists(stage_deadline.filter(state=Deadline.State.BREACHED)),
            my_evaluation_submitted=Exists(submitted.filter(reviewer=user)),
            lead_submitted=Exists(submitted.filter(reviewer=OuterRef("assigned_reviewer"))),
            others_pending=Exists(unsubmitted_added.exclude(reviewer=OuterRef("assigned_reviewer"))),
            has_final=Exists(Evaluation.objects.filter(complaint=OuterRef("pk"), is_final=True)),
            statement_submitted=Exists(
                ListenerStatement.objects.filter(complaint=OuterRef("pk"), submitted_at__isnull=False)
            ),
            answered_requests=_count(
                InformationRequest.objects.filter(complaint=OuterRef("pk"), answered_at__isnull=False)
            ),
            tasks_to_verify=_count(
                ListenerTask.objects.filter(decision__complaint=OuterRef("pk"), state=TaskState.SUBMITTED)
            ),
            decision_state=Subquery(decision.values("state")[:1]),
            decision_returned=Exists(decision.filter(state=DecisionState.DRAFT).exclude(returned_reason="")),
        )
        .order_by("-crisis", "-priority", "deadline_due", "submitted_at")
    )
    if not (everyone and is_supervisor(user)):
        qs = qs.filter(Q(assigned_reviewer=user) | Q(i_am_added=True))
    return qs


@dataclass
class QueueRow:
    complaint: Complaint
    is_lead: bool
    overdue: bool
    deadline_label: str = ""
    waiting: list[str] = field(default_factory=list)


def waiting_for(user: User, complaint: Complaint) -> list[str]:
    """What the annotated ``complaint`` asks of ``user`` now, in words; no queries."""
    c: Any = complaint  # annotated by the queue's queryset
    lead = c.assigned_reviewer_id == user.pk
    waiting: list[str] = []
    if c.state in INVESTIGATING:
        if c.statement_submitted and c.state == ComplaintState.INVESTIGATION:
            waiting.append(str(_("倾听师已提交陈述")))
        if c.answered_requests:
            waiting.append(str(_("补充信息已回复（%(n)s）") % {"n": c.answered_requests}))
    if c.state == ComplaintState.INVESTIGATION and lead:
        waiting.append(str(_("调查完成后开始评估")))
    if c.state == ComplaintState.EVALUATION:
        if (lead or c.i_am_added) and not c.my_evaluation_submitted:
            waiting.append(str(_("我的评估尚未提交")))
        if lead and c.lead_submitted and not c.others_pending and not c.has_final:
            waiting.append(str(_("可以形成最终评估")))
        if lead and c.has_final and c.decision_state is None:
            waiting.append(str(_("待起草处理决定")))
        if lead and c.decision_returned:
            waiting.append(str(_("处理决定被督导退回")))
        if lead and c.decision_state == DecisionState.APPROVED:
            waiting.append(str(_("处理决定已批准，待送达双方")))
    if c.tasks_to_verify:
        waiting.append(str(_("倾听师任务待核实（%(n)s）") % {"n": c.tasks_to_verify}))
    return waiting


def queue_rows(user: User, complaints: QuerySet[Complaint]) -> list[QueueRow]:
    now = timezone.now()
    rows = []
    c: Any
    for c in complaints:
        overdue = bool(c.deadline_breached) or (c.deadline_due is not None and c.deadline_due <= now)
        label = str(DeadlineKind(c.deadline_kind).label) if c.deadline_kind else ""
        rows.append(QueueRow(c, c.assigned_reviewer_id == user.pk, overdue, label, waiting_for(user, c)))
    return rows


def review_case_queryset() -> QuerySet[Complaint]:
    return Complaint.objects.select_related("session", "listener", "assigned_reviewer", "merged_into")


def reviewer_assignments_for(complaint: Complaint) -> QuerySet[ReviewerAssignment]:
    return ReviewerAssignment.objects.filter(complaint=complaint).select_related("reviewer").order_by("assigned_at")


def contact_records_for(complaint: Complaint) -> QuerySet[ContactRecord]:
    return ContactRecord.objects.filter(complaint=complaint).select_related("recorded_by")


def information_requests_for(complaint: Complaint) -> QuerySet[InformationRequest]:
    return InformationRequest.objects.filter(complaint=complaint).select_related("asked_by")


def submitted_reviewer_ids(complaint: Complaint) -> set[int]:
    return set(
        Evaluation.objects.filter(complaint=complaint, is_final=False, submitted_at__isnull=False).values_list(
            "reviewer_id", flat=True
        )
    )


def tasks_to_verify_for(user: User) -> QuerySet[ListenerTask]:
    """Tasks listeners submitted on this reviewer's cases (every case, for a supervisor)."""
    qs = (
        ListenerTask.objects.filter(state=TaskState.SUBMITTED)
        .select_related("listener", "decision__complaint")
        .order_by("submitted_at", "id")
    )
    if is_supervisor(user):
        return qs
    return qs.filter(
        Q(decision__complaint__assigned_reviewer=user)
        | Q(Exists(ReviewerAssignment.objects.filter(complaint=OuterRef("decision__complaint"), reviewer=user)))
    )


# --- the access policy for the professional group's records ---------------------------------------


def _on_visible_case(path: str):
    """A rule for rows that belong to one complaint: visible with that complaint."""

    def visible(user: User, qs: QuerySet) -> QuerySet:
        if is_supervisor(user):
            return qs
        return qs.filter(**{f"{path}__in": complaint_list_for(user).values("pk")})

    return visible


def evaluations_visible(user: User, qs: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Supervisors see every evaluation. A reviewer on the case sees their own, and the others'
    only once their own is submitted (so nobody scores anchored on a colleague's grade)."""
    qs = _on_visible_case("complaint")(user, qs)
    if is_supervisor(user):
        return qs
    own_submitted = Evaluation.objects.filter(
        complaint=OuterRef("complaint"), reviewer=user, is_final=False, submitted_at__isnull=False
    )
    return qs.filter(Q(reviewer=user, is_final=False) | Q(Exists(own_submitted)))


def listener_tasks_visible(user: User, qs: QuerySet[ListenerTask]) -> QuerySet[ListenerTask]:
    """Supervisors see all tasks; reviewers those of the cases they are on; a listener their own."""
    if is_supervisor(user):
        return qs
    condition = Q(pk__in=[])
    if is_reviewer(user):
        condition |= Q(decision__complaint__in=complaint_list_for(user).values("pk"))
    condition |= Q(listener__user=user)
    return qs.filter(condition)


def access_register() -> None:
    """Register the group's records with the access policy, and who else is on a case."""
    from complaints.selectors import register_case_member

    from .models import Appeal

    register_case_member(
        lambda user: Exists(ReviewerAssignment.objects.filter(complaint=OuterRef("pk"), reviewer=user))
    )
    register_case_member(lambda user: Exists(Appeal.objects.filter(decision__complaint=OuterRef("pk"), reviewer=user)))
    for model in (Decision, ContactRecord, InformationRequest, ListenerStatement, ReviewerAssignment):
        access.register(model, visible=_on_visible_case("complaint"))
    access.register(Appeal, visible=_on_visible_case("decision__complaint"))
    access.register(Evaluation, visible=evaluations_visible)
    access.register(ListenerTask, visible=listener_tasks_visible)
