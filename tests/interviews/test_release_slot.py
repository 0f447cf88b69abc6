"""A case report not in 48 hours before the slot: reminders and escalation come from the deadline
sweep; a supervisor may then release the slot, and the listener books again."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.deadlines import deadlines_sweep
from core.models import Deadline, DeadlineKind, Notification
from interviews.models import CompetencyInterview, InterviewSlot, InterviewState
from interviews.services import interview_book, interview_release_slot

from ..conftest import signed_in_client
from .conftest import publish, upload_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(clock, interview, supervisor):
    slot = publish(supervisor, timedelta(days=3))
    interview = interview_book(interview=interview, slot=slot, actor=interview.listener.user)
    assert interview.state == InterviewState.MATERIALS_DUE
    return interview, slot


def test_the_slot_cannot_be_released_before_the_report_is_due(booked, supervisor):
    interview, slot = booked

    with pytest.raises(ValidationError):
        interview_release_slot(interview=interview, actor=supervisor)

    assert InterviewSlot.objects.get(pk=slot.pk).interview_id == interview.pk


def test_a_supervisor_releases_the_slot_once_the_report_is_late(booked, clock, supervisor, reviewer):
    interview, slot = booked
    clock.move_to(slot.starts_at - timedelta(hours=47))

    with pytest.raises(PermissionDenied):
        interview_release_slot(interview=interview, actor=reviewer)
    released = interview_release_slot(interview=interview, actor=supervisor)

    assert released.state == InterviewState.SCHEDULING
    assert InterviewSlot.objects.get(pk=slot.pk).interview_id is None
    assert Deadline.objects.get(kind=DeadlineKind.CASE_REPORT).state == Deadline.State.CANCELLED
    notice = Notification.objects.get(recipient=interview.listener.user, kind="listener.interview_slot_released")
    assert notice.link == f"/portal/interviews/{interview.pk}/"

    # The listener hands in the report and books again; the number is issued at once.
    upload_report(released)
    later = publish(supervisor, timedelta(days=5))
    rebooked = interview_book(interview=released, slot=later, actor=interview.listener.user)
    assert rebooked.state == InterviewState.SCHEDULED and rebooked.meeting_number


def test_a_slot_with_the_report_in_is_not_released(booked, clock, supervisor):
    interview, slot = booked
    clock.move_to(slot.starts_at - timedelta(hours=47))
    # A report arriving late still confirms the interview; there is nothing left to release.
    upload_report(interview)

    with pytest.raises(ValidationError):
        interview_release_slot(interview=interview, actor=supervisor)
    assert CompetencyInterview.objects.get(pk=interview.pk).state == InterviewState.SCHEDULED


def test_the_release_page_is_for_supervisors(booked, clock, supervisor, reviewer):
    interview, slot = booked
    clock.move_to(slot.starts_at - timedelta(hours=47))
    url = reverse("admin:interviews_competencyinterview_release_slot", args=[interview.pk])
    change = reverse("admin:interviews_competencyinterview_change", args=[interview.pk])

    assert 'data-action="release_slot"' in signed_in_client(supervisor).get(change).content.decode()
    assert 'data-action="release_slot"' not in signed_in_client(reviewer).get(change).content.decode()
    assert signed_in_client(reviewer).get(url).status_code == 404  # not on the panel: not theirs to see
    response = signed_in_client(supervisor).post(url)

    assert response.status_code == 302
    assert CompetencyInterview.objects.get(pk=interview.pk).state == InterviewState.SCHEDULING


def test_a_missing_case_report_reminds_the_listener_then_escalates_to_supervisors(booked, clock, supervisor):
    interview, slot = booked
    due = slot.starts_at - timedelta(hours=48)
    deadline = Deadline.objects.get(kind=DeadlineKind.CASE_REPORT)
    assert deadline.due_at == due and deadline.owner == interview.listener.user

    deadlines_sweep(now=deadline.remind_at + timedelta(minutes=1))
    reminders = Notification.objects.filter(recipient=interview.listener.user, kind="deadline.deadline_reminder")
    deadlines_sweep(now=due + timedelta(minutes=1))
    deadlines_sweep(now=due + timedelta(minutes=2))

    assert reminders.count() == 1
    deadline.refresh_from_db()
    assert deadline.state == Deadline.State.BREACHED
    assert Notification.objects.filter(recipient=supervisor, kind="deadline.escalated").count() == 1
    assert (
        Notification.objects.filter(recipient=interview.listener.user, kind="deadline.deadline_breached").count() == 1
    )
