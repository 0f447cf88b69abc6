"""Changes to a case that are not workflow moves: assignment, classification, notes, added information."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from core.deadlines import deadline_meet, deadline_set_owner
from core.errors import WrongState
from core.models import DeadlineKind

from ..models import (
    Category,
    Complaint,
    ComplaintState,
    Priority,
    TimelineEvent,
)
from ..selectors import complaint_get_for_update

if TYPE_CHECKING:
    from accounts.models import User
from .common import (
    MAX_ATTACHMENTS,
    MAX_CASE_ATTACHMENTS,
    _event,
    _evidence_types,
    _lock,
    _store_attachment,
    _tell_assignee,
    _tell_complainant,
    safe_filename,
)
from .reviewers import _check_reviewer


@transaction.atomic
def complaint_assign(
    *,
    complaint: Complaint,
    actor: User,
    consultant: User | None = None,
    reviewer: User | None = None,
    expected_version: int | None = None,
) -> Complaint:
    if not actor.has_perm("complaints.assign_complaint"):
        raise PermissionDenied(_("您没有权限分派案件。"))
    locked = _lock(complaint, expected_version)
    changes = []
    if consultant is not None and consultant.pk != locked.assigned_consultant_id:
        if not consultant.has_role(Role.CONSULTANT):
            raise ValidationError({"consultant": [_("只能指派给咨询顾问。")]})
        locked.assigned_consultant = consultant
        changes.append(_("负责顾问：%(name)s") % {"name": consultant.get_short_name()})
    if reviewer is not None and reviewer.pk != locked.assigned_reviewer_id:
        _check_reviewer(reviewer, locked)
        locked.assigned_reviewer = reviewer
        changes.append(_("负责专业组成员：%(name)s") % {"name": reviewer.get_short_name()})
    if not changes:
        return locked
    locked.version += 1
    locked.save(update_fields=["assigned_consultant", "assigned_reviewer", "version", "updated_at"])
    _event(locked, TimelineEvent.Kind.ASSIGNMENT, actor=actor, note="；".join(changes))
    if consultant is not None:
        deadline_set_owner(subject=locked, kinds=[DeadlineKind.TRIAGE], owner=consultant)
        _tell_assignee(locked, consultant)
    if reviewer is not None:
        deadline_set_owner(subject=locked, kinds=[DeadlineKind.INVESTIGATION], owner=reviewer)
        _tell_assignee(locked, reviewer)
    complaint.version = locked.version
    return locked


@transaction.atomic
def complaint_classify(
    *, complaint: Complaint, actor: User, category: str, priority: int, expected_version: int | None = None
) -> Complaint:
    if not actor.has_perm("complaints.triage_complaint"):
        raise PermissionDenied(_("您没有权限修改分类。"))
    locked = _lock(complaint, expected_version)
    if (locked.category, locked.priority) == (category, priority):
        return locked
    note = _("分类：%(cat)s；优先级：%(pri)s") % {"cat": Category(category).label, "pri": Priority(priority).label}
    locked.category, locked.priority = category, priority
    locked.version += 1
    locked.save(update_fields=["category", "priority", "version", "updated_at"])
    _event(locked, TimelineEvent.Kind.NOTE, actor=actor, note=note)
    complaint.version = locked.version
    return locked


@transaction.atomic
def complaint_add_note(
    *, complaint: Complaint, actor: User, note: str, visible: bool, expected_version: int | None = None
) -> TimelineEvent:
    """A staff note; one the complainant can see counts as the first response."""
    if not actor.is_case_staff:
        raise PermissionDenied(_("您没有权限添加处理记录。"))
    if not note.strip():
        raise ValidationError({"note": [_("请填写内容。")]})
    locked = _lock(complaint, expected_version)
    fields = ["version", "updated_at"]
    if visible and locked.first_response_at is None:
        locked.first_response_at = timezone.now()
        fields.append("first_response_at")
        deadline_meet(subject=locked, kinds=[DeadlineKind.FIRST_RESPONSE])
    locked.version += 1
    locked.save(update_fields=fields)
    complaint.version = locked.version
    if visible:
        _tell_complainant(locked, "complaint_message", {"message": note.strip()})
    return _event(locked, TimelineEvent.Kind.NOTE, actor=actor, note=note.strip(), visible=visible)


@transaction.atomic
def complaint_add_info(
    *, complaint: Complaint, actor: User, text: str, files: Iterable[UploadedFile] = ()
) -> TimelineEvent:
    """The complainant adds information or evidence, until a decision is made."""
    locked = complaint_get_for_update(complaint.pk)
    if actor.pk != locked.complainant_id:
        raise PermissionDenied(_("只有投诉人本人可以补充信息。"))
    if locked.state not in (
        ComplaintState.SUBMITTED,
        ComplaintState.TRIAGE,
        ComplaintState.INVESTIGATION,
        ComplaintState.EVALUATION,
    ):
        raise WrongState(_("案件已作出决定或已结束，不能再补充信息。"))
    files = list(files)
    if not text.strip() and not files:
        raise ValidationError({"text": [_("请填写补充内容或选择文件。")]})
    _check_addition_limits(locked, len(files))
    mimes = _evidence_types(files)
    for upload, mime in zip(files, mimes, strict=True):
        _store_attachment(locked, upload, mime, uploaded_by=actor)
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    names = "、".join(safe_filename(f.name or "") for f in files)
    note = text.strip() + (("\n" + _("附件：%(names)s") % {"names": names}) if names else "")
    return _event(locked, TimelineEvent.Kind.INFO_ADDED, actor=actor, note=note, visible=True)


def _check_addition_limits(complaint: Complaint, count: int) -> None:
    """At most MAX_ATTACHMENTS files per addition and MAX_CASE_ATTACHMENTS per case, checked before
    anything is stored."""
    if count > MAX_ATTACHMENTS:
        message = _("一次最多补充 %(max)s 个文件，您选了 %(count)s 个。请重新选择不超过 %(max)s 个文件，分几次提交。")
        raise ValidationError({"files": [message % {"max": MAX_ATTACHMENTS, "count": count}]})
    stored = complaint.attachments.count()
    if stored + count > MAX_CASE_ATTACHMENTS:
        left = max(MAX_CASE_ATTACHMENTS - stored, 0)
        if left:
            message = _(
                "每个案件最多保存 %(max)s 个证据文件，这个案件已有 %(stored)s 个，还能再补充 %(left)s 个。请重新选择。"
            )
        else:
            message = _("每个案件最多保存 %(max)s 个证据文件，这个案件已经满了，不能再补充文件；文字说明仍可提交。")
        raise ValidationError({"files": [message % {"max": MAX_CASE_ATTACHMENTS, "stored": stored, "left": left}]})
