"""Booking a slot, the 48-hour case-report rule, materials and the meeting number."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import Deadline, DeadlineKind, DeadlinePolicy
from interviews.models import CompetencyInterview, InterviewSlot, InterviewState, MaterialKind
from interviews.services import case_report_lead, interview_book, interview_cancel, material_upload

from .conftest import PDF, held, pdf, publish, upload_report

pytestmark = pytest.mark.django_db


def test_a_slot_exactly_48_hours_away_can_be_booked_without_the_report(clock, interview, supervisor):
    # given
    slot = publish(supervisor, timedelta(hours=48))

    # when
    booked = interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    # then
    assert booked.state == InterviewState.MATERIALS_DUE
    assert booked.meeting_number == ""
    deadline = Deadline.objects.get(subject_id=booked.pk, kind=DeadlineKind.CASE_REPORT)
    assert deadline.due_at == slot.starts_at - timedelta(hours=48)
    assert deadline.owner == interview.listener.user


def test_a_slot_47h59m_away_is_refused_when_the_report_is_missing(clock, interview, supervisor):
    slot = publish(supervisor, timedelta(hours=47, minutes=59))

    with pytest.raises(ValidationError) as exc:
        interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    assert "48 小时" in str(exc.value.message_dict["slot"])
    slot.refresh_from_db()
    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert slot.interview_id is None
    assert interview.state == InterviewState.REQUESTED


def test_a_slot_47h59m_away_is_allowed_when_the_report_is_already_in(clock, interview, supervisor):
    upload_report(interview)
    slot = publish(supervisor, timedelta(hours=47, minutes=59))

    booked = interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    assert booked.state == InterviewState.SCHEDULED
    assert booked.meeting_number
    assert not Deadline.objects.filter(subject_id=booked.pk, kind=DeadlineKind.CASE_REPORT).exists()


def test_uploading_the_report_issues_the_meeting_number_and_meets_the_deadline(clock, interview, supervisor):
    slot = publish(supervisor, timedelta(days=5))
    interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    material_upload(interview=interview, kind=MaterialKind.CV, upload=pdf("cv.pdf"), actor=interview.listener.user)
    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert interview.state == InterviewState.MATERIALS_DUE

    upload_report(interview)

    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert interview.state == InterviewState.SCHEDULED
    assert len(interview.meeting_number.replace(" ", "")) == 9
    assert Deadline.objects.get(subject_id=interview.pk, kind=DeadlineKind.CASE_REPORT).state == Deadline.State.MET


def test_a_booked_slot_cannot_be_booked_again(clock, interview, supervisor, listener):
    from interviews.services import interview_request

    from ..factories import ListenerProfileFactory

    other = interview_request(listener=ListenerProfileFactory(), reason="另一位", actor=supervisor)
    slot = publish(supervisor, timedelta(days=5))
    interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    with pytest.raises(ValidationError):
        interview_book(interview=other, slot=slot, actor=other.listener.user)


def test_only_the_listener_books_their_interview(clock, interview, supervisor):
    slot = publish(supervisor, timedelta(days=5))

    with pytest.raises(PermissionDenied):
        interview_book(interview=interview, slot=slot, actor=supervisor)


def test_a_material_that_is_not_an_accepted_file_is_refused(clock, interview):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as exc:
        material_upload(
            interview=interview,
            kind=MaterialKind.CASE_REPORT,
            upload=SimpleUploadedFile("report.pdf", b"MZ\x90\x00not a pdf"),
            actor=interview.listener.user,
        )
    assert "file" in exc.value.message_dict
    assert PDF  # the accepted case is covered above


def test_cancelling_frees_the_slot_and_cancels_the_case_report_deadline(clock, interview, supervisor):
    slot = publish(supervisor, timedelta(days=5))
    interview_book(interview=interview, slot=slot, actor=interview.listener.user)

    cancelled = interview_cancel(interview=interview, actor=supervisor, reason="不再需要面试。")

    assert cancelled.state == InterviewState.CANCELLED
    assert InterviewSlot.objects.get(pk=slot.pk).interview_id is None
    assert (
        Deadline.objects.get(subject_id=interview.pk, kind=DeadlineKind.CASE_REPORT).state == Deadline.State.CANCELLED
    )


def test_state_cannot_be_set_directly(interview):
    with pytest.raises(AttributeError):
        interview.state = InterviewState.SCHEDULED


# --- the durations come from the deadline policies ---------------------------------------------------


def test_the_case_report_lead_follows_the_case_report_policy(clock, interview, supervisor):
    DeadlinePolicy.objects.filter(kind="case_report").update(duration=timedelta(days=3))
    near = publish(supervisor, timedelta(hours=71))
    far = publish(supervisor, timedelta(hours=72))

    with pytest.raises(ValidationError) as exc:
        interview_book(interview=interview, slot=near, actor=interview.listener.user)
    booked = interview_book(interview=interview, slot=far, actor=interview.listener.user)

    assert "72 小时" in exc.value.message_dict["slot"][0]
    deadline = Deadline.objects.get(kind="case_report", subject_id=booked.pk)
    assert deadline.due_at == far.starts_at - timedelta(days=3)


def test_the_result_deadline_follows_the_interview_result_policy(clock, interview, supervisor, reviewer, observer):
    DeadlinePolicy.objects.filter(kind="interview_result").update(duration=timedelta(days=5), business_hours=False)

    done, _slot = held(interview, supervisor, reviewer, observer, clock)

    deadline = Deadline.objects.get(kind="interview_result", subject_id=done.pk)
    assert deadline.due_at == done.held_ended_at + timedelta(days=5)


def test_without_the_policy_the_48_hour_fallback_applies():
    DeadlinePolicy.objects.filter(kind__in=["case_report"]).delete()

    assert case_report_lead() == timedelta(hours=48)
