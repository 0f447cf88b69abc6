"""Who works on a case: the reviewers on it, assigning one, stepping aside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor
from accounts.roles import Role
from complaints.models import Complaint, ComplaintState
from complaints.services import (
    complaint_record,
    conflict_declare,
    review_link,
    reviewer_conflicts,
)
from core.errors import WrongState
from core.notifications import notify

from ..models import (
    Evaluation,
    ReviewerAssignment,
)

if TYPE_CHECKING:
    from accounts.models import User


# --- who works on a case ------------------------------------------------------------------


def reviewers_of(complaint: Complaint) -> set[int]:
    ids = set(ReviewerAssignment.objects.filter(complaint=complaint).values_list("reviewer_id", flat=True))
    if complaint.assigned_reviewer_id:
        ids.add(complaint.assigned_reviewer_id)
    return ids


def is_lead(user: User, complaint: Complaint) -> bool:
    return complaint.assigned_reviewer_id == user.pk


def _require_case_reviewer(user: User, complaint: Complaint) -> None:
    if user.pk not in reviewers_of(complaint) and not is_supervisor(user):
        raise PermissionDenied(_("您不是本案的评估人。"))


@transaction.atomic
def reviewer_assign(*, complaint: Complaint, reviewer: User, actor: User) -> ReviewerAssignment:
    """Add a reviewer to the case. Refused, with the reason, when they have a conflict of interest."""
    if not (is_supervisor(actor) or is_lead(actor, complaint)):
        raise PermissionDenied(_("只有督导或本案主审可以增加评估人。"))
    if not reviewer.has_role(Role.REVIEWER):
        raise ValidationError({"reviewer": [_("只能指派给专业组成员。")]})
    if (
        complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION)
        or Evaluation.objects.filter(complaint=complaint, is_final=True).exists()
    ):
        raise WrongState(_("最终评估形成后不能再增加评估人。"))
    reasons = reviewer_conflicts(reviewer, complaint)
    handled_other = (
        ReviewerAssignment.objects.filter(reviewer=reviewer, complaint__complainant_id=complaint.complainant_id)
        .exclude(complaint=complaint)
        .exists()
    )
    if handled_other and not reasons:
        reasons.append(_("该专业组成员处理过同一投诉人的其他投诉。"))
    if reasons:
        raise ValidationError({"reviewer": [_("不能指派：%(reasons)s") % {"reasons": "".join(reasons)}]})
    assignment, _created = ReviewerAssignment.objects.get_or_create(
        complaint=complaint, reviewer=reviewer, defaults={"assigned_by": actor}
    )
    complaint_record(complaint=complaint, actor=actor, note=_("增加评估人：%(n)s") % {"n": reviewer}, visible=False)
    notify(
        recipients=[reviewer],
        kind="complaint.assigned",
        template="case_assigned",
        context={"reference": complaint.reference},
        link=review_link(complaint),
    )
    return assignment


@transaction.atomic
def reviewer_step_aside(*, complaint: Complaint, reviewer: User, reason: str) -> None:
    """A reviewer on the case declares a conflict: they leave it, and supervisors are told."""
    if reviewer.pk not in reviewers_of(complaint):
        raise PermissionDenied(_("您不是本案的评估人。"))
    if Evaluation.objects.filter(complaint=complaint, is_final=True).exists():
        raise WrongState(_("最终评估形成后不能再回避，请联系督导。"))
    conflict_declare(complaint=complaint, reviewer=reviewer, reason=reason)
    ReviewerAssignment.objects.filter(complaint=complaint, reviewer=reviewer).delete()
    Evaluation.objects.filter(complaint=complaint, reviewer=reviewer, is_final=False, submitted_at=None).delete()
