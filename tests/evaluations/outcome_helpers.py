"""Arrangement for the outcome card and review requests: complaints that ended, and how."""

from decimal import Decimal

from complaints.services import complaint_reject, complaint_resolve, complaint_start_triage
from evaluations.models import Decision, Grade
from evaluations.services import decision_approve, decision_draft, decision_notify, decision_submit

from ..complaints.helpers import file_complaint
from ..factories import UserFactory
from .helpers import finalized

TEXT_TO_COMPLAINANT = "经核实，倾听师在通话中确有打断您的情况，平台向您致歉并部分退款。"


def closed_decided_case(**kwargs):
    """A grade-0 decision with an apology and a partial refund, approved by a supervisor and
    notified: no listener tasks, so the complaint closes at once. Returns (complaint, decision,
    lead, approver)."""
    complaint, lead = finalized("A", 0, **kwargs)
    approver = UserFactory(roles=["supervisor"])
    decision = decision_draft(
        complaint=complaint,
        actor=lead,
        grade=Grade.objects.get(level=0),
        remedies=["apology", "partial_refund"],
        refund_amount=Decimal("40.00"),
        adjustment_reason="用户诉求部分合理。",
        text_to_complainant=TEXT_TO_COMPLAINANT,
        text_to_listener="请注意倾听，不要打断用户。",
    )
    decision_submit(decision=decision, actor=lead)
    decision_approve(decision=decision, actor=approver)
    decision_notify(decision=decision, actor=lead)
    complaint.refresh_from_db()
    return complaint, Decision.objects.get(pk=decision.pk), lead, approver


def rejected_case(reason="该订单为文字倾诉，且投诉内容与本次倾诉无关。", **kwargs):
    """A complaint a consultant rejected. Returns (complaint, consultant)."""
    consultant = UserFactory(roles=["consultant"])
    complaint = file_complaint(**kwargs)
    complaint_start_triage(complaint=complaint, actor=consultant)
    complaint = complaint_reject(complaint=complaint, actor=consultant, reason=reason)
    return complaint, consultant


def resolved_case(resolution="已核实通话中断，平台已为您补发一次倾诉时长。", **kwargs):
    consultant = UserFactory(roles=["consultant"])
    complaint = file_complaint(**kwargs)
    complaint_start_triage(complaint=complaint, actor=consultant)
    complaint = complaint_resolve(complaint=complaint, actor=consultant, resolution=resolution)
    return complaint, consultant
