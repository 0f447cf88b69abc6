"""Arrangement for evaluation tests: a complaint escalated to a lead reviewer, in evaluation."""

from complaints.services import complaint_begin_evaluation, complaint_escalate, complaint_start_triage
from evaluations.models import Grade
from evaluations.services import evaluation_reconcile, evaluation_save

from ..complaints.helpers import file_complaint
from ..factories import UserFactory


def escalated_case(**kwargs):
    consultant = UserFactory(roles=["consultant"])
    lead = UserFactory(roles=["reviewer"])
    complaint = file_complaint(**kwargs)
    complaint_start_triage(complaint=complaint, actor=consultant)
    complaint_escalate(complaint=complaint, actor=consultant, reviewer=lead)
    return complaint, lead


def in_evaluation(**kwargs):
    complaint, lead = escalated_case(**kwargs)
    complaint_begin_evaluation(complaint=complaint, actor=lead)
    return complaint, lead


def scores(outcome="B", level=2, **overrides):
    data = {
        "facts": "substantiated",
        "facts_rationale": "录音显示倾听师多次打断用户。",
        "evidence_cited": "通话录音第 12–20 分钟",
        "demand": "partly",
        "demand_rationale": "道歉合理，全额退款过高。",
        "finding_competence_gap": True,
        "finding_subjective_harm": True,
        "competence_rationale": "共情不足，对用户造成伤害。",
        "awareness": 2,
        "reflection": 3,
        "awareness_rationale": "事后经提示才觉察，陈述中有反思。",
        "outcome": outcome,
        "proposed_grade": Grade.objects.get(level=level if outcome == "B" else 0),
        "outcome_rationale": "存在明显的胜任力不足。",
    }
    data.update(overrides)
    return data


def finalized(outcome="B", level=2, **kwargs):
    """A case whose lead has submitted and reconciled: ready for a decision."""
    complaint, lead = in_evaluation(**kwargs)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(outcome, level), submit=True)
    evaluation_reconcile(complaint=complaint, lead=lead, data=scores(outcome, level))
    return complaint, lead
