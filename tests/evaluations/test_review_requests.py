"""The complainant's request for a review: once, within 14 days of the outcome, handled by someone
who had no part in it, the result told to the complainant (evaluations.services.review_requests)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from complaints.models import TimelineEvent
from core.errors import WrongState
from core.models import Notification
from evaluations.models import ReviewRequest, ReviewRequestState
from evaluations.services import review_request_assign, review_request_file, review_request_resolve

from ..factories import UserFactory
from .helpers import escalated_case
from .outcome_helpers import closed_decided_case, rejected_case, resolved_case

pytestmark = pytest.mark.django_db

REASONS = "我认为评估没有考虑到倾听师挂断电话前说的话，希望重新看一下。"


def test_the_complainant_files_a_review_request_within_14_days_of_closing(django_capture_on_commit_callbacks):
    # given
    complaint, decision, _lead, _approver = closed_decided_case()
    supervisor = UserFactory(roles=["supervisor"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)

    # then
    assert request.state == ReviewRequestState.SUBMITTED
    assert request.decision == decision
    assert complaint.timeline.filter(note__contains="您申请了复核", visible_to_complainant=True).exists()
    assert Notification.objects.filter(recipient=supervisor, kind="review_request.filed").exists()
    assert any(supervisor.email in m.to and complaint.reference in m.subject for m in mail.outbox)


def test_a_review_request_after_the_14_days_is_refused_and_nothing_is_stored():
    complaint, *_ = closed_decided_case()

    with (
        time_machine.travel(timezone.now() + timedelta(days=14, minutes=1)),
        pytest.raises(ValidationError, match="14 天内"),
    ):
        review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)

    assert not ReviewRequest.objects.exists()


def test_a_review_request_on_day_13_is_accepted():
    complaint, *_ = closed_decided_case()

    with time_machine.travel(timezone.now() + timedelta(days=13, hours=23)):
        request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)

    assert request.pk is not None


def test_an_open_complaint_has_no_review_route_yet():
    complaint, _lead = escalated_case()

    with pytest.raises(WrongState, match="还没有处理结论"):
        review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)


def test_only_the_complainant_may_ask_for_a_review():
    complaint, _decision, lead, _approver = closed_decided_case()

    for someone in (lead, UserFactory(roles=["complainant"]), complaint.listener.user):
        with pytest.raises(PermissionDenied):
            review_request_file(complaint=complaint, actor=someone, reasons=REASONS)

    assert not ReviewRequest.objects.exists()


@pytest.mark.parametrize(
    ("reasons", "message"), [("   ", "请写下"), ("不满意", "至少 10 个字"), ("太长" * 1001, "2000 字以内")]
)
def test_reasons_are_required_and_length_checked(reasons, message):
    complaint, *_ = closed_decided_case()

    with pytest.raises(ValidationError) as caught:
        review_request_file(complaint=complaint, actor=complaint.complainant, reasons=reasons)

    assert message in caught.value.message_dict["reasons"][0]
    assert not ReviewRequest.objects.exists()


def test_each_complaint_gets_one_review_request():
    complaint, *_ = closed_decided_case()
    review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)

    with pytest.raises(WrongState, match="只能申请一次"):
        review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS + "补充")

    assert ReviewRequest.objects.count() == 1


def test_crisis_terms_in_the_reasons_are_kept_and_flagged_to_supervisors_as_urgent(django_capture_on_commit_callbacks):
    complaint, *_ = closed_decided_case()
    supervisor = UserFactory(roles=["supervisor"])

    with django_capture_on_commit_callbacks(execute=True):
        request = review_request_file(
            complaint=complaint, actor=complaint.complainant, reasons="处理结果让我很绝望，我真的不想活了。"
        )

    assert request.crisis_terms == ["不想活"]
    crisis = complaint.timeline.get(kind=TimelineEvent.Kind.CRISIS)
    assert not crisis.visible_to_complainant
    assert Notification.objects.get(recipient=supervisor, kind="review_request.filed").urgent


@pytest.mark.parametrize("who", ["lead", "approver", "evaluator"])
def test_people_who_decided_the_case_cannot_take_the_review(who):
    complaint, decision, lead, approver = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    person = {"lead": lead, "approver": approver, "evaluator": decision.evaluation.reviewer}[who]

    with pytest.raises(ValidationError, match="参与过这件投诉的原处理"):
        review_request_assign(review_request=request, actor=person)

    request = ReviewRequest.objects.get(pk=request.pk)
    assert request.state == ReviewRequestState.SUBMITTED and request.handler is None


def test_a_supervisor_cannot_hand_the_review_to_someone_who_decided_the_case():
    complaint, _decision, lead, _approver = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)

    with pytest.raises(ValidationError, match="参与过这件投诉的原处理"):
        review_request_assign(review_request=request, actor=UserFactory(roles=["supervisor"]), handler=lead)


def test_a_reviewer_cannot_hand_the_review_to_a_colleague_and_a_consultant_cannot_take_it():
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    reviewer = UserFactory(roles=["reviewer"])

    with pytest.raises(PermissionDenied):
        review_request_assign(review_request=request, actor=reviewer, handler=UserFactory(roles=["reviewer"]))
    with pytest.raises(ValidationError, match="专业组成员或督导"):
        review_request_assign(review_request=request, actor=UserFactory(roles=["consultant"]))


def test_an_uninvolved_reviewer_takes_it_and_a_second_taker_is_refused():
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    first, second = UserFactory(roles=["reviewer"]), UserFactory(roles=["reviewer"])

    taken = review_request_assign(review_request=request, actor=first)
    with pytest.raises(WrongState, match="已经有人负责"):
        review_request_assign(review_request=request, actor=second)

    assert taken.handler == first and taken.state == ReviewRequestState.REVIEWING
    assert complaint.timeline.filter(note__contains="未参与原处理的工作人员复核", visible_to_complainant=True).exists()


def test_the_complainant_is_told_the_result_in_app_and_by_email(django_capture_on_commit_callbacks):
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    handler = UserFactory(roles=["reviewer"])
    review_request_assign(review_request=request, actor=handler)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        resolved = review_request_resolve(
            review_request=request, actor=handler, outcome="upheld", note="复核后认为原结论符合录音记录。"
        )

    assert resolved.state == ReviewRequestState.UPHELD and resolved.resolved_at is not None
    assert Notification.objects.filter(recipient=complaint.complainant, kind="review_request.resolved").exists()
    [email] = [m for m in mail.outbox if complaint.complainant.email in m.to]
    assert "维持原结论" in email.body and "复核后认为原结论符合录音记录。" in email.body
    assert complaint.timeline.filter(note__contains="复核结论：维持原结论", visible_to_complainant=True).exists()


def test_a_change_needs_what_changes_and_goes_to_the_supervisors(django_capture_on_commit_callbacks):
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    handler = UserFactory(roles=["supervisor"])
    review_request_assign(review_request=request, actor=handler)

    with pytest.raises(ValidationError) as caught:
        review_request_resolve(review_request=request, actor=handler, outcome="changed", note="部分理由成立。")
    assert "changes" in caught.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        review_request_resolve(
            review_request=request, actor=handler, outcome="changed", note="部分理由成立。", changes="退款改为全额。"
        )

    request = ReviewRequest.objects.get(pk=request.pk)
    assert request.state == ReviewRequestState.CHANGED and request.changes == "退款改为全额。"
    assert Notification.objects.filter(recipient=handler, kind="review_request.changed").exists()


def test_only_the_handler_decides_and_the_reasons_for_a_conclusion_are_required():
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    handler = UserFactory(roles=["reviewer"])
    review_request_assign(review_request=request, actor=handler)

    with pytest.raises(PermissionDenied):
        review_request_resolve(
            review_request=request, actor=UserFactory(roles=["supervisor"]), outcome="upheld", note="维持。"
        )
    with pytest.raises(ValidationError):
        review_request_resolve(review_request=request, actor=handler, outcome="upheld", note="  ")

    request = ReviewRequest.objects.get(pk=request.pk)
    assert request.state == ReviewRequestState.REVIEWING


def test_a_rejected_complaint_has_the_same_route_and_the_consultant_who_rejected_it_cannot_review():
    complaint, consultant = rejected_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    consultant.groups.add(*UserFactory(roles=["reviewer"]).groups.all())  # later joined the group

    with pytest.raises(ValidationError, match="参与过这件投诉的原处理"):
        review_request_assign(review_request=request, actor=consultant)
    handler = UserFactory(roles=["reviewer"])
    review_request_assign(review_request=request, actor=handler)
    resolved = review_request_resolve(
        review_request=request, actor=handler, outcome="changed", note="订单确为语音倾诉。", changes="重新受理。"
    )

    assert request.decision is None
    assert resolved.state == ReviewRequestState.CHANGED


def test_a_rejected_complaints_window_runs_from_the_rejection():
    complaint, _consultant = rejected_case()

    with time_machine.travel(timezone.now() + timedelta(days=15)), pytest.raises(ValidationError, match="14 天内"):
        review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)


def test_a_directly_resolved_complaint_may_ask_for_a_review():
    complaint, _consultant = resolved_case()

    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)

    assert request.decision is None
