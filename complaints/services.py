"""Every change to a complaint goes through here: locked, permission-checked, versioned and
written to the timeline in the same transaction."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import filetype
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor
from accounts.roles import Role
from core.audit import access_log_write
from core.deadlines import deadline_cancel, deadline_meet, deadline_open, deadline_set_owner, due_for
from core.downloads import EVIDENCE_EXTENSIONS
from core.errors import CHANGED_MESSAGE, Conflict, WrongState
from core.models import DeadlineKind
from core.notifications import notify
from core.validators import normalize_id_number, normalize_phone, validate_id_number, validate_mobile_phone
from core.workflow import Move, Workflow, transition_run, version_check
from listeners.models import ListeningSession

from .models import (
    OPEN_STATES,
    Attachment,
    Category,
    Complaint,
    ComplaintState,
    ConflictDeclaration,
    ConsentMethod,
    ConsentText,
    CrisisTerm,
    IntakeChannel,
    Priority,
    TimelineEvent,
)
from .selectors import complaint_get_for_update

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

MAX_ATTACHMENTS = 5  # files in one submission: the complaint, or one addition of information
MAX_CASE_ATTACHMENTS = 10  # files a case keeps in all
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_EVIDENCE_TYPES = EVIDENCE_EXTENSIONS.keys()
REVEALABLE_FIELDS = ("real_name", "id_number", "phone")
CONFLICT_MESSAGE = CHANGED_MESSAGE
# The conflict family's old name here: catching it catches stale versions and wrong states alike.
ComplaintConflict = Conflict


# --- intake -------------------------------------------------------------------


def next_reference(year: int) -> str:
    """TS-<year>-<6 digits>, sequential per year. The upsert locks the year's row until commit,
    so concurrent submissions queue for a number instead of racing for one."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO complaints_referencesequence (year, last) VALUES (%s, 1)
            ON CONFLICT (year) DO UPDATE SET last = complaints_referencesequence.last + 1
            RETURNING last
            """,
            [year],
        )
        (number,) = cursor.fetchone()
    return f"TS-{year}-{number:06d}"


def crisis_terms_in(text: str) -> list[str]:
    lowered = text.lower()
    return [p for p in CrisisTerm.objects.filter(active=True).values_list("phrase", flat=True) if p.lower() in lowered]


def safe_filename(name: str) -> str:
    """Only the last path component, without control characters; kept for display, never for storage."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f]", "", base)
    return (base or "file")[-200:]


def validate_evidence_file(upload: UploadedFile, *, field: str | None = None) -> str:
    """The content type as read from the file's bytes (not its name), or ValidationError
    (keyed by ``field`` when given, so a form can show it next to that field)."""
    name = safe_filename(upload.name or "")
    message = None
    if upload.size is not None and upload.size > MAX_ATTACHMENT_BYTES:
        message = _("文件“%(name)s”超过 10 MB，请压缩或截取后再上传。") % {"name": name}
    else:
        head = upload.read(8192)
        upload.seek(0)
        kind = filetype.guess(head)
        if kind is not None and kind.mime in ALLOWED_EVIDENCE_TYPES:
            return kind.mime
        message = _("文件“%(name)s”不是可接受的图片、PDF 或音频文件。") % {"name": name}
    raise ValidationError({field: [message]} if field else message)


def _evidence_types(files: list[UploadedFile]) -> list[str]:
    return [validate_evidence_file(f, field="files") for f in files]


