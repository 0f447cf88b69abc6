"""What the listener and the panel are told: the invitation to book, the meeting number (at booking
with the report in, or when the report arrives), the cancellation; the panel gets the meeting number
once the interview is scheduled, whenever it is named."""

from datetime import timedelta

import pytest
from django.core import mail

from core.models import Notification
from interviews.models import CompetencyInterview, InterviewState
from interviews.services import (
    interview_book,
    interview_cancel,
    interview_open_scheduling,
    panel_set,
)

from .conftest import publish, scheduled, upload_report

pytestmark = pytest.mark.django_db


def rows(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


def mails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def test_opening_scheduling_invites_the_listener_to_book(interview, supervisor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        interview_open_scheduling(interview=interview, actor=supervisor)

    (row,) = rows(interview.listener.user, "listener.interview_scheduling")
    assert row.link == f"/portal/interviews/{interview.pk}/"
    (message,) = mails_to(interview.listener.user)
    assert "预约" in message.subject
    assert "48 小时" in message.body
    assert "&" not in message.body


def test_booking_with_the_report_in_sends_the_meeting_number_to_the_listener_and_the_panel(
    clock, interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks
):
    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)
    upload_report(interview)
    slot = publish(supervisor, timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        booked = interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    assert booked.state == InterviewState.SCHEDULED
    (row,) = rows(interview.listener.user, "listener.interview_scheduled")
    assert booked.meeting_number in row.body
    (to_listener,) = mails_to(interview.listener.user)
    assert booked.meeting_number in to_listener.body
    assert "2026-03-05 10:00" in to_listener.body
    for member in (reviewer, observer):
        (staff_row,) = rows(member, "staff.interview_scheduled")
        assert booked.meeting_number in staff_row.body
        assert staff_row.link == f"/admin/interviews/competencyinterview/{interview.pk}/change/"
        assert booked.meeting_number in mails_to(member)[0].body
    # No identity data leaves the platform in the panel's email.
    assert interview.listener.display_name not in mails_to(reviewer)[0].body


def test_booking_without_the_report_sends_no_number_until_the_report_arrives(
    clock, interview, supervisor, django_capture_on_commit_callbacks
):
    slot = publish(supervisor, timedelta(days=5))
    interview_book(interview=interview, slot=slot, actor=interview.listener.user)
    assert not rows(interview.listener.user, "listener.interview_scheduled")

    with django_capture_on_commit_callbacks(execute=True):
        upload_report(interview)

    number = CompetencyInterview.objects.get(pk=interview.pk).meeting_number
    assert number
    (row,) = rows(interview.listener.user, "listener.interview_scheduled")
    assert number in row.body
    assert number in mails_to(interview.listener.user)[0].body


def test_a_panel_named_after_scheduling_is_told_the_number_once(
    clock, interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks
):
    upload_report(interview)
    booked = interview_book(
        interview=interview, slot=publish(supervisor, timedelta(days=3)), actor=interview.listener.user
    )
    late_observer = observer

    with django_capture_on_commit_callbacks(execute=True):
        panel_set(interview=booked, main_interviewer=reviewer, observers=[late_observer], actor=supervisor)
        panel_set(interview=booked, main_interviewer=reviewer, observers=[late_observer], actor=supervisor)

    assert len(rows(reviewer, "staff.interview_scheduled")) == 1
    assert len(rows(late_observer, "staff.interview_scheduled")) == 1
    assert len(mails_to(reviewer)) == 1


def test_a_panel_named_before_scheduling_is_not_told_yet(interview, supervisor, reviewer, observer):
    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)

    assert not rows(reviewer, "staff.interview_scheduled")


def test_cancelling_tells_the_listener_the_slot_is_released_and_the_panel_the_number_is_void(
    clock, interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks
):
    booked, _slot = scheduled(interview, supervisor, reviewer, observer)

    with django_capture_on_commit_callbacks(execute=True):
        interview_cancel(interview=booked, actor=supervisor, reason="不再需要面试。")
        interview_cancel(interview=booked, actor=supervisor, reason="不再需要面试。")  # a no-op the second time

    (row,) = rows(interview.listener.user, "listener.interview_cancelled")
    assert "2026-03-05 10:00" in row.body
    assert "已释放" in row.body
    assert len(mails_to(interview.listener.user)) == 1
    assert len(rows(reviewer, "staff.interview_cancelled")) == 1
    assert len(rows(observer, "staff.interview_cancelled")) == 1


def test_cancelling_a_request_not_yet_booked_tells_only_the_listener(
    interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks
):
    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        interview_cancel(interview=interview, actor=supervisor, reason="不再需要面试。")

    (row,) = rows(interview.listener.user, "listener.interview_cancelled")
    assert "已取消" in row.body
    assert not rows(reviewer, "staff.interview_cancelled")
