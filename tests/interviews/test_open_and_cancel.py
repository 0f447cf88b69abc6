"""Supervisors open an interview for a listener ("为倾听师安排面试") and cancel one that has not
taken place ("取消面试", with a reason the listener sees); nobody else may, and interview_cancel
itself refuses anyone but a supervisor or the system."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import Deadline, Notification
from interviews.models import CompetencyInterview, InterviewSlot, InterviewState
from interviews.services import interview_book, interview_cancel

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory
from .conftest import publish, scheduled

pytestmark = pytest.mark.django_db

ADD = "/admin/interviews/competencyinterview/add/"


def cancel_page(interview):
    return reverse("admin:interviews_competencyinterview_cancel", args=[interview.pk])


def fresh(interview):
    return CompetencyInterview.objects.get(pk=interview.pk)


# --- opening ----------------------------------------------------------------------------------------


def test_a_supervisor_opens_an_interview_by_listener_code(supervisor):
    listener = ListenerProfileFactory()
    client = signed_in_client(supervisor)

    assert client.get(ADD).status_code == 200
    response = client.post(ADD, {"listener_code": listener.code, "reason": "伦理案件要求进行胜任力考核面试。"})

    interview = CompetencyInterview.objects.get(listener=listener)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:interviews_competencyinterview_change", args=[interview.pk])
    assert interview.state == InterviewState.REQUESTED
    assert interview.requested_by == supervisor
    assert interview.reason == "伦理案件要求进行胜任力考核面试。"


def test_opening_twice_returns_the_open_interview(supervisor, interview):
    client = signed_in_client(supervisor)

    response = client.post(ADD, {"listener_code": interview.listener.code, "reason": "再次提出"}, follow=True)

    assert CompetencyInterview.objects.filter(listener=interview.listener).count() == 1
    assert "已有未结束的面试" in response.content.decode()


def test_an_unknown_code_is_an_error_next_to_the_field(supervisor):
    response = signed_in_client(supervisor).post(ADD, {"listener_code": "NOPE-1", "reason": "原因"})

    assert response.status_code == 200
    assert "没有编号为 NOPE-1 的倾听师" in response.content.decode()
    assert not CompetencyInterview.objects.exists()


def test_a_reviewer_may_not_open_an_interview(reviewer):
    listener = ListenerProfileFactory()
    client = signed_in_client(reviewer)

    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"listener_code": listener.code, "reason": "原因"}).status_code == 403
    assert not CompetencyInterview.objects.exists()


# --- cancelling -------------------------------------------------------------------------------------


def test_a_supervisor_cancels_a_scheduled_interview_with_a_reason(clock, interview, supervisor, reviewer, observer):
    interview, slot = scheduled(interview, supervisor, reviewer, observer)
    client = signed_in_client(supervisor)
    assert (
        'data-action="cancel"'
        in client.get(reverse("admin:interviews_competencyinterview_change", args=[interview.pk])).content.decode()
    )

    response = client.post(cancel_page(interview), {"reason": "投诉已撤回，无需面试。"})

    assert response.status_code == 302
    done = fresh(interview)
    assert done.state == InterviewState.CANCELLED
    assert done.cancel_reason == "投诉已撤回，无需面试。"
    assert InterviewSlot.objects.get(pk=slot.pk).interview_id is None
    told = Notification.objects.get(kind="listener.interview_cancelled")
    assert told.recipient == interview.listener.user
    assert "投诉已撤回，无需面试。" in told.body
    assert Notification.objects.filter(kind="staff.interview_cancelled", recipient=reviewer).exists()
    portal = signed_in_client(interview.listener.user).get(f"/portal/interviews/{interview.pk}/")
    assert "投诉已撤回，无需面试。" in portal.content.decode()


def test_cancelling_needs_a_reason(interview, supervisor):
    response = signed_in_client(supervisor).post(cancel_page(interview), {"reason": " "})

    assert response.status_code == 200
    assert fresh(interview).state == InterviewState.REQUESTED


def test_a_main_interviewer_may_not_cancel(clock, interview, supervisor, reviewer, observer):
    interview, _slot = scheduled(interview, supervisor, reviewer, observer)
    client = signed_in_client(reviewer)

    assert (
        'data-action="cancel"'
        not in client.get(reverse("admin:interviews_competencyinterview_change", args=[interview.pk])).content.decode()
    )
    assert client.post(cancel_page(interview), {"reason": "原因"}).status_code == 403
    assert fresh(interview).state == InterviewState.SCHEDULED


def test_the_service_refuses_anyone_but_a_supervisor_or_the_system(clock, interview, supervisor, reviewer):
    with pytest.raises(PermissionDenied):
        interview_cancel(interview=interview, actor=reviewer, reason="原因")
    with pytest.raises(PermissionDenied):
        interview_cancel(interview=interview, actor=interview.listener.user, reason="原因")
    with pytest.raises(ValidationError):
        interview_cancel(interview=interview, actor=supervisor, reason="")

    slot = publish(supervisor, timedelta(days=5))
    interview_book(interview=interview, slot=slot, actor=interview.listener.user)
    done = interview_cancel(interview=interview, actor=None)

    assert done.state == InterviewState.CANCELLED
    assert not Deadline.objects.filter(subject_id=interview.pk, state=Deadline.State.OPEN).exists()