def validate_identity(*, real_name: str, id_number: str, phone: str) -> dict[str, str]:
    errors: dict[str, list] = {}
    cleaned = {
        "real_name": real_name.strip(),
        "id_number": normalize_id_number(id_number),
        "phone": normalize_phone(phone),
    }
    if not cleaned["real_name"]:
        errors["real_name"] = [_("请填写真实姓名。")]
    for field, check in (("id_number", validate_id_number), ("phone", validate_mobile_phone)):
        try:
            check(cleaned[field])
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def complaint_submit(
    *,
    complainant: User,
    session: ListeningSession,
    content: str,
    demands: Sequence[str],
    real_name: str,
    id_number: str,
    phone: str,
    consent_text: ConsentText,
    category: str = Category.OTHER,
    demands_other: str = "",
    consent_method: str = ConsentMethod.CHECKBOX,
    consent_ip: str | None = None,
    consent_recorded_by: User | None = None,
    intake_channel: str = IntakeChannel.WEB,
    files: Iterable[UploadedFile] = (),
    submission_key: uuid.UUID | None = None,
) -> Complaint:
    """File a complaint. Idempotent by ``submission_key``: a repeated submit returns the first complaint.

    Checks that the session is the complainant's, validates identity and files, screens for crisis
    (urgent priority, supervisors told at once), flags an open duplicate, records the 24-hour
    first-response deadline, and tells the complainant by email, without identity data.
    """
    if submission_key is not None:
        existing = Complaint.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            if existing.complainant_id != complainant.pk:
                raise Conflict(_("这个提交标识已被使用，请刷新页面后重新提交。"))
            return existing
    if session.complainant_id != complainant.pk:
        raise ValidationError({"session": [_("这个订单不属于您的账户。")]})
    if not content.strip():
        raise ValidationError({"content": [_("请写下您想投诉的内容。")]})
    if consent_method == ConsentMethod.VERBAL and consent_recorded_by is None:
        raise ValidationError({"consent": [_("口头同意须记录是哪位工作人员获得的。")]})
    identity = validate_identity(real_name=real_name, id_number=id_number, phone=phone)
    files = list(files)
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError({"files": [_("最多上传 %(n)s 个文件。") % {"n": MAX_ATTACHMENTS}]})
    mimes = _evidence_types(files)

    now = timezone.now()
    terms = crisis_terms_in(f"{content}\n{demands_other}")
    duplicate = (
        Complaint.objects.filter(complainant=complainant, session=session, state__in=OPEN_STATES)
        .order_by("submitted_at")
        .first()
    )
    complaint = Complaint(
        reference="",
        complainant=complainant,
        session=session,
        listener_id=session.listener_id,
        category=category,
        priority=Priority.URGENT if terms else Priority.NORMAL,
        content=content.strip(),
        demands=list(dict.fromkeys(demands)),
        demands_other=demands_other.strip(),
        intake_channel=intake_channel,
        consent_text=consent_text,
        consent_method=consent_method,
        consent_at=now,
        consent_ip=consent_ip,
        consent_recorded_by=consent_recorded_by,
        crisis=bool(terms),
        crisis_terms=terms,
        duplicate_of=duplicate,
        submitted_at=now,
        first_response_due=due_for(DeadlineKind.FIRST_RESPONSE, now)[0],
        submission_key=submission_key,
        **identity,
    )
    try:
        with transaction.atomic():
            complaint.reference = next_reference(timezone.localdate(now).year)
            complaint.save()
    except IntegrityError:
        # Two clicks raced on one submission key: the other request created it.
        if submission_key is not None:
            existing = Complaint.objects.filter(submission_key=submission_key, complainant=complainant).first()
            if existing is not None:
                return existing
        raise
    deadline_open(
        subject=complaint,
        kind=DeadlineKind.FIRST_RESPONSE,
        label=complaint.reference,
        link=staff_link(complaint),
        owner_role=Role.CONSULTANT,
        starts_at=now,
        due_at=complaint.first_response_due,
    )
    recorded_by = consent_recorded_by if consent_method == ConsentMethod.VERBAL else None
    _event(
        complaint,
        TimelineEvent.Kind.TRANSITION,
        actor=recorded_by or complainant,
        to_state=ComplaintState.SUBMITTED,
        note=_("投诉已提交（%(channel)s）。") % {"channel": IntakeChannel(intake_channel).label},
        visible=True,
    )
    for upload, mime in zip(files, mimes, strict=True):
        _store_attachment(complaint, upload, mime, uploaded_by=complainant)
    if duplicate is not None:
        _event(
            complaint,
            TimelineEvent.Kind.DUPLICATE,
            note=_("同一投诉人就同一订单已有未结案件 %(ref)s，可能重复。") % {"ref": duplicate.reference},
        )
    if terms:
        _event(complaint, TimelineEvent.Kind.CRISIS, note=_("内容含危机信号：%(terms)s") % {"terms": "、".join(terms)})
        notify(
            recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
            kind="complaint.crisis",
            template="crisis_alert",
            context={"reference": complaint.reference},
            link=staff_link(complaint),
            urgent=True,
        )
    hours = round((complaint.first_response_due - now).total_seconds() / 3600)
    notify(
        recipients=[complainant],
        kind="complaint.received",
        template="complaint_received",
        context={"reference": complaint.reference, "hours": hours, "crisis": bool(terms)},
        link=complainant_link(complaint),
    )
    return complaint


