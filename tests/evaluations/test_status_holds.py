"""A temporary status (hidden, suspended) is lifted only when nothing holds it any more, and a
delisting is not undone by another case's measures."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from evaluations.models import Grade, ListenerTask
from evaluations.services import task_review, task_submit
from interviews.defaults import rubric_load
from interviews.models import CompetencyInterview, InterviewPlanItem
from interviews.services import interview_request, interview_send_result, plan_item_submit, plan_item_verify
from listeners.models import ListenerStatus
from listeners.services import listener_set_status
from supervision.models import EthicsSource
from supervision.services import (
    ethics_case_decide,
    ethics_case_open,
    ethics_case_record_evaluation,
    ethics_case_start_investigating,
)

from ..factories import UserFactory
from ..interviews.conftest import scored
from ..portal.helpers import notified_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    rubric_load()
    return UserFactory(roles=["supervisor"]), UserFactory(roles=["reviewer"]), UserFactory(roles=["reviewer"])


def finish_tasks(listener, reviewer):
    for task in ListenerTask.objects.filter(listener=listener):
        task_submit(task=task, actor=listener.user, note="已完成")
        task_review(task=task, actor=reviewer, accepted=True)


def test_a_60_to_70_plan_keeps_the_listener_hidden_after_the_decisions_tasks_are_done(staff):
    supervisor, reviewer, observer = staff
    complaint, lead, _decision = notified_case()
    listener = complaint.listener
    interview = interview_request(listener=listener, reason="处理决定要求面试", actor=supervisor)
    with time_machine.travel(timezone.now() - timedelta(days=10)) as clock:
        done = scored(interview, supervisor, reviewer, observer, clock, 6.5)
        interview_send_result(interview=done, actor=reviewer)
    assert CompetencyInterview.objects.get(pk=interview.pk).band == "conditional"

    finish_tasks(listener, lead)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN
    assert complaint.__class__.objects.get(pk=complaint.pk).state == "closed"


def test_a_delisting_by_a_failed_interview_is_not_undone_by_a_later_ethics_decision(staff):
    supervisor, _reviewer, _observer = staff
    complaint, _lead, _decision = notified_case()
    listener = complaint.listener
    listener_set_status(listener=listener, status=ListenerStatus.DELISTED, reason="面试不合格", actor=supervisor)
    case = ethics_case_open(
        listener=listener, source=EthicsSource.SUPERVISOR_OBSERVATION, summary="旁听发现", actor=supervisor
    )
    case = ethics_case_start_investigating(case=case, actor=supervisor)
    case = ethics_case_record_evaluation(
        case=case, actor=supervisor, evaluation_summary="属实", grade=Grade.objects.get(level=2)
    )

    ethics_case_decide(case=case, actor=supervisor, text_to_listener="说明")
    finish_tasks(listener, supervisor)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.DELISTED


def test_a_verified_plan_waits_for_the_decisions_open_tasks_before_restoring(staff):
    supervisor, reviewer, observer = staff
    complaint, lead, _decision = notified_case()
    listener = complaint.listener
    interview = interview_request(listener=listener, reason="处理决定要求面试", actor=supervisor)
    with time_machine.travel(timezone.now() - timedelta(days=10)) as clock:
        done = scored(interview, supervisor, reviewer, observer, clock, 6.5)
        interview_send_result(interview=done, actor=reviewer)

    for item in InterviewPlanItem.objects.filter(interview=interview):
        plan_item_submit(item=item, note="已完成", actor=listener.user)
        plan_item_verify(item=item, actor=reviewer)
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN  # the decision's three tasks are still open

    finish_tasks(listener, lead)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.ACTIVE


def test_a_passed_interview_leaves_the_listener_hidden_while_decision_tasks_are_open(staff):
    supervisor, reviewer, observer = staff
    complaint, lead, _decision = notified_case()
    listener = complaint.listener
    interview = interview_request(listener=listener, reason="处理决定要求面试", actor=supervisor)
    with time_machine.travel(timezone.now() - timedelta(days=10)) as clock:
        interview_send_result(interview=scored(interview, supervisor, reviewer, observer, clock, 8), actor=reviewer)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN

    finish_tasks(listener, lead)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.ACTIVE


def test_a_listener_returned_to_internship_by_a_60_to_70_result_is_restored_by_the_last_holder(staff):
    supervisor, reviewer, observer = staff
    complaint, lead, _decision = notified_case()
    listener = complaint.listener
    interview = interview_request(listener=listener, reason="处理决定要求面试", actor=supervisor)
    with time_machine.travel(timezone.now() - timedelta(days=10)) as clock:
        done = scored(interview, supervisor, reviewer, observer, clock, 6.5)
        interview_send_result(interview=done, actor=supervisor, interim_status=ListenerStatus.INTERNSHIP)
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN  # the decision's hiding is stricter than internship

    finish_tasks(listener, lead)
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.INTERNSHIP  # the plan still holds it

    for item in InterviewPlanItem.objects.filter(interview=interview):
        plan_item_submit(item=item, note="已完成", actor=listener.user)
        plan_item_verify(item=item, actor=reviewer)
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.ACTIVE


def test_an_internship_not_set_by_an_interview_is_left_alone(staff):
    supervisor, _reviewer, _observer = staff
    complaint, lead, _decision = notified_case()
    listener = complaint.listener
    listener_set_status(listener=listener, status=ListenerStatus.INTERNSHIP, reason="新入驻", actor=supervisor)

    finish_tasks(listener, lead)

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.INTERNSHIP
