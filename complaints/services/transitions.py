"""The consultant's moves on a case: triage, resolve, reject, escalate, close, archive, merge; the
complainant's withdrawal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import Role
from core.deadlines import deadline_cancel, deadline_meet, deadline_open
from core.models import DeadlineKind

from ..models import (
    Complaint,
    TimelineEvent,
)

if TYPE_CHECKING:
    from accounts.models import User
from .common import _event, _tell_assignee, _tell_complainant, _transition, review_link, staff_link
from .reviewers import _check_reviewer


@transaction.atomic
def complaint_start_triage(
    *, complaint: Complaint, actor: User, note: str = "", expected_version: int | None = None
) -> Complaint:
    """A consultant takes the case (and is assigned if nobody is). Visible: it is the first response."""
    prepare = {} if complaint.assigned_consultant_id else {"assigned_consultant": actor}
    locked = _transition(
        complaint,
        "start_triage",
        actor=actor,
        note=note or _("您的投诉已由咨询顾问开始处理。"),
        visible=True,
        expected_version=expected_version,
        prepare=prepare,
    )
    deadline_open(
        subject=locked,
        kind=DeadlineKind.TRIAGE,
        label=locked.reference,
        link=staff_link(locked),
        owner=locked.assigned_consultant,
        owner_role=Role.CONSULTANT,
    )
    return locked


@transaction.atomic
def complaint_resolve(
    *, complaint: Complaint, actor: User, resolution: str, expected_version: int | None = None
) -> Complaint:
    """Call quality and order anomalies: the consultant resolves and the complainant is told how."""
    locked = _transition(
        complaint,
        "resolve_directly",
        actor=actor,
        note=resolution.strip(),
        visible=True,
        expected_version=expected_version,
        prepare={"resolution": resolution.strip()},
        condition_message=_("请填写处理结果，它会发送给投诉人。"),
    )
    deadline_meet(subject=locked, kinds=[DeadlineKind.TRIAGE])
    _tell_complainant(locked, "complaint_resolved", {"resolution": locked.resolution})
    return locked


@transaction.atomic
def complaint_reject(
    *, complaint: Complaint, actor: User, reason: str, expected_version: int | None = None
) -> Complaint:
    locked = _transition(
        complaint,
        "reject",
        actor=actor,
        note=reason.strip(),
        visible=True,
        expected_version=expected_version,
        prepare={"rejection_reason": reason.strip()},
        condition_message=_("不予受理必须写明理由，它会发送给投诉人。"),
    )
    deadline_meet(subject=locked, kinds=[DeadlineKind.TRIAGE, DeadlineKind.FIRST_RESPONSE])
    _tell_complainant(locked, "complaint_rejected", {"reason": locked.rejection_reason})
    return locked


@transaction.atomic
def complaint_escalate(
    *, complaint: Complaint, actor: User, reviewer: User | None, note: str = "", expected_version: int | None = None
) -> Complaint:
    """Professional competence and ethics go to the professional group, with a named reviewer
    who has no conflict of interest with the case."""
    if reviewer is not None:
        _check_reviewer(reviewer, complaint)
    locked = _transition(
        complaint,
        "escalate",
        actor=actor,
        note=note or _("您的投诉已转交专业组调查。"),
        visible=True,
        expected_version=expected_version,
        prepare={"assigned_reviewer": reviewer} if reviewer is not None else {},
        condition_message=_("转专业组前请指定一位专业组成员。"),
    )
    deadline_meet(subject=locked, kinds=[DeadlineKind.TRIAGE])
    deadline_open(
        subject=locked,
        kind=DeadlineKind.INVESTIGATION,
        label=locked.reference,
        link=review_link(locked),
        owner=locked.assigned_reviewer,
        owner_role=Role.REVIEWER,
    )
    _tell_complainant(locked, "complaint_escalated", {})
    _tell_assignee(locked, locked.assigned_reviewer)
    return locked


@transaction.atomic
def complaint_withdraw(
    *, complaint: Complaint, actor: User, reason: str = "", expected_version: int | None = None
) -> Complaint:
    """The complainant withdraws, any time before a decision; every open deadline is cancelled."""
    locked = _transition(
        complaint,
        "withdraw",
        actor=actor,
        note=reason.strip() or _("投诉人撤回了投诉。"),
        visible=True,
        expected_version=expected_version,
    )
    deadline_cancel(subject=locked)
    return locked


@transaction.atomic
def complaint_close(
    *, complaint: Complaint, actor: User, note: str = "", expected_version: int | None = None
) -> Complaint:
    """Close the case and invite the complainant to the satisfaction survey (sent by the sweep)."""
    locked = _transition(
        complaint, "close", actor=actor, note=note or _("案件已结案。"), visible=True, expected_version=expected_version
    )
    deadline_cancel(subject=locked)
    deadline_open(
        subject=locked,
        kind=DeadlineKind.SATISFACTION_SURVEY,
        label=locked.reference,
        link=reverse("complaints:survey", args=[locked.reference]),
        owner=locked.complainant,
    )
    return locked


@transaction.atomic
def complaint_archive(
    *, complaint: Complaint, actor: User, note: str = "", expected_version: int | None = None
) -> Complaint:
    return _transition(complaint, "archive", actor=actor, note=note, visible=False, expected_version=expected_version)


@transaction.atomic
def complaint_merge(
    *, duplicate: Complaint, into: Complaint, actor: User, expected_version: int | None = None
) -> Complaint:
    """Close a duplicate as merged: its evidence and timeline show on the surviving case."""
    if into.pk == duplicate.pk or into.merged_into_id is not None:
        raise ValidationError({"into": [_("请选择另一件未被合并的案件作为保留案件。")]})
    if into.complainant_id != duplicate.complainant_id:
        raise ValidationError({"into": [_("只能合并同一投诉人的案件。")]})
    locked = _transition(
        duplicate,
        "merge",
        actor=actor,
        note=_("此投诉与 %(ref)s 重复，已合并到该案件继续处理。") % {"ref": into.reference},
        visible=True,
        expected_version=expected_version,
        prepare={"merged_into": into},
        condition_message=_("请选择要合并到的案件。"),
    )
    _event(
        into,
        TimelineEvent.Kind.MERGE,
        actor=actor,
        note=_("重复投诉 %(ref)s 已合并到本案。") % {"ref": locked.reference},
        visible=True,
    )
    deadline_cancel(subject=locked)
    _tell_complainant(locked, "complaint_merged", {"into": into.reference})
    return locked
