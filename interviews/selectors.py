"""Reads for interviews: row locks in one place, and the listener's standing for reapplication."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from accounts.policy import is_reviewer, is_supervisor
from complaints.selectors import complaint_list_for
from core import access
from listeners.holds import active_holds
from listeners.models import HoldEnd, ListenerProfile, ListenerStatus

from .models import Band, CompetencyInterview, InterviewPlanItem, InterviewSlot, InterviewState, ScoringItem

if TYPE_CHECKING:
    from accounts.models import User


def interview_get_for_update(pk: int) -> CompetencyInterview:
    return CompetencyInterview.objects.select_for_update().get(pk=pk)


def listener_get_for_update(pk: int) -> ListenerProfile:
    return ListenerProfile.objects.select_for_update().get(pk=pk)


def slot_get_for_update(pk: int) -> InterviewSlot:
    return InterviewSlot.objects.select_for_update().get(pk=pk)


def plan_item_get_for_update(pk: int) -> InterviewPlanItem:
    return InterviewPlanItem.objects.select_for_update().get(pk=pk)


def slots_open(*, after=None) -> QuerySet[InterviewSlot]:
    """Slots nobody has booked, soonest first."""
    qs = InterviewSlot.objects.filter(interview__isnull=True)
    return qs.filter(starts_at__gt=after) if after is not None else qs


def rubric_items() -> QuerySet[ScoringItem]:
    return ScoringItem.objects.select_related("area").order_by("area__position", "position", "id")


def delisting_interview(listener: ListenerProfile) -> CompetencyInterview | None:
    """The failed interview behind the listener's delisting. None when they are not delisted, or
    when something else delists them too (a decision's or an ethics case's measure): only a
    delisting by an interview alone opens the way back through reapplication."""
    delistings = list(active_holds(listener).filter(effect=ListenerStatus.DELISTED).values_list("ends", flat=True))
    if not delistings or any(ends != HoldEnd.INTERVIEW_PASSED for ends in delistings):
        return None
    # Still delisted since: a later failed interview (a failed reapplication) sets the date.
    return last_failed_interview(listener)


def last_failed_interview(listener: ListenerProfile) -> CompetencyInterview | None:
    return (
        CompetencyInterview.objects.filter(listener=listener, state=InterviewState.RESULT_SENT, band=Band.FAIL)
        .order_by("-result_sent_at")
        .first()
    )


# --- the access policy for interviews --------------------------------------------------------------


def interviews_visible(user: User, qs: QuerySet[CompetencyInterview]) -> QuerySet[CompetencyInterview]:
    """Supervisors see every interview. A reviewer sees those they sit on (main interviewer or
    observer) and those opened by a case they are on. A listener sees their own."""
    if is_supervisor(user):
        return qs
    condition = Q(listener__user=user)
    if is_reviewer(user):
        on_panel = CompetencyInterview.objects.filter(Q(main_interviewer=user) | Q(observers=user)).values("pk")
        condition |= Q(pk__in=on_panel) | Q(complaint__in=complaint_list_for(user).values("pk"))
    return qs.filter(condition)


def plan_items_visible(user: User, qs: QuerySet[InterviewPlanItem]) -> QuerySet[InterviewPlanItem]:
    return qs.filter(interview__in=interviews_visible(user, CompetencyInterview.objects.all()).values("pk"))


def access_register() -> None:
    access.register(CompetencyInterview, visible=interviews_visible)
    access.register(InterviewPlanItem, visible=plan_items_visible)
