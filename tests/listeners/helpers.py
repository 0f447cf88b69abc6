"""Arrangement for standing tests: notified decisions of any grade about one listener."""

from decimal import Decimal

from evaluations.models import Decision, DecisionState, Grade
from evaluations.services import decision_approve, decision_draft, decision_notify, decision_submit

from ..evaluations.helpers import finalized
from ..factories import ListeningSessionFactory

MONEY = {
    2: {"refund_amount": Decimal("40.00")},
    3: {"refund_amount": Decimal("99.00"), "compensation_amount": Decimal("50.00")},
    4: {"refund_amount": Decimal("99.00"), "compensation_amount": Decimal("50.00")},
}


def decide(listener, level: int, supervisor) -> Decision:
    """A new complaint about ``listener`` taken to a notified decision of the grade's defaults."""
    session = ListeningSessionFactory(listener=listener)
    complaint, lead = finalized("B", level, complainant=session.complainant, session=session)
    decision = decision_draft(
        complaint=complaint,
        actor=lead,
        grade=Grade.objects.get(level=level),
        text_to_complainant="平台向您致歉。",
        text_to_listener="请完成以下任务。",
        **MONEY.get(level, {}),
    )
    decision = decision_submit(decision=decision, actor=lead)
    if decision.state == DecisionState.PENDING_APPROVAL:
        decision_approve(decision=decision, actor=supervisor)
    decision_notify(decision=decision, actor=lead)
    return Decision.objects.get(pk=decision.pk)
