"""Evaluation: each reviewer scores, the lead reconciles the final evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from complaints.models import Complaint, ComplaintState
from complaints.selectors import complaint_get_for_update
from complaints.services import (
    complaint_record,
)
from core.errors import WrongState

from ..models import (
    Evaluation,
    Outcome,
)
from .assignment import is_lead, reviewers_of

if TYPE_CHECKING:
    from accounts.models import User


# --- evaluation ----------------------------------------------------------------------------------

EVALUATION_FIELDS = [
    "facts",
    "facts_rationale",
    "evidence_cited",
    "demand",
    "demand_rationale",
    "finding_competence_gap",
    "finding_subjective_harm",
    "finding_inducing_orders",
    "finding_illegality",
    "competence_rationale",
    "awareness",
    "reflection",
    "awareness_rationale",
    "outcome",
    "proposed_grade",
    "outcome_rationale",
]
REQUIRED_ON_SUBMIT = [
    ("facts", gettext_lazy("请评估投诉是否属实。")),
    ("facts_rationale", gettext_lazy("请写明事实判断的理由。")),
    ("demand", gettext_lazy("请评估诉求是否合理。")),
    ("demand_rationale", gettext_lazy("请写明诉求判断的理由。")),
    ("competence_rationale", gettext_lazy("请写明对胜任力、伤害、诱导下单和违法情况的判断理由。")),
    ("awareness", gettext_lazy("请评估倾听师在倾诉中的觉察。")),
    ("reflection", gettext_lazy("请评估倾听师在处理过程中的反思。")),
    ("awareness_rationale", gettext_lazy("请写明觉察与反思评估的理由。")),
    ("outcome", gettext_lazy("请选择结论 A 或 B。")),
    ("outcome_rationale", gettext_lazy("请写明结论的理由。")),
]


def _validate_evaluation(evaluation: Evaluation) -> None:
    errors: dict[str, list[str]] = {}
    for field, message in REQUIRED_ON_SUBMIT:
        value = getattr(evaluation, field)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            errors.setdefault(field, []).append(str(message))
    grade = evaluation.proposed_grade
    if evaluation.outcome == Outcome.B and (grade is None or grade.level == 0):
        errors.setdefault("proposed_grade", []).append(_("结论 B 须提出 1 级及以上的处理等级。"))
    if evaluation.outcome == Outcome.A and grade is not None and grade.level != 0:
        errors.setdefault("proposed_grade", []).append(_("结论 A 对应 0 级（无明确不足）。"))
    if errors:
        raise ValidationError(errors)


def _require_evaluating(complaint: Complaint) -> None:
    if complaint.state != ComplaintState.EVALUATION:
        raise WrongState(_("案件不在评估阶段。"))


@transaction.atomic
def evaluation_save(*, complaint: Complaint, reviewer: User, data: dict, submit: bool = False) -> Evaluation:
    """Save a reviewer's own evaluation as a draft, or submit it (then it is read-only)."""
    locked = complaint_get_for_update(complaint.pk)
    if reviewer.pk not in reviewers_of(locked):
        raise PermissionDenied(_("您不是本案的评估人。"))
    _require_evaluating(locked)
    evaluation, _created = Evaluation.objects.select_for_update().get_or_create(
        complaint=locked, reviewer=reviewer, is_final=False
    )
    if evaluation.submitted:
        raise WrongState(_("您的评估已提交，不能再修改。"))
    for field in EVALUATION_FIELDS:
        if field in data:
            setattr(evaluation, field, data[field])
    if submit:
        _validate_evaluation(evaluation)
        evaluation.submitted_at = timezone.now()
    evaluation.save()
    if submit:
        complaint_record(complaint=locked, actor=reviewer, note=_("评估人提交了评估。"), visible=False)
    return evaluation


def evaluations_visible_to(user: User, complaint: Complaint) -> list[Evaluation]:
    """A reviewer sees others' scores only after submitting their own; supervisors see all."""
    evaluations = list(
        Evaluation.objects.filter(complaint=complaint).select_related("reviewer", "proposed_grade").order_by("id")
    )
    if is_supervisor(user):
        return evaluations
    own = next((e for e in evaluations if e.reviewer_id == user.pk and not e.is_final), None)
    if own is not None and own.submitted:
        return evaluations
    return [e for e in evaluations if e.reviewer_id == user.pk and not e.is_final]


@transaction.atomic
def evaluation_reconcile(*, complaint: Complaint, lead: User, data: dict, disagreements: str = "") -> Evaluation:
    """The lead's final evaluation, once every reviewer has submitted; their disagreements are kept."""
    locked = complaint_get_for_update(complaint.pk)
    if not is_lead(lead, locked):
        raise PermissionDenied(_("只有本案主审可以形成最终评估。"))
    _require_evaluating(locked)
    pending = reviewers_of(locked) - set(
        Evaluation.objects.filter(complaint=locked, is_final=False, submitted_at__isnull=False).values_list(
            "reviewer_id", flat=True
        )
    )
    if pending:
        raise ValidationError(_("还有评估人没有提交评估。"))
    if Evaluation.objects.filter(complaint=locked, is_final=True).exists():
        raise WrongState(_("最终评估已经形成。"))
    final = Evaluation(complaint=locked, reviewer=lead, is_final=True, disagreements=disagreements.strip())
    for field in EVALUATION_FIELDS:
        if field in data:
            setattr(final, field, data[field])
    _validate_evaluation(final)
    final.submitted_at = timezone.now()
    final.save()
    complaint_record(complaint=locked, actor=lead, note=_("主审形成了最终评估。"), visible=False)
    return final
