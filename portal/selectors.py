"""What a listener may see in the portal. Every query here is scoped to one ListenerProfile.

A complaint reaches its listener only once the group has shared it: a statement was requested
(a ListenerStatement exists) or a decision was notified. Nothing here loads the complainant.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.roles import Role
from complaints.models import Complaint, ComplaintState
from evaluations.models import (
    Appeal,
    DecisionState,
    InformationRequest,
    ListenerStatement,
    ListenerTask,
    Party,
    TaskState,
)
from interviews.models import CompetencyInterview, InterviewState
from listeners.models import ListenerProfile, ListenerStatusChange

# While the group is still investigating, the listener's account can inform the evaluation.
STATEMENT_STATES = [ComplaintState.INVESTIGATION, ComplaintState.EVALUATION]
SHARED = Q(listener_statement__isnull=False) | Q(decision__state=DecisionState.NOTIFIED)


def listener_profile_for(user: User) -> ListenerProfile | None:
    """The signed-in listener's profile, or None when the user is not a listener with a profile."""
    if not user.is_authenticated or not user.has_role(Role.LISTENER):
        return None
    return ListenerProfile.objects.filter(user=user).first()


def latest_status_change(listener: ListenerProfile) -> ListenerStatusChange | None:
    return ListenerStatusChange.objects.filter(listener=listener).order_by("-created_at", "-id").first()


def shared_complaints_for(listener: ListenerProfile) -> QuerySet[Complaint]:
    """Complaints about this listener that the group has shared with them, newest first."""
    return (
        Complaint.objects.filter(SHARED, listener=listener)
        .select_related("session", "listener_statement", "decision")
        # The complainant's identity is never loaded (nor decrypted) for a listener's page.
        .defer("real_name", "id_number", "phone", "consent_ip")
        .order_by("-submitted_at", "-pk")
    )


def shared_complaint_get(listener: ListenerProfile, pk: int) -> Complaint:
    """One shared complaint about this listener; any other complaint is a 404 (not a 403), so its
    existence is not revealed."""
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


def open_statements_for(listener: ListenerProfile) -> QuerySet[ListenerStatement]:
    return (
        ListenerStatement.objects.filter(
            listener=listener,
            complaint__listener=listener,
            complaint__state__in=STATEMENT_STATES,
            submitted_at=None,
        )
        .select_related("complaint__session")
        .order_by("complaint__submitted_at")
    )


def open_questions_for(listener: ListenerProfile) -> QuerySet[InformationRequest]:
    """Unanswered questions to the listener, on complaints they can open."""
    shared = Complaint.objects.filter(SHARED, listener=listener).values("pk")
    return (
        InformationRequest.objects.filter(party=Party.LISTENER, answered_at=None, complaint__in=shared)
        .select_related("complaint__session")
        .order_by("due_at", "id")
    )


def tasks_for(listener: ListenerProfile) -> QuerySet[ListenerTask]:
    return (
        ListenerTask.objects.filter(listener=listener)
        .exclude(state=TaskState.CANCELLED)
        .select_related("decision__complaint__session")
        .order_by("due_at", "id")
    )


def open_tasks_for(listener: ListenerProfile) -> QuerySet[ListenerTask]:
    return tasks_for(listener).filter(state=TaskState.OPEN)


def requested_interviews_for(listener: ListenerProfile) -> QuerySet[CompetencyInterview]:
    return (
        CompetencyInterview.objects.filter(listener=listener, state=InterviewState.REQUESTED)
        .select_related("complaint__session")
        .order_by("created_at")
    )


def task_get(listener: ListenerProfile, pk: int) -> ListenerTask:
    task = ListenerTask.objects.filter(listener=listener, pk=pk).exclude(state=TaskState.CANCELLED).first()
    if task is None:
        raise Http404
    return task