def staff_link(complaint: Complaint) -> str:
    return reverse("admin:complaints_complaint_change", args=[complaint.pk])


def review_link(complaint: Complaint) -> str:
    """The professional group's page for the case (built by the evaluations app)."""
    return reverse("review:case", args=[complaint.reference])


def complainant_link(complaint: Complaint) -> str:
    return reverse("complaints:detail", args=[complaint.reference])


def _store_attachment(complaint: Complaint, upload: UploadedFile, mime: str, *, uploaded_by: User) -> Attachment:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        complaint=complaint,
        original_name=safe_filename(upload.name or ""),
        content_type=mime,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=uploaded_by,
    )
    attachment.file.save("evidence", upload, save=False)
    attachment.save()
    return attachment


# --- transitions ----------------------------------------------------------------


def _event(
    complaint: Complaint,
    kind: str,
    *,
    actor: User | None = None,
    from_state: str = "",
    to_state: str = "",
    transition: str = "",
    note: str = "",
    visible: bool = False,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        complaint=complaint,
        kind=kind,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        transition=transition,
        note=note,
        visible_to_complainant=visible,
    )


def _lock(complaint: Complaint, expected_version: int | None) -> Complaint:
    locked = complaint_get_for_update(complaint.pk)
    version_check(locked, complaint.version if expected_version is None else expected_version, CONFLICT_MESSAGE)
    return locked


def _record(move: Move[Complaint]) -> None:
    _event(
        move.instance,
        TimelineEvent.Kind.TRANSITION,
        actor=move.actor,
        from_state=move.from_state,
        to_state=move.to_state,
        transition=move.name,
        note=move.note,
        visible=move.context["visible"],
    )


COMPLAINT_FLOW: Workflow[Complaint] = Workflow(
    model=Complaint, record=_record, lock=complaint_get_for_update, sync_caller=True
)


def _transition(
    complaint: Complaint,
    name: str,
    *,
    actor: User,
    note: str,
    visible: bool,
    expected_version: int | None,
    prepare: dict | None = None,
    condition_message: str = "",
) -> Complaint:
    """A move through the runner; a visible answer by staff is the case's first response.
    Without ``expected_version`` the caller's copy is the version it acted on."""

    def first_response(locked: Complaint) -> list[str]:
        if visible and actor.pk != locked.complainant_id and locked.first_response_at is None:
            locked.first_response_at = timezone.now()
            deadline_meet(subject=locked, kinds=[DeadlineKind.FIRST_RESPONSE])
            return ["first_response_at"]
        return []

    return transition_run(
        COMPLAINT_FLOW,
        complaint,
        name,
        actor=actor,
        note=note,
        expected_version=complaint.version if expected_version is None else expected_version,
        prepare=prepare,
        condition_message=condition_message,
        before_save=first_response,
        context={"visible": visible},
    ).instance


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


# --- edits that are not transitions ------------------------------------------------


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


