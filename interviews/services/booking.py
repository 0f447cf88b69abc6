"""Requests and slots: a supervisor asks for an interview, the listener books a published slot and hands in the case report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import Role
from complaints.models import Complaint
from complaints.services import safe_filename, validate_evidence_file
from core.deadlines import deadline_meet, deadline_open
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, transition_run
from listeners.models import ListenerProfile

from ..models import (
    OPEN_STATES,
    CompetencyInterview,
    InterviewMaterial,
    InterviewSlot,
    InterviewState,
    MaterialKind,
)
from ..selectors import (
    interview_get_for_update,
    listener_get_for_update,
    slot_get_for_update,
)
from .common import (
    INTERVIEW_FLOW,
    MIN_MINUTES,
    _booked_slot,
    _has_case_report,
    _new_meeting_number,
    _notify_scheduled,
    _portal_link,
    _require_listener,
    _require_supervisor,
    _slot_text,
    case_report_lead,
    lead_hours,
)

if TYPE_CHECKING:
    from accounts.models import User


# --- requests and slots -------------------------------------------------------------------------


@transaction.atomic
def interview_request(
    *, listener: ListenerProfile, reason: str, actor: User, complaint: Complaint | None = None
) -> CompetencyInterview:
    """Open a competency interview for a listener, or return the one already open for the same
    complaint (or, without a complaint, the listener's open one without a complaint): a measure
    applied twice, or two supervisors at once, never opens a second interview. The listener's
    row is locked so concurrent requests queue behind each other."""
    listener_get_for_update(listener.pk)
    existing = (
        CompetencyInterview.objects.filter(listener=listener, complaint=complaint, state__in=OPEN_STATES)
        .order_by("created_at", "pk")
        .first()
    )
    if existing is not None:
        return existing
    return CompetencyInterview.objects.create(listener=listener, complaint=complaint, reason=reason, requested_by=actor)


@transaction.atomic
def interview_open_scheduling(
    *, interview: CompetencyInterview, actor: User, expected_version: int | None = None
) -> CompetencyInterview:
    """A supervisor invites the listener to book a slot."""
    _require_supervisor(actor)

    def invite(move: Move[CompetencyInterview]) -> None:
        notify(
            recipients=[move.instance.listener.user],
            kind="listener.interview_scheduling",
            template="interview_scheduling_open",
            context={"lead_hours": lead_hours(case_report_lead())},
            link=_portal_link(move.instance),
            dedupe_key=f"interview_scheduling:{move.instance.pk}",
        )

    return transition_run(
        INTERVIEW_FLOW, interview, "open_scheduling", actor=actor, expected_version=expected_version, effects=invite
    ).instance


@transaction.atomic
def slot_publish(*, starts_at: datetime, ends_at: datetime, actor: User) -> InterviewSlot:
    """A reviewer or supervisor offers a time for interviews; listeners waiting to book are told
    (once per slot and listener)."""
    if not (_is_supervisor(actor) or actor.has_role(Role.REVIEWER)):
        raise PermissionDenied(_("只有督导或专业组成员可以发布面试时段。"))
    slot_times_check(starts_at=starts_at, ends_at=ends_at)
    slot = InterviewSlot.objects.create(starts_at=starts_at, ends_at=ends_at, published_by=actor)
    waiting = CompetencyInterview.objects.filter(
        state__in=[InterviewState.REQUESTED, InterviewState.SCHEDULING]
    ).select_related("listener__user")
    for interview in waiting:
        notify(
            recipients=[interview.listener.user],
            kind="listener.interview_slot_published",
            template="interview_slot_published",
            context={"slot": _slot_text(slot)},
            link=_portal_link(interview),
            dedupe_key=f"interview_slot_published:{slot.pk}",
        )
    return slot


def slot_times_check(*, starts_at: datetime, ends_at: datetime) -> None:
    """The rules of a slot's times, shared by slot_publish and the admin form: in the future and
    at least as long as an interview."""
    if starts_at <= timezone.now():
        raise ValidationError({"starts_at": [_("面试时段必须在未来。")]})
    if ends_at - starts_at < timedelta(minutes=MIN_MINUTES):
        raise ValidationError({"ends_at": [_("面试时段至少需要 %(n)d 分钟。") % {"n": MIN_MINUTES}]})


@transaction.atomic
def interview_book(*, interview: CompetencyInterview, slot: InterviewSlot, actor: User) -> CompetencyInterview:
    """The listener books a free slot.

    The case report is due 48 hours (the case_report policy) before the slot: a slot less than
    that away can only be booked once the report is in. Without the report a CASE_REPORT deadline is opened; with it
    the meeting number is issued at once.
    """
    lead = case_report_lead()
    booked: dict[str, InterviewSlot] = {}

    def slot_free(locked: CompetencyInterview) -> None:
        booked["slot"] = free = slot_get_for_update(slot.pk)
        if free.interview_id is not None:
            raise ValidationError({"slot": [_("该时段已被预约，请选择其他时段。")]})
        now = timezone.now()
        if free.starts_at <= now:
            raise ValidationError({"slot": [_("该时段已开始或已过去。")]})
        if not _has_case_report(locked) and free.starts_at - now < lead:
            raise ValidationError(
                {
                    "slot": [
                        _(
                            "个案报告须在面试前至少 %(hours)d 小时提交。该时段距现在不足 %(hours)d 小时，"
                            "请先上传个案报告，或选择更晚的时段。"
                        )
                        % {"hours": lead_hours(lead)}
                    ]
                }
            )

    def confirm_with_report(locked: CompetencyInterview) -> list[str]:
        # With the report in, booking schedules at once: one move, one row in the history.
        if not _has_case_report(locked):
            return []
        locked.confirm()
        locked.meeting_number = _new_meeting_number()
        return ["meeting_number"]

    def take_slot(move: Move[CompetencyInterview]) -> None:
        locked, free = move.instance, booked["slot"]
        free.interview = locked
        free.save(update_fields=["interview"])
        if locked.state == InterviewState.SCHEDULED:
            _notify_scheduled(locked, free)
        else:
            deadline_open(
                subject=locked,
                kind=DeadlineKind.CASE_REPORT,
                label=_("面试个案报告"),
                link=_portal_link(locked),
                owner=locked.listener.user,
                due_at=free.starts_at - lead,
            )

    return transition_run(
        INTERVIEW_FLOW,
        interview,
        "book",
        actor=actor,
        allowed=lambda locked, user: locked.listener.user_id == user.pk,
        denied_message=_("只有被面试的倾听师本人可以进行此操作。"),
        validate=slot_free,
        before_save=confirm_with_report,
        effects=take_slot,
    ).instance


@transaction.atomic
def material_upload(
    *, interview: CompetencyInterview, kind: MaterialKind | str, upload: UploadedFile, actor: User
) -> InterviewMaterial:
    """The listener hands in a material. The case report completes the materials: the CASE_REPORT
    deadline is met and, once a slot is booked, the meeting number is issued (→ scheduled)."""
    locked = interview_get_for_update(interview.pk)
    _require_listener(locked, actor)
    if locked.state not in OPEN_STATES:
        raise ValidationError(_("该面试已不接受材料。"))
    if kind not in MaterialKind.values:
        raise ValidationError({"kind": [_("未知的材料类型。")]})
    content_type = validate_evidence_file(upload, field="file")
    material = InterviewMaterial.objects.create(
        interview=locked,
        kind=kind,
        file=upload,
        file_name=safe_filename(upload.name or ""),
        content_type=content_type,
        uploaded_by=actor,
    )
    if kind == MaterialKind.CASE_REPORT:
        deadline_meet(subject=locked, kinds=[DeadlineKind.CASE_REPORT])
        if locked.state == InterviewState.MATERIALS_DUE:
            transition_run(
                INTERVIEW_FLOW,
                locked,
                "confirm",
                actor=actor,
                prepare={"meeting_number": _new_meeting_number()},
                effects=lambda move: _notify_scheduled(move.instance, _booked_slot(move.instance)),
            )
    return material
