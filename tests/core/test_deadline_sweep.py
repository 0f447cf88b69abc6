"""The deadline sweep as a function, with the clock under control."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from complaints.models import Complaint, Priority, TimelineEvent
from complaints.services import (
    complaint_close,
    complaint_escalate,
    complaint_resolve,
    complaint_start_triage,
    complaint_survey_answer,
    complaint_withdraw,
)
from core.deadlines import add_business_time, deadlines_sweep
from core.models import Deadline, DeadlineKind, DeadlinePolicy, Holiday, Notification

from ..complaints.helpers import file_complaint
from ..factories import UserFactory

START = timezone.make_aware(timezone.datetime(2026, 11, 23, 10, 0))  # a Monday, 10:00 Shanghai


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(db):
    return {
        "consultant": UserFactory(roles=["consultant"], email="chen@hearken.cn"),
        "supervisor": UserFactory(roles=["supervisor"], email="li@hearken.cn"),
    }


@pytest.fixture
def complaint(clock, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = file_complaint()
    mail.outbox.clear()
    return made


def sweep(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return deadlines_sweep(**kwargs)


def first_response(complaint):
    return Deadline.objects.get(subject_id=complaint.pk, kind=DeadlineKind.FIRST_RESPONSE)


def test_a_complaint_opens_a_24_hour_first_response_deadline_from_the_policy(complaint):
    deadline = first_response(complaint)

    assert deadline.due_at == START + timedelta(hours=24)
    assert deadline.remind_at == START + timedelta(hours=20)
    assert complaint.first_response_due == deadline.due_at
    assert deadline.owner_role == "consultant"


def test_nothing_is_sent_before_the_reminder_is_due(complaint, clock, django_capture_on_commit_callbacks):
    clock.move_to(START + timedelta(hours=19))

    result = sweep(django_capture_on_commit_callbacks)

    assert (result.reminded, result.breached) == (0, 0)
    assert mail.outbox == []


def test_a_due_reminder_goes_to_the_team_once_however_often_the_sweep_runs(
    complaint, clock, staff, django_capture_on_commit_callbacks
):
    clock.move_to(START + timedelta(hours=21))

    first = sweep(django_capture_on_commit_callbacks)
    second = sweep(django_capture_on_commit_callbacks)

    assert (first.reminded, second.reminded) == (1, 0)
    assert [m.to for m in mail.outbox] == [[staff["consultant"].email]]
    assert complaint.reference in mail.outbox[0].subject
    assert first_response(complaint).reminded_at is not None


def test_a_breach_escalates_to_supervisors_once_and_raises_the_priority(
    complaint, clock, staff, django_capture_on_commit_callbacks
):
    clock.move_to(START + timedelta(hours=25))

    first = sweep(django_capture_on_commit_callbacks)
    second = sweep(django_capture_on_commit_callbacks)

    assert (first.breached, second.breached) == (1, 0)
    deadline = first_response(complaint)
    assert deadline.state == Deadline.State.BREACHED
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([staff["consultant"].email, staff["supervisor"].email])
    assert Notification.objects.filter(recipient=staff["supervisor"], kind="deadline.escalated").count() == 1
    saved = Complaint.objects.get(pk=complaint.pk)
    assert saved.priority == Priority.HIGH
    assert TimelineEvent.objects.filter(complaint=complaint, note__contains="首次回应已超时").count() == 1


def test_the_first_visible_staff_action_meets_the_first_response(
    complaint, clock, staff, django_capture_on_commit_callbacks
):
    complaint_start_triage(complaint=complaint, actor=staff["consultant"])
    clock.move_to(START + timedelta(hours=30))

    result = sweep(django_capture_on_commit_callbacks)

    assert first_response(complaint).state == Deadline.State.MET
    assert (
        result.breached == 0 or not Deadline.objects.filter(kind=DeadlineKind.FIRST_RESPONSE, state="breached").exists()
    )


def test_withdrawing_cancels_every_open_deadline(complaint, clock, django_capture_on_commit_callbacks):
    complaint_withdraw(complaint=complaint, actor=complaint.complainant)
    clock.move_to(START + timedelta(days=3))

    result = sweep(django_capture_on_commit_callbacks)

    assert (result.reminded, result.breached) == (0, 0)
    assert set(Deadline.objects.values_list("state", flat=True)) == {Deadline.State.CANCELLED}
    assert mail.outbox == []


def test_triage_and_investigation_deadlines_follow_the_case_and_its_owner(complaint, staff):
    reviewer = UserFactory(roles=["reviewer"])
    complaint_start_triage(complaint=complaint, actor=staff["consultant"])
    triage = Deadline.objects.get(subject_id=complaint.pk, kind=DeadlineKind.TRIAGE)
    assert triage.owner == staff["consultant"]

    complaint_escalate(complaint=complaint, actor=staff["consultant"], reviewer=reviewer)

    triage.refresh_from_db()
    investigation = Deadline.objects.get(subject_id=complaint.pk, kind=DeadlineKind.INVESTIGATION)
    assert triage.state == Deadline.State.MET
    assert (investigation.owner, investigation.due_at) == (reviewer, START + timedelta(days=7))


def test_a_closed_case_invites_to_the_survey_then_reminds_once_then_stops(
    complaint, clock, staff, django_capture_on_commit_callbacks
):
    complaint_start_triage(complaint=complaint, actor=staff["consultant"])
    complaint_resolve(complaint=complaint, actor=staff["consultant"], resolution="已退款")
    complaint_close(complaint=complaint, actor=staff["consultant"])
    mail.outbox.clear()

    clock.move_to(START + timedelta(hours=2))
    sweep(django_capture_on_commit_callbacks)
    clock.move_to(START + timedelta(days=8))
    sweep(django_capture_on_commit_callbacks)
    clock.move_to(START + timedelta(days=30))
    sweep(django_capture_on_commit_callbacks)

    to_complainant = [m for m in mail.outbox if m.to == [complaint.complainant.email]]
    assert len(to_complainant) == 2
    assert f"/complaints/{complaint.reference}/survey/" in to_complainant[0].body
    assert "最后一次提醒" in to_complainant[1].body
    assert not [m for m in mail.outbox if m.to == [staff["supervisor"].email]]


def test_answering_the_survey_stores_it_and_stops_the_reminder(
    complaint, clock, staff, django_capture_on_commit_callbacks
):
    complaint_start_triage(complaint=complaint, actor=staff["consultant"])
    complaint_resolve(complaint=complaint, actor=staff["consultant"], resolution="已退款")
    complaint_close(complaint=complaint, actor=staff["consultant"])

    complaint_survey_answer(complaint=complaint, actor=complaint.complainant, score=4, comment="处理得很及时")
    clock.move_to(START + timedelta(days=8))
    mail.outbox.clear()
    sweep(django_capture_on_commit_callbacks)

    saved = Complaint.objects.get(pk=complaint.pk)
    assert (saved.satisfaction_score, saved.satisfaction_comment) == (4, "处理得很及时")
    assert mail.outbox == []


def test_business_hours_skip_nights_weekends_and_holidays(db):
    friday_5pm = timezone.make_aware(timezone.datetime(2026, 11, 27, 17, 0))
    holidays = {timezone.datetime(2026, 11, 30).date()}  # the Monday after

    due = add_business_time(friday_5pm, timedelta(hours=2), holidays)

    assert timezone.localtime(due) == timezone.make_aware(timezone.datetime(2026, 12, 1, 10, 0))


def test_a_policy_in_business_hours_is_used_for_new_deadlines(clock, staff, django_capture_on_commit_callbacks):
    DeadlinePolicy.objects.filter(kind=DeadlineKind.FIRST_RESPONSE).update(
        business_hours=True, duration=timedelta(hours=9)
    )
    Holiday.objects.create(date=START.date() + timedelta(days=1), name="测试假日")

    made = file_complaint()

    # Monday 10:00 + 9 working hours, Tuesday a holiday: Wednesday 10:00.
    assert timezone.localtime(first_response(made).due_at).strftime("%a %H:%M") == "Wed 10:00"


def test_the_sweep_issues_a_bounded_number_of_queries_per_batch(
    clock, staff, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(30):
        file_complaint()
    clock.move_to(START + timedelta(hours=21))

    with django_assert_max_num_queries(12):
        result = deadlines_sweep(batch_size=1000)

    assert result.reminded == 30
