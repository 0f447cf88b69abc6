"""Every move of an interview, its plan items and a confidentiality-break report is kept in an
append-only event table."""

import pytest
from django.db import InternalError, ProgrammingError, transaction

from interviews.models import CompetencyInterview, InterviewPlanItem
from interviews.services import interview_send_result, plan_item_submit, plan_item_verify
from supervision.models import BreakCategory, ConfidentialityBreakReport
from supervision.services import confidentiality_report_acknowledge, confidentiality_report_file

from ..factories import ListenerProfileFactory, UserFactory
from .conftest import scored

pytestmark = pytest.mark.django_db


def test_each_state_of_an_interview_and_its_plan_is_on_record(clock, interview, supervisor, reviewer, observer):
    done = scored(interview, supervisor, reviewer, observer, clock, 8)
    interview_send_result(interview=done, actor=reviewer)
    item = InterviewPlanItem.objects.filter(interview=interview).first()
    plan_item_submit(item=item, note="已完成", actor=interview.listener.user)
    plan_item_verify(item=item, actor=reviewer)

    event_model = CompetencyInterview._meta.apps.get_model("interviews", "CompetencyInterviewEvent")
    states = list(
        event_model.objects.filter(pgh_obj_id=interview.pk).order_by("pgh_id").values_list("state", flat=True)
    )
    item_model = CompetencyInterview._meta.apps.get_model("interviews", "InterviewPlanItemEvent")
    item_states = list(item_model.objects.filter(pgh_obj_id=item.pk).order_by("pgh_id").values_list("state", flat=True))

    # The report was in before booking, so the booking scheduled it at once; naming the panel is a
    # change of its own while scheduled.
    assert states == ["requested", "scheduled", "scheduled", "held", "scored", "result_sent"]
    assert item_states == ["open", "submitted", "verified"]
    last = event_model.objects.filter(pgh_obj_id=interview.pk).order_by("pgh_id").last()
    assert last.band == "pass" and last.result_sent_at is not None
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        event_model.objects.filter(pgh_obj_id=interview.pk).update(state="cancelled")


def test_a_confidentiality_report_keeps_its_moves_but_not_its_account():
    listener = ListenerProfileFactory()
    supervisor = UserFactory(roles=["supervisor"])
    report = confidentiality_report_file(
        reporter=listener.user, category=BreakCategory.HARM_TO_OTHERS, what_happened="不应出现在事件表中"
    )
    confidentiality_report_acknowledge(report=report, actor=supervisor)

    event_model = ConfidentialityBreakReport._meta.apps.get_model("supervision", "ConfidentialityBreakReportEvent")
    rows = list(event_model.objects.filter(pgh_obj_id=report.pk).order_by("pgh_id"))

    assert [r.state for r in rows] == ["filed", "acknowledged"]
    assert rows[-1].acknowledged_by_id == supervisor.pk
    assert not any(f.name == "what_happened" for f in event_model._meta.get_fields())
