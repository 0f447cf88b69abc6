"""The professional group's part of the case: who may review it, and the moves their services make."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor
from accounts.roles import Role
from core.deadlines import deadline_cancel, deadline_meet, deadline_open, deadline_set_owner
from core.models import DeadlineKind
from core.notifications import notify

from ..models import (
    Complaint,
    ConflictDeclaration,
    TimelineEvent,
)
from ..selectors import complaint_get_for_update

if TYPE_CHECKING:
    from accounts.models import User
from .common import _event, _transition, review_link, staff_link


def reviewer_conflicts(reviewer: User, complaint: Complaint) -> list[str]:
    """Why this reviewer must not handle this case; empty when they may."""
    reasons = []
    if complaint.listener.supervisor_id == reviewer.pk:
        reasons.append(_("该专业组成员是被投诉倾听师的个人督导。"))
    handled = Complaint.objects.filter(complainant_id=complaint.complainant_id, assigned_reviewer=reviewer).exclude(
        pk=complaint.pk
    )
    if handled.exists():
        reasons.append(_("该专业组成员处理过同一投诉人的其他投诉。"))
    if ConflictDeclaration.objects.filter(complaint=complaint, reviewer=reviewer).exists():
        reasons.append(_("该专业组成员已声明与本案存在利益冲突。"))
    return reasons


def _check_reviewer(reviewer: User, complaint: Complaint) -> None:
    if not reviewer.has_role(Role.REVIEWER):
        raise ValidationError({"reviewer": [_("只能指派给专业组成员。")]})
    reasons = reviewer_conflicts(reviewer, complaint)
    if reasons:
        raise ValidationError({"reviewer": [_("不能指派：%(reasons)s") % {"reasons": "".join(reasons)}]})


@transaction.atomic
def conflict_declare(*, complaint: Complaint, reviewer: User, reason: str) -> ConflictDeclaration:
    """A reviewer steps aside. If they were the assigned reviewer, the assignment is cleared for reassignment."""
    if not reviewer.has_role(Role.REVIEWER):
        raise PermissionDenied(_("只有专业组成员可以声明利益冲突。"))
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明利益冲突的原因。")]})
    declaration, _created = ConflictDeclaration.objects.get_or_create(
        complaint=complaint, reviewer=reviewer, defaults={"reason": reason.strip()}
    )
    locked = complaint_get_for_update(complaint.pk)
    if locked.assigned_reviewer_id == reviewer.pk:
        locked.assigned_reviewer = None
        locked.version += 1
        locked.save(update_fields=["assigned_reviewer", "version", "updated_at"])
        complaint.version = locked.version
        complaint.assigned_reviewer = None
        deadline_set_owner(subject=locked, kinds=[DeadlineKind.INVESTIGATION, DeadlineKind.DECISION], owner=None)
        notify(
            recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
            kind="complaint.reviewer_recused",
            template="reviewer_recused",
            context={"reference": locked.reference},
            link=staff_link(locked),
            urgent=True,
        )
    _event(locked, TimelineEvent.Kind.ASSIGNMENT, actor=reviewer, note=_("专业组成员声明利益冲突并回避。"))
    return declaration


@transaction.atomic
def complaint_begin_evaluation(*, complaint: Complaint, actor: User, expected_version: int | None = None) -> Complaint:
    """Investigation done: the lead reviewer (or a supervisor) moves the case to evaluation."""
    if not (complaint.assigned_reviewer_id == actor.pk or is_supervisor(actor)):
        raise PermissionDenied(_("只有本案主审或督导可以结束调查。"))
    locked = _transition(
        complaint,
        "begin_evaluation",
        actor=actor,
        note=_("调查完成，专业组正在进行评估。"),
        visible=True,
        expected_version=expected_version,
    )
    deadline_meet(subject=locked, kinds=[DeadlineKind.INVESTIGATION])
    deadline_open(
        subject=locked,
        kind=DeadlineKind.DECISION,
        label=locked.reference,
        link=review_link(locked),
        owner=locked.assigned_reviewer,
        owner_role=Role.REVIEWER,
    )
    return locked


@transaction.atomic
def complaint_decide(*, complaint: Complaint, actor: User, note: str) -> Complaint:
    """Only evaluations.services calls this, after checking that the decision is approved."""
    locked = _transition(complaint, "decide", actor=actor, note=note, visible=True, expected_version=None)
    deadline_meet(subject=locked, kinds=[DeadlineKind.DECISION])
    # A statement not written by the decision is no longer asked for.
    deadline_cancel(subject=locked, kinds=[DeadlineKind.LISTENER_STATEMENT])
    return locked


@transaction.atomic
def complaint_start_follow_up(*, complaint: Complaint, actor: User, note: str) -> Complaint:
    return _transition(complaint, "start_follow_up", actor=actor, note=note, visible=True, expected_version=None)


def complaint_record(
    *, complaint: Complaint, actor: User | None, note: str, visible: bool, kind: str = TimelineEvent.Kind.NOTE
) -> TimelineEvent:
    """A timeline entry written by a higher app's service (evaluation, decision, appeal)."""
    return _event(complaint, kind, actor=actor, note=note, visible=visible)
