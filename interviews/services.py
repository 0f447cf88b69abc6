from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from complaints.models import Complaint
from listeners.models import ListenerProfile

from .models import CompetencyInterview, InterviewState

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def interview_request(
    *, listener: ListenerProfile, reason: str, actor: User, complaint: Complaint | None = None
) -> CompetencyInterview:
    """Open a competency interview for a listener (one open request per complaint)."""
    if complaint is not None:
        existing = CompetencyInterview.objects.filter(
            listener=listener, complaint=complaint, state=InterviewState.REQUESTED
        ).first()
        if existing is not None:
            return existing
    return CompetencyInterview.objects.create(listener=listener, complaint=complaint, reason=reason, requested_by=actor)


@transaction.atomic
def interview_cancel(*, interview: CompetencyInterview) -> CompetencyInterview:
    locked = CompetencyInterview.objects.select_for_update().get(pk=interview.pk)
    if locked.state in (InterviewState.REQUESTED, InterviewState.SCHEDULING):
        locked.cancel()
        locked.save(update_fields=["state"])
    return locked
