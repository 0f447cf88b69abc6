"""Graded decisions through follow-up to closing; approvals; what each party is told; appeals."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints.models import Complaint, ComplaintState
from complaints.services import ComplaintConflict
from core.models import Deadline, DeadlineKind
from evaluations.models import Appeal, AppealState, Decision, DecisionState, Grade, ListenerTask, TaskState
from evaluations.services import (
    appeal_assign,
    appeal_file,
    appeal_resolve,
    decision_approve,
    decision_draft,
    decision_notify,
    decision_record_listener_response,
    decision_send_back,
    decision_submit,
    task_review,
    task_submit,
)
from interviews.models import CompetencyInterview
from listeners.models import ListenerStatus, ListenerStatusChange

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE
from ..factories import UserFactory
from .helpers import finalized

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=["supervisor"], email="li@hearken.cn")


def draft(complaint, lead, level, **kwargs):
    values = {
        "text_to_complainant": "经调查，倾听师存在明显的胜任力不足，平台向您致歉并部分退款。",
        "text_to_listener": "专业组认为本次倾诉中共情不足，请完成以下任务。",
    }
    values.update(kwargs)
    return decision_draft(complaint=complaint, actor=lead, grade=Grade.objects.get(level=level), **values)


def approved_grade_2(supervisor):
    complaint, lead = finalized("B", 2)
    decision = draft(complaint, lead, 2, refund_amount=Decimal("40.00"))
    decision_submit(decision=decision, actor=lead)
    decision_approve(decision=decision, actor=supervisor)
    return complaint, lead, Decision.objects.get(pk=decision.pk)


def test_measures_and_remedies_default_from_the_grade(db):
    complaint, lead = finalized("B", 2)

    decision = draft(complaint, lead, 2, refund_amount=Decimal("40.00"))

    grade = Grade.objects.get(level=2)
    assert decision.measures == grade.measures
    assert decision.remedies == grade.remedies
    assert decision.refund_amount == Decimal("40.00")


def test_changing_the_defaults_needs_a_reason(db):
    complaint, lead = finalized("B", 2)

    with pytest.raises(ValidationError) as refused:
        draft(complaint, lead, 2, measures=["feedback"], refund_amount=Decimal("40.00"))
    assert "adjustment_reason" in refused.value.message_dict

    decision = draft(
        complaint, lead, 2, measures=["feedback"], refund_amount=Decimal("40"), adjustment_reason="初犯且反思深入"
    )
    assert decision.measures == ["feedback"]


def test_the_grade_must_match_the_final_outcome(db):
    complaint, lead = finalized("A")

    with pytest.raises(ValidationError):
        draft(complaint, lead, 2, refund_amount=Decimal("40"))


def test_a_partial_refund_must_be_less_than_the_order(db):
    complaint, lead = finalized("B", 2)

    with pytest.raises(ValidationError) as refused:
        draft(complaint, lead, 2, refund_amount=Decimal("500.00"))

    assert "refund_amount" in refused.value.message_dict


def test_money_remedies_need_a_supervisors_approval_before_notification(db, supervisor):
    complaint, lead = finalized("B", 2)
    decision = draft(complaint, lead, 2, refund_amount=Decimal("40.00"))

    submitted = decision_submit(decision=decision, actor=lead)
    assert submitted.state == DecisionState.PENDING_APPROVAL
    with pytest.raises(ComplaintConflict):
        decision_notify(decision=submitted, actor=lead)
    with pytest.raises(PermissionDenied):
        decision_approve(decision=submitted, actor=lead)

    approved = decision_approve(decision=submitted, actor=supervisor)

    assert approved.state == DecisionState.APPROVED
    assert approved.approved_by == supervisor


def test_approving_a_money_remedy_writes_an_outbox_event_for_the_platform(db, supervisor):
    from core.models import OutboxEvent

    complaint, _lead, _decision = approved_grade_2(supervisor)

    event = OutboxEvent.objects.get(kind="remedy.approved")
    assert event.payload["order_no"] == complaint.session.order_no
    assert event.payload["amount"] == "40.00"
    assert REAL_NAME not in str(event.payload) and VALID_PHONE not in str(event.payload)


def test_grade_zero_without_money_needs_no_approval_and_closes_on_notification(db):
    complaint, lead = finalized("A")
    decision = draft(complaint, lead, 0)

    confirmed = decision_submit(decision=decision, actor=lead)
    decision_notify(decision=confirmed, actor=lead)

    assert confirmed.state == DecisionState.APPROVED
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.CLOSED
    assert not ListenerTask.objects.exists()


def test_a_supervisor_can_send_a_decision_back_with_a_reason(db, supervisor):
    complaint, lead = finalized("B", 3)
    decision = draft(complaint, lead, 3, text_to_complainant="全额退款并补偿", compensation_amount=Decimal("100"))
    decision_submit(decision=decision, actor=lead)

    with pytest.raises(ValidationError):
        decision_send_back(decision=decision, actor=supervisor, reason="")
    returned = decision_send_back(decision=decision, actor=supervisor, reason="补偿金额依据不足")

    assert returned.state == DecisionState.DRAFT
    assert returned.returned_reason == "补偿金额依据不足"


def test_notification_creates_tasks_deadlines_and_status_changes_in_one_go(
    db, supervisor, django_capture_on_commit_callbacks
):
    complaint, lead, decision = approved_grade_2(supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        decision_notify(decision=decision, actor=lead)

    complaint.refresh_from_db()
    listener = complaint.listener
    listener.refresh_from_db()
    tasks = ListenerTask.objects.filter(decision=decision)
    assert complaint.state == ComplaintState.FOLLOW_UP
    assert sorted(tasks.values_list("kind", flat=True)) == ["feedback", "personal_therapy", "supervision_sessions"]
    assert Deadline.objects.filter(kind=DeadlineKind.LISTENER_TASK, state="open").count() == 3
    assert listener.status == ListenerStatus.HIDDEN
    change = ListenerStatusChange.objects.get(listener=listener)
    assert change.source == decision
    to_listener = [m for m in mail.outbox if m.to == [listener.user.email]]
    to_complainant = [m for m in mail.outbox if m.to == [complaint.complainant.email]]
    assert "共情不足" in to_listener[-1].body
    assert "部分退款" in to_complainant[-1].body
    for message in to_listener:
        for secret in (REAL_NAME, VALID_ID, VALID_PHONE, complaint.complainant.email, "张**"):
            assert secret not in message.subject + message.body


def test_a_failure_in_the_middle_of_notification_leaves_nothing_half_done(db, supervisor, monkeypatch):
    complaint, lead, decision = approved_grade_2(supervisor)

    def fail(**kwargs):
        raise RuntimeError("status service down")

    monkeypatch.setattr("evaluations.measures.hold_place", fail)
    with pytest.raises(RuntimeError):
        decision_notify(decision=decision, actor=lead)

    assert Decision.objects.get(pk=decision.pk).state == DecisionState.APPROVED
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.EVALUATION
    assert not ListenerTask.objects.exists()
    assert not Deadline.objects.filter(kind=DeadlineKind.LISTENER_TASK).exists()


def test_grade_three_suspends_and_opens_a_competency_interview(db, supervisor):
    complaint, lead = finalized("B", 3)
    decision = draft(complaint, lead, 3, compensation_amount=Decimal("100"))
    decision_submit(decision=decision, actor=lead)
    decision_approve(decision=decision, actor=supervisor)

    decision_notify(decision=decision, actor=lead)

    complaint.listener.refresh_from_db()
    assert complaint.listener.status == ListenerStatus.SUSPENDED
    interview = CompetencyInterview.objects.get(listener=complaint.listener)
    assert interview.complaint == complaint


def test_the_listeners_response_is_recorded_and_dissent_needs_reasons(db, supervisor):
    _complaint, lead, decision = approved_grade_2(supervisor)

    with pytest.raises(ValidationError):
        decision_record_listener_response(decision=decision, actor=lead, response="disagrees")
    recorded = decision_record_listener_response(
        decision=decision, actor=lead, response="disagrees", reason="我认为用户的期待超出倾诉范围"
    )

    assert recorded.listener_response == "disagrees"


def test_verified_tasks_close_the_case_and_lift_the_hidden_status(db, supervisor):
    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)
    listener_user = complaint.listener.user
    tasks = list(ListenerTask.objects.filter(decision=decision))

    with pytest.raises(PermissionDenied):
        task_submit(task=tasks[0], actor=complaint.complainant, note="x")
    for task in tasks:
        task_submit(task=task, actor=listener_user, note="已完成", upload=SimpleUploadedFile("证明.pdf", PDF))
    task_review(task=tasks[0], actor=lead, accepted=False, note="请补充督导师签字")
    assert ListenerTask.objects.get(pk=tasks[0].pk).state == TaskState.OPEN
    task_submit(task=tasks[0], actor=listener_user, note="已补充签字")
    for task in tasks:
        task_review(task=task, actor=lead, accepted=True)

    complaint.refresh_from_db()
    complaint.listener.refresh_from_db()
    assert complaint.state == ComplaintState.CLOSED
    assert complaint.listener.status == ListenerStatus.ACTIVE
    assert ListenerStatusChange.objects.filter(listener=complaint.listener).count() == 2
    assert Deadline.objects.filter(kind=DeadlineKind.SATISFACTION_SURVEY, state="open").exists()


def test_a_bad_evidence_file_is_refused(db, supervisor):
    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)
    task = ListenerTask.objects.filter(decision=decision).first()

    with pytest.raises(ValidationError):
        task_submit(task=task, actor=complaint.listener.user, note="x", upload=SimpleUploadedFile("a.pdf", b"MZ\x90"))


def test_the_listener_appeals_once_within_seven_days(db, supervisor):
    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)
    listener_user = complaint.listener.user

    appeal = appeal_file(decision=decision, actor=listener_user, reason="用户提前挂断，录音不完整")

    assert appeal.party == "listener"
    with pytest.raises(ComplaintConflict):
        appeal_file(decision=decision, actor=listener_user, reason="再申诉")


def test_an_appeal_after_seven_days_is_refused(db, supervisor):
    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)

    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(ValidationError):
        appeal_file(decision=decision, actor=complaint.listener.user, reason="晚了")
    assert not Appeal.objects.exists()


def test_an_appeal_goes_to_a_different_reviewer_and_a_change_recomputes_the_measures(db, supervisor):
    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)
    appeal = appeal_file(decision=decision, actor=complaint.listener.user, reason="处理过重")
    fresh = UserFactory(roles=["reviewer"])

    with pytest.raises(ValidationError):
        appeal_assign(appeal=appeal, actor=supervisor, reviewer=lead)
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=fresh)
    appeal_resolve(
        appeal=appeal, actor=supervisor, outcome=AppealState.CHANGED, note="改为 1 级", grade=Grade.objects.get(level=1)
    )

    decision.refresh_from_db()
    complaint.listener.refresh_from_db()
    live = set(
        ListenerTask.objects.filter(decision=decision).exclude(state=TaskState.CANCELLED).values_list("kind", flat=True)
    )
    assert decision.grade.level == 1
    assert live == {"feedback", "continued_learning"}
    assert complaint.listener.status == ListenerStatus.ACTIVE
    assert complaint.timeline.filter(note__contains="复核结论").exists()


def test_an_annulled_decision_cancels_tasks_restores_the_listener_and_closes_the_case(db, supervisor):
    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)
    appeal = appeal_file(decision=decision, actor=complaint.listener.user, reason="事实认定有误")
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))

    appeal_resolve(appeal=appeal, actor=supervisor, outcome=AppealState.ANNULLED, note="证据不足，撤销")

    complaint.refresh_from_db()
    complaint.listener.refresh_from_db()
    assert not ListenerTask.objects.filter(decision=decision, state=TaskState.OPEN).exists()
    assert complaint.listener.status == ListenerStatus.ACTIVE
    assert complaint.state == ComplaintState.CLOSED


def test_the_complainant_may_ask_to_reopen_within_fourteen_days_of_closing(db):
    complaint, lead = finalized("A")
    decision = decision_submit(decision=draft(complaint, lead, 0), actor=lead)
    decision_notify(decision=decision, actor=lead)

    appeal = appeal_file(decision=decision, actor=complaint.complainant, reason="我还有新的证据")
    assert appeal.party == "complainant"
    with time_machine.travel(timezone.now() + timedelta(days=15)), pytest.raises(ValidationError):
        appeal_file(decision=decision, actor=complaint.complainant, reason="再试一次")


def test_strangers_cannot_appeal(db, supervisor):
    _complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)

    with pytest.raises(PermissionDenied):
        appeal_file(decision=decision, actor=UserFactory(roles=["listener"]), reason="x")


def test_the_supervisor_who_drafted_a_decision_cannot_approve_it(db, supervisor):
    complaint, _lead = finalized("B", 3)
    decision = decision_draft(
        complaint=complaint,
        actor=supervisor,
        grade=Grade.objects.get(level=3),
        text_to_complainant="全额退款并补偿",
        text_to_listener="暂停接单并参加面试",
        compensation_amount=Decimal("100"),
    )
    decision_submit(decision=decision, actor=supervisor)

    with pytest.raises(PermissionDenied):
        decision_approve(decision=decision, actor=supervisor)
    assert decision_approve(decision=decision, actor=UserFactory(roles=["supervisor"])).state == "approved"


def test_an_annulled_refund_is_withdrawn_on_the_platform(db, supervisor):
    from core.models import OutboxEvent

    complaint, lead, decision = approved_grade_2(supervisor)
    decision_notify(decision=decision, actor=lead)
    appeal = appeal_file(decision=decision, actor=complaint.listener.user, reason="事实认定有误")
    fresh = UserFactory(roles=["reviewer"])
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=fresh)

    with pytest.raises(PermissionDenied):
        appeal_resolve(appeal=appeal, actor=fresh, outcome=AppealState.ANNULLED, note="撤销")
    appeal_resolve(appeal=appeal, actor=supervisor, outcome=AppealState.ANNULLED, note="撤销")

    withdrawn = OutboxEvent.objects.get(kind="remedy.withdrawn")
    assert withdrawn.payload["remedy"] == "partial_refund"
    assert withdrawn.payload["amount"] == "40.00"
