"""Reading the professional group's work: queues and case pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.policy import is_review_staff as is_review_staff
from accounts.policy import is_reviewer, is_supervisor
from accounts.roles import Role
from complaints.models import Attachment, Complaint, ComplaintState
from complaints.selectors import complaint_list_for
from core import access
from core.models import Deadline, DeadlineKind

from .models import (
    Appeal,
    AppealState,
    ContactRecord,
    Decision,
    DecisionState,
    Evaluation,
    InformationRequest,
    ListenerStatement,
    ListenerTask,
    ReviewerAssignment,
    ReviewRequest,
    TaskState,
)
from .selectors_outcome import review_requests_visible

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


# --- supervisors' pages: the approval queue, appeals, the archive ---------------------------


def _without_identity(path: str) -> list[str]:
    return [f"{path}{name}" for name in IDENTITY_FIELDS]


USER_NAME = ("display_name", "email")  # what str(user) needs


def _user_fields(path: str) -> list[str]:
    return [f"{path}__{name}" for name in USER_NAME]


def _queue_prefetches() -> list[Prefetch]:
    """What each queued decision's card lists: its reviewers, their evaluations, the case's files."""
    return [
        Prefetch(
            "complaint__reviewer_assignments",
            queryset=ReviewerAssignment.objects.select_related("reviewer")
            .only("complaint_id", "reviewer_id", "is_lead", *_user_fields("reviewer"))
            .order_by("assigned_at", "id"),
            to_attr="assignment_list",
        ),
        # Each reviewer's evaluation and the lead's final one (the decision's), in one query:
        # joining the final evaluation into the main query makes it slow to plan.
        Prefetch(
            "complaint__evaluations",
            queryset=Evaluation.objects.filter(submitted_at__isnull=False)
            .select_related("proposed_grade", "reviewer")
            .only(
                "complaint_id",
                "is_final",
                *QUEUE_EVALUATION_FIELDS,
                "proposed_grade__level",
                "proposed_grade__name",
                *_user_fields("reviewer"),
            )
            .order_by("submitted_at", "id"),
            to_attr="submitted_evaluations",
        ),
        Prefetch(
            "complaint__attachments",
            queryset=Attachment.objects.only("complaint_id", "public_id", "original_name", "size").order_by(
                "created_at", "id"
            ),
            to_attr="attachment_list",
        ),
    ]


def pending_decisions() -> QuerySet[Decision]:
    """Decisions waiting for a supervisor, oldest first, with everything the queue shows.

    Only the columns the queue prints are read: the page renders many decisions at once.
    """
    return (
        Decision.objects.filter(state=DecisionState.PENDING_APPROVAL)
        .select_related(
            "complaint__session",
            "complaint__listener",
            "complaint__assigned_reviewer",
            "grade",
            "decided_by",
        )
        .only(
            *QUEUE_DECISION_FIELDS,
            "complaint__reference",
            "complaint__state",  # read by django-fsm's concurrency guard on every instance
            "complaint__category",
            "complaint__assigned_reviewer_id",
            *_user_fields("complaint__assigned_reviewer"),
            "complaint__session__order_no",
            "complaint__session__channel",
            "complaint__session__started_at",
            "complaint__session__amount",
            "complaint__listener__display_name",
            "grade__level",
            "grade__name",
            "grade__requires_approval",
            *_user_fields("decided_by"),
        )
        .prefetch_related(*_queue_prefetches())
        .order_by("created_at", "id")
    )


QUEUE_DECISION_FIELDS = (
    "complaint_id",
    "evaluation_id",
    "grade_id",
    "measures",
    "remedies",
    "refund_amount",
    "compensation_amount",
    "adjustment_reason",
    "text_to_complainant",
    "text_to_listener",
    "state",  # read by django-fsm's concurrency guard on every instance
    "decided_by_id",
    "returned_reason",
    "created_at",
)
QUEUE_EVALUATION_FIELDS = (
    "reviewer_id",
    "proposed_grade_id",
    "facts",
    "facts_rationale",
    "evidence_cited",
    "demand",
    "demand_rationale",
    "finding_competence_gap",
    "finding_subjective_harm",
    "finding_inducing_orders",
    "finding_illegality",
    "competence_rationale",
    "awareness",
    "reflection",
    "awareness_rationale",
    "outcome",
    "outcome_rationale",
    "disagreements",
)


def open_appeals_for(user: User) -> QuerySet[Appeal]:
    """Supervisors see every appeal still open; a reviewer sees those assigned to them."""
    qs = (
        Appeal.objects.filter(state__in=[AppealState.SUBMITTED, AppealState.REVIEWING])
        .select_related(
            "decision__complaint__listener",
            "decision__complaint__session",
            "decision__grade",
            "reviewer",
            "supervisor",
        )
        .defer(*_without_identity("decision__complaint__"))
        .prefetch_related(
            Prefetch(
                "decision__complaint__reviewer_assignments",
                queryset=ReviewerAssignment.objects.select_related("reviewer").order_by("id"),
            ),
            Prefetch(
                "decision__complaint__evaluations",
                queryset=Evaluation.objects.select_related("reviewer").order_by("id"),
            ),
        )
        .order_by("created_at", "id")
    )
    if is_supervisor(user):
        return qs
    return qs.filter(reviewer=user, state=AppealState.REVIEWING)


def active_reviewers() -> QuerySet[User]:
    """Those an appeal can be given to: active members of the professional group."""
    return User.objects.filter(groups__name=Role.REVIEWER, is_active=True).order_by("display_name", "email")


def appeals_for_resolution() -> QuerySet[Appeal]:
    """Appeals with what the resolution page shows (the decision, its grade and evaluation); no identity."""
    return Appeal.objects.select_related(
        "decision__complaint__listener",
        "decision__complaint__session",
        "decision__grade",
        "decision__evaluation__proposed_grade",
        "reviewer",
        "supervisor",
    ).defer(*_without_identity("decision__complaint__"))


def complaints_for_archive() -> QuerySet[Complaint]:
    """Complaints with what the archive export reads alongside each one."""
    return Complaint.objects.select_related("session", "listener", "consent_text", "assigned_reviewer", "merged_into")


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

    register_case_member(
        lambda user: Exists(ReviewerAssignment.objects.filter(complaint=OuterRef("pk"), reviewer=user))
    )
    register_case_member(lambda user: Exists(Appeal.objects.filter(decision__complaint=OuterRef("pk"), reviewer=user)))
    # The person reviewing a complainant's review request is on the case (evaluations.selectors_outcome).
    register_case_member(lambda user: Exists(ReviewRequest.objects.filter(complaint=OuterRef("pk"), handler=user)))
    access.register(ReviewRequest, visible=review_requests_visible)
    for model in (Decision, ContactRecord, InformationRequest, ListenerStatement, ReviewerAssignment):
        access.register(model, visible=_on_visible_case("complaint"))
    access.register(Appeal, visible=_on_visible_case("decision__complaint"))
    access.register(Evaluation, visible=evaluations_visible)
    access.register(ListenerTask, visible=listener_tasks_visible)