def can_reveal_identity(user: User, complaint: Complaint) -> bool:
    """Supervisors, and the reviewer assigned to this case."""
    if not user.has_perm("complaints.reveal_identity"):
        return False
    return is_supervisor(user) or complaint.assigned_reviewer_id == user.pk


@transaction.atomic
def identity_reveal(
    *, complaint: Complaint, actor: User, field: str, reason: str, request: HttpRequest | None = None
) -> str:
    """One identity field in clear, for a stated reason; the access log keeps who, what and why."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": [_("不能查看这个字段。")]})
    if not can_reveal_identity(actor, complaint):
        raise PermissionDenied(_("只有督导和负责本案的专业组成员可以查看完整身份信息。"))
    if len(reason.strip()) < 4:
        raise ValidationError({"reason": [_("请写明查看的理由（至少 4 个字）。")]})
    access_log_write(
        actor=actor, obj=complaint, field=field, reason=reason, case_reference=complaint.reference, request=request
    )
    return getattr(complaint, field)


def _tell_complainant(complaint: Complaint, template: str, extra: dict) -> None:
    """Every step the complainant can see reaches them in-app and by email, without identity data."""
    notify(
        recipients=[complaint.complainant],
        kind=f"complaint.{template}",
        template=template,
        context={"reference": complaint.reference, **extra},
        link=complainant_link(complaint),
    )


def _tell_assignee(complaint: Complaint, person: User | None) -> None:
    if person is not None:
        notify(
            recipients=[person],
            kind="complaint.assigned",
            template="case_assigned",
            context={"reference": complaint.reference},
            link=staff_link(complaint),
        )


@transaction.atomic
def complaint_survey_answer(*, complaint: Complaint, actor: User, score: int, comment: str = "") -> Complaint:
    """The complainant's satisfaction after closing: once, 1-5 with an optional comment."""
    locked = complaint_get_for_update(complaint.pk)
    if actor.pk != locked.complainant_id:
        raise PermissionDenied(_("只有投诉人本人可以评价。"))
    if locked.state not in (ComplaintState.CLOSED, ComplaintState.ARCHIVED) or locked.merged_into_id:
        raise WrongState(_("案件结案后才能评价。"))
    if locked.satisfaction_at is not None:
        raise WrongState(_("您已经评价过了，谢谢。"))
    if score not in range(1, 6):
        raise ValidationError({"score": [_("请选择 1 到 5 分。")]})
    locked.satisfaction_score, locked.satisfaction_comment = score, comment.strip()
    locked.satisfaction_at = timezone.now()
    locked.save(update_fields=["satisfaction_score", "satisfaction_comment", "satisfaction_at", "updated_at"])
    deadline_meet(subject=locked, kinds=[DeadlineKind.SATISFACTION_SURVEY])
    _event(locked, TimelineEvent.Kind.NOTE, actor=actor, note=_("投诉人完成了满意度评价：%(n)s 分") % {"n": score})
    return locked


def complaint_deadlines_breached(ids: list[int], kinds: dict[int, list[str]]) -> None:
    """Called by the deadline sweep inside its transaction: raise priority, mark the timeline."""
    Complaint.objects.filter(pk__in=ids, priority__lt=Priority.HIGH).update(priority=Priority.HIGH)
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                complaint_id=pk,
                kind=TimelineEvent.Kind.NOTE,
                note=_("%(kinds)s已超时，已通知督导。") % {"kinds": "、".join(str(DeadlineKind(k).label) for k in ks)},
            )
            for pk, ks in kinds.items()
        ]
    )


__all__ = [
    "ComplaintConflict",
    "complaint_add_info",
    "complaint_add_note",
    "complaint_archive",
    "complaint_assign",
    "complaint_classify",
    "complaint_close",
    "complaint_escalate",
    "complaint_merge",
    "complaint_reject",
    "complaint_resolve",
    "complaint_start_triage",
    "complaint_submit",
    "complaint_survey_answer",
    "complaint_withdraw",
    "identity_reveal",
]
