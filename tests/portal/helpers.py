"""Arrangement for portal tests: complaints shared with their listener, and notified decisions."""

from decimal import Decimal

from complaints.services import complaint_begin_evaluation
from evaluations.models import Decision, Grade
from evaluations.services import (
    decision_approve,
    decision_draft,
    decision_notify,
    decision_submit,
    evaluation_reconcile,
    evaluation_save,
    statement_request,
)

from ..evaluations.helpers import escalated_case, finalized, scores
from ..factories import ListeningSessionFactory, UserFactory


def shared_case(**kwargs):
    """A complaint in investigation whose listener was asked for a statement."""
    complaint, lead = escalated_case(**kwargs)
    statement_request(complaint=complaint, actor=lead)
    return complaint, lead


def notified_case(**kwargs):
    """A grade-2 decision delivered to the listener: three tasks, the listener hidden."""
    complaint, lead = finalized("B", 2, **kwargs)
    return complaint, lead, notify_grade_2(complaint, lead)


def decide_grade_2(complaint, lead):
    """Take a case from investigation to a notified grade-2 decision."""
    complaint_begin_evaluation(complaint=complaint, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores("B", 2), submit=True)
    evaluation_reconcile(complaint=complaint, lead=lead, data=scores("B", 2))
    return notify_grade_2(complaint, lead)


def notify_grade_2(complaint, lead):
    decision = decision_draft(
        complaint=complaint,
        actor=lead,
        grade=Grade.objects.get(level=2),
        refund_amount=Decimal("40.00"),
        text_to_complainant="平台向您致歉并部分退款。",
        text_to_listener="专业组认为本次倾诉中共情不足，请完成以下任务。",
    )
    decision_submit(decision=decision, actor=lead)
    decision_approve(decision=decision, actor=UserFactory(roles=["supervisor"]))
    decision_notify(decision=decision, actor=lead)
    return Decision.objects.get(pk=decision.pk)


def shared_case_about(listener):
    """Another complaint about the same listener, shared with them."""
    session = ListeningSessionFactory(listener=listener)
    return shared_case(complainant=session.complainant, session=session)
