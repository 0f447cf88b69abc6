"""Competency interviews: scheduling, materials, panel, holding, scoring and the result.

Every function here locks the interview row, checks who is acting and what the rules allow,
calls the declarative transition, saves with ``update_fields`` and writes what must follow
(deadlines, listener status history, notifications) in the same transaction.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import Role
from complaints.models import Complaint
from complaints.services import reviewer_conflicts, safe_filename, validate_evidence_file
from core.deadlines import deadline_meet, deadline_open, deadline_set_owner, due_for
from core.models import DeadlineKind, DeadlinePolicy
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run
from listeners.holds import hold_place, holds_of, holds_release_ending, holds_settle
from listeners.models import HoldEnd, ListenerProfile, ListenerStatus

from .models import (
    INTERIM_STATUSES,
    OPEN_STATES,
    Band,
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewScore,
    InterviewSlot,
    InterviewState,
    MaterialKind,
    PlanItemKind,
    PlanItemState,
    ScoringArea,
)
from .selectors import (
    delisting_interview,
    interview_get_for_update,
    last_failed_interview,
    listener_get_for_update,
    plan_item_get_for_update,
    rubric_items,
    slot_get_for_update,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User

# Fallbacks: the durations come from the DeadlinePolicy rows case_report and interview_result.
CASE_REPORT_LEAD = timedelta(hours=48)
MIN_MINUTES, MAX_MINUTES = 40, 60
# How far the recorded start may be from the booked slot (a late start, a clock set wrong).
HOLD_TOLERANCE = timedelta(hours=2)
RESULT_WITHIN = timedelta(days=7)
REAPPLY_AFTER_MONTHS = 6
# Stored as the interview's reason (data, in the source language like other reasons).
REAPPLICATION_REASON = "重新入驻申请"
PLAN_DUE_AFTER = timedelta(days=90)
PASS_FROM, CONDITIONAL_FROM = Decimal("70"), Decimal("60")
CENT = Decimal("0.01")
# Stored on each plan item in the source language and translated where shown (portal, email).
PLAN_DESCRIPTIONS = {
    PlanItemKind.STUDY: gettext_lazy("针对面试反馈中的薄弱维度完成专业学习，并提交学习记录。"),
    PlanItemKind.SUPERVISION: gettext_lazy("接受个体或团体督导，并提交督导记录。"),
    PlanItemKind.PERSONAL_THERAPY: gettext_lazy("完成个人体验（个人咨询），并提交完成证明。"),
}


def source_text(text: StrOrPromise) -> str:
    """A lazy string in its source language (what is stored), whatever language is active."""
    with translation.override(None):
        return str(text)


def case_report_lead() -> timedelta:
    """How long before the slot the case report is due: the case_report policy (supervisors edit
    it), else 48 hours."""
    policy = DeadlinePolicy.objects.filter(kind=DeadlineKind.CASE_REPORT).first()
    return policy.duration if policy is not None else CASE_REPORT_LEAD


def lead_hours(lead: timedelta) -> int:
    return int(lead.total_seconds() // 3600)


def _result_due(ended_at: datetime) -> datetime:
    """When the result is due: the interview_result policy (calendar or business time), else a week."""
    if DeadlinePolicy.objects.filter(kind=DeadlineKind.INTERVIEW_RESULT).exists():
        return due_for(DeadlineKind.INTERVIEW_RESULT, ended_at)[0]
    return ended_at + RESULT_WITHIN


def _is_staff(user: User) -> bool:
    return user.is_case_staff


def _require_supervisor(user: User) -> None:
    if not _is_supervisor(user):
        raise PermissionDenied(_("只有督导可以进行此操作。"))


def _require_listener(interview: CompetencyInterview, user: User) -> None:
    if interview.listener.user_id != user.pk:
        raise PermissionDenied(_("只有被面试的倾听师本人可以进行此操作。"))


PANEL_LEAD_ONLY = gettext_lazy("只有主面试官或督导可以进行此操作。")


def _leads_panel(interview: CompetencyInterview, user: User) -> bool:
    return _is_supervisor(user) or interview.main_interviewer_id == user.pk


def _require_panel_lead(interview: CompetencyInterview, user: User) -> None:
    if not _leads_panel(interview, user):
        raise PermissionDenied(PANEL_LEAD_ONLY)


# Interviews keep their history in pghistory's event table (a database trigger writes the row),
# so the workflow has no recorder. Their edges (the staff pages, the portal) still read a refused
# move as a ValidationError; once they take the conflict family through core.service_errors,
# ``wrong_state`` goes and the refusals become WrongState like every other case's.
INTERVIEW_FLOW: Workflow[CompetencyInterview] = Workflow(
    model=CompetencyInterview,
    lock=interview_get_for_update,
    wrong_state=ValidationError,
    refusals={
        "open_scheduling": gettext_lazy("该面试已不在“已提出”状态。"),
        "book": gettext_lazy("该面试当前不能预约时段。"),
        "hold": gettext_lazy("只有已安排的面试可以记录为已进行。"),
        "mark_no_show": gettext_lazy("只有已安排的面试可以记为未出席。"),
        "release_slot": gettext_lazy("只有等待个案报告的面试可以释放时段。"),
        "score": gettext_lazy("只有已进行的面试可以评分。"),
        "send_result": gettext_lazy("只有已评分的面试可以发送结果。"),
    },
)


def _has_case_report(interview: CompetencyInterview) -> bool:
    return interview.materials.filter(kind=MaterialKind.CASE_REPORT).exists()


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _portal_link(interview: CompetencyInterview) -> str:
    return f"/portal/interviews/{interview.pk}/"


def _admin_link(interview: CompetencyInterview) -> str:
    return f"/admin/interviews/competencyinterview/{interview.pk}/change/"


def _slot_text(slot: InterviewSlot | None) -> str:
    if slot is None:
        return ""
    start, end = timezone.localtime(slot.starts_at), timezone.localtime(slot.ends_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _booked_slot(interview: CompetencyInterview) -> InterviewSlot | None:
    return InterviewSlot.objects.filter(interview=interview).first()


def _notify_scheduled(interview: CompetencyInterview, slot: InterviewSlot | None) -> None:
    """The meeting number is out: tell the listener, and the panel if it is named yet (a panel
    named later is told by panel_set). Keyed by the number, so each is told once."""
    context = {"slot": _slot_text(slot), "meeting_number": interview.meeting_number}
    notify(
        recipients=[interview.listener.user],
        kind="listener.interview_scheduled",
        template="interview_scheduled",
        context=context,
        link=_portal_link(interview),
        dedupe_key=f"interview_scheduled:{interview.pk}:{interview.meeting_number}",
    )
    _notify_panel(interview, slot)


def _notify_panel(interview: CompetencyInterview, slot: InterviewSlot | None) -> None:
    members = [m for m in [interview.main_interviewer, *interview.observers.all()] if m is not None]
    if not members or not interview.meeting_number:
        return
    notify(
        recipients=members,
        kind="staff.interview_scheduled",
        template="interview_panel_scheduled",
        context={"number": interview.pk, "slot": _slot_text(slot), "meeting_number": interview.meeting_number},
        link=_admin_link(interview),
        dedupe_key=f"interview_panel:{interview.pk}:{interview.meeting_number}",
    )


def _new_meeting_number() -> str:
    for _attempt in range(20):
        digits = f"{secrets.randbelow(10**9):09d}"
        number = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
        if not CompetencyInterview.objects.filter(meeting_number=number).exists():
            return number
    raise RuntimeError("could not issue a unique meeting number")


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


# --- panel and holding --------------------------------------------------------------------------


@transaction.atomic
def panel_set(
    *, interview: CompetencyInterview, main_interviewer: User, observers: Iterable[User], actor: User
) -> CompetencyInterview:
    """A supervisor names one main interviewer and at least one observer: different staff members,
    none with a conflict of interest in the complaint behind the interview, and never the
    listener's own supervisor (the one conflict known for interviews without a complaint)."""
    _require_supervisor(actor)
    locked = interview_get_for_update(interview.pk)
    if locked.state not in OPEN_STATES:
        raise ValidationError(_("面试已进行或已结束，不能再更改面试小组。"))
    observer_list = list({u.pk: u for u in observers}.values())
    errors: dict[str, list[str]] = {}
    if not (_is_supervisor(main_interviewer) or main_interviewer.has_role(Role.REVIEWER)):
        errors.setdefault("main_interviewer", []).append(_("主面试官须是督导或专业组成员。"))
    if not observer_list:
        errors.setdefault("observers", []).append(_("面试小组至少需要一名观察员。"))
    if any(o.pk == main_interviewer.pk for o in observer_list):
        errors.setdefault("observers", []).append(_("主面试官和观察员不能是同一人。"))
    if any(not _is_staff(o) for o in observer_list):
        errors.setdefault("observers", []).append(_("观察员须是工作人员。"))
    if locked.listener.user_id in {main_interviewer.pk, *(o.pk for o in observer_list)}:
        errors.setdefault("observers", []).append(_("被面试的倾听师不能参加自己的面试小组。"))
    # With or without a complaint: the listener's own supervisor is too close to judge them.
    own_supervisor = locked.listener.supervisor_id
    if own_supervisor is not None:
        for field, member in [("main_interviewer", main_interviewer), *(("observers", o) for o in observer_list)]:
            if member.pk == own_supervisor:
                errors.setdefault(field, []).append(
                    _("%(name)s 是该倾听师的个人督导，存在利益冲突。") % {"name": member}
                )
    if locked.complaint_id is not None:
        complaint = locked.complaint
        assert complaint is not None
        for field, member in [("main_interviewer", main_interviewer), *(("observers", o) for o in observer_list)]:
            reasons = reviewer_conflicts(member, complaint)
            if reasons:
                errors.setdefault(field, []).append(
                    _("%(name)s 存在利益冲突：%(reasons)s") % {"name": member, "reasons": "".join(map(str, reasons))}
                )
    if errors:
        raise ValidationError(errors)
    locked.main_interviewer = main_interviewer
    locked.save(update_fields=["main_interviewer"])
    locked.observers.set(observer_list)
    deadline_set_owner(subject=locked, kinds=[DeadlineKind.INTERVIEW_RESULT], owner=main_interviewer)
    if locked.state == InterviewState.SCHEDULED:
        # Already scheduled: whoever is newly on the panel learns the meeting number now.
        _notify_panel(locked, _booked_slot(locked))
    return locked


@transaction.atomic
def interview_hold(
    *,
    interview: CompetencyInterview,
    started_at: datetime,
    ended_at: datetime,
    actor: User,
    expected_version: int | None = None,
) -> CompetencyInterview:
    """Record that the interview took place (40–60 minutes) and open the one-week result deadline."""

    def fits_the_slot(locked: CompetencyInterview) -> None:
        minutes = (ended_at - started_at).total_seconds() / 60
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise ValidationError(
                {"ended_at": [_("面试时长须在 %(lo)d 至 %(hi)d 分钟之间。") % {"lo": MIN_MINUTES, "hi": MAX_MINUTES}]}
            )
        if ended_at > timezone.now():
            raise ValidationError({"ended_at": [_("面试结束时间不能晚于现在。")]})
        slot = _booked_slot(locked)
        # The record is of the booked interview: it starts around the slot, not days apart from it.
        if slot is not None and not (slot.starts_at - HOLD_TOLERANCE <= started_at <= slot.ends_at + HOLD_TOLERANCE):
            raise ValidationError(
                {"started_at": [_("开始时间须与预约的时段（%(slot)s）相符。") % {"slot": _slot_text(slot)}]}
            )

    def result_due(move: Move[CompetencyInterview]) -> None:
        deadline_open(
            subject=move.instance,
            kind=DeadlineKind.INTERVIEW_RESULT,
            label=_("面试结果与反馈"),
            link=f"/admin/interviews/competencyinterview/{move.instance.pk}/change/",
            owner=move.instance.main_interviewer,
            starts_at=ended_at,
            due_at=_result_due(ended_at),
        )

    return transition_run(
        INTERVIEW_FLOW,
        interview,
        "hold",
        actor=actor,
        expected_version=expected_version,
        allowed=_leads_panel,
        denied_message=PANEL_LEAD_ONLY,
        condition_message=_("请先确定主面试官和至少一名观察员。"),
        validate=fits_the_slot,
        prepare={"held_started_at": started_at, "held_ended_at": ended_at},
        effects=result_due,
    ).instance


@transaction.atomic
def interview_mark_no_show(
    *, interview: CompetencyInterview, actor: User, expected_version: int | None = None
) -> CompetencyInterview:
    return transition_run(
        INTERVIEW_FLOW,
        interview,
        "mark_no_show",
        actor=actor,
        expected_version=expected_version,
        allowed=_leads_panel,
        denied_message=PANEL_LEAD_ONLY,
        cancel=True,
        # A case that waited for this interview may now be done.
        effects=lambda move: holds_settle(listener=move.instance.listener, actor=actor),
    ).instance


@transaction.atomic
def interview_release_slot(
    *, interview: CompetencyInterview, actor: User, expected_version: int | None = None
) -> CompetencyInterview:
    """The case report missed its deadline (48 hours, the case_report policy, before the slot): a supervisor frees the slot
    for others and the listener books again once the report is in."""
    _require_supervisor(actor)
    lead = case_report_lead()

    def report_overdue(locked: CompetencyInterview) -> None:
        if _has_case_report(locked):
            raise ValidationError(_("个案报告已提交，不能释放时段。"))
        slot = _booked_slot(locked)
        if slot is not None and timezone.now() < slot.starts_at - lead:
            raise ValidationError(_("个案报告的截止时间还没到，不能释放时段。"))

    def free_slot(move: Move[CompetencyInterview]) -> None:
        locked = move.instance
        slot = _booked_slot(locked)
        InterviewSlot.objects.filter(interview=locked).update(interview=None)
        notify(
            recipients=[locked.listener.user],
            kind="listener.interview_slot_released",
            template="interview_slot_released",
            context={"slot": _slot_text(slot), "lead_hours": lead_hours(lead)},
            link=_portal_link(locked),
            dedupe_key=f"interview_slot_released:{locked.pk}:{slot.pk if slot else '-'}",
        )

    return transition_run(
        INTERVIEW_FLOW,
        interview,
        "release_slot",
        actor=actor,
        expected_version=expected_version,
        validate=report_overdue,
        cancel=[DeadlineKind.CASE_REPORT],
        effects=free_slot,
    ).instance


@transaction.atomic
def interview_cancel(
    *, interview: CompetencyInterview, actor: User | None = None, reason: str = ""
) -> CompetencyInterview:
    """Cancel an interview that has not taken place; its slot is freed, its deadlines cancelled,
    the reason kept on the interview and the listener told (and the panel, once it had the meeting
    number). A supervisor cancels by hand, with a reason; the system (``actor`` None) cancels when
    what the interview was for has gone. A no-op on an interview already past that point."""
    if actor is not None:
        _require_supervisor(actor)
        if not reason.strip():
            raise ValidationError({"reason": [_("请填写取消原因。")]})
    locked = interview_get_for_update(interview.pk)
    if locked.state in OPEN_STATES:
        slot = _booked_slot(locked)
        was_scheduled = locked.state == InterviewState.SCHEDULED
        locked = transition_run(
            INTERVIEW_FLOW, locked, "cancel", actor=actor, prepare={"cancel_reason": reason.strip()}, cancel=True
        ).instance
        InterviewSlot.objects.filter(interview=locked).update(interview=None)
        context = {"slot": _slot_text(slot), "number": locked.pk, "reason": locked.cancel_reason}
        notify(
            recipients=[locked.listener.user],
            kind="listener.interview_cancelled",
            template="interview_cancelled",
            context=context,
            link=_portal_link(locked),
            dedupe_key=f"interview_cancelled:{locked.pk}",
        )
        if was_scheduled:
            panel = [m for m in [locked.main_interviewer, *locked.observers.all()] if m is not None]
            notify(
                recipients=panel,
                kind="staff.interview_cancelled",
                template="interview_panel_cancelled",
                context=context,
                link=_admin_link(locked),
                dedupe_key=f"interview_panel_cancelled:{locked.pk}",
            )
        # A case that waited for this interview may now be done.
        holds_settle(listener=locked.listener, actor=actor)
    return locked


# --- scoring and result -------------------------------------------------------------------------


def band_for(total: Decimal) -> Band:
    """≥ 70 pass; 60 ≤ total < 70 conditional; < 60 fail (DOMAIN §4)."""
    if total >= PASS_FROM:
        return Band.PASS
    if total >= CONDITIONAL_FROM:
        return Band.CONDITIONAL
    return Band.FAIL


def rubric_problems(areas: Iterable[ScoringArea]) -> list[str]:
    """What keeps a rubric from giving a total of 0–100: the area weights must add up to 100,
    every item's full mark be above 0, and an area with weight have items with weight."""
    areas = list(areas)
    problems = []
    weight = sum((a.weight for a in areas), Decimal(0))
    if weight != 100:
        problems.append(_("评分维度的权重之和须为 100，现为 %(sum)s。") % {"sum": weight.normalize()})
    for area in areas:
        items = list(area.items.all())
        if any(i.max_score <= 0 for i in items):
            problems.append(_("“%(area)s”中有细项的满分不大于 0。") % {"area": area.name})
        if area.weight > 0 and sum((i.weight for i in items), Decimal(0)) <= 0:
            problems.append(_("“%(area)s”没有权重大于 0 的细项。") % {"area": area.name})
    return problems


def rubric_check() -> None:
    """Refuse scoring with a rubric that does not add up (a supervisor must fix it first)."""
    problems = rubric_problems(ScoringArea.objects.prefetch_related("items"))
    if problems:
        raise ValidationError([_("评分标准有误，暂时不能评分，请督导在“评分维度”中修正。"), *problems])


def total_for(scores: Mapping[str, Decimal]) -> Decimal:
    """Weighted total 0–100 from item scores keyed by item code, truncated to cents so rounding
    never lifts a total into a better band. A rubric that does not add up is a ValidationError."""
    total = Decimal(0)
    areas = list(ScoringArea.objects.prefetch_related("items"))
    problems = rubric_problems(areas)
    if problems:
        raise ValidationError([_("评分标准有误，暂时不能评分，请督导在“评分维度”中修正。"), *problems])
    for area in areas:
        items = list(area.items.all())
        weight_sum = sum((i.weight for i in items), Decimal(0))
        if not items or weight_sum == 0:
            continue
        share = sum((i.weight * Decimal(scores[i.code]) / i.max_score for i in items), Decimal(0)) / weight_sum
        total += area.weight * share
    return total.quantize(CENT, rounding=ROUND_DOWN)


@transaction.atomic
def interview_score(
    *,
    interview: CompetencyInterview,
    scores: Mapping[str, tuple[Decimal | int | str, str]],
    feedback: str,
    actor: User,
    expected_version: int | None = None,
) -> CompetencyInterview:
    """The main interviewer (or a supervisor) scores every sub-item with a comment; the weighted
    total is computed from the rubric as it stands now."""
    checked: dict[str, Decimal] = {}

    def scores_complete(locked: CompetencyInterview) -> None:
        checked.update(_checked_scores(scores, feedback))

    def scored(locked: CompetencyInterview) -> list[str]:
        locked.total_score = total_for(checked)
        InterviewScore.objects.bulk_create(
            [
                InterviewScore(interview=locked, item=i, score=checked[i.code], comment=scores[i.code][1])
                for i in rubric_items()
            ]
        )
        return ["total_score"]

    return transition_run(
        INTERVIEW_FLOW,
        interview,
        "score",
        actor=actor,
        expected_version=expected_version,
        allowed=_leads_panel,
        denied_message=PANEL_LEAD_ONLY,
        validate=scores_complete,
        prepare={"feedback": feedback, "scored_by": actor, "scored_at": timezone.now()},
        before_save=scored,
    ).instance


def _checked_scores(scores: Mapping[str, tuple[Decimal | int | str, str]], feedback: str) -> dict[str, Decimal]:
    """Each rubric item's score, or ValidationError naming every item that is missing or wrong."""
    rubric_check()
    items = list(rubric_items())
    errors: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    for item in items:
        if item.code not in scores:
            errors.setdefault(item.code, []).append(_("请为“%(item)s”评分。") % {"item": item.name})
            continue
        raw, comment = scores[item.code]
        try:
            value = Decimal(str(raw))
        except ArithmeticError:
            value = Decimal(-1)
        if not Decimal(0) <= value <= item.max_score or value != value.quantize(CENT):
            errors.setdefault(item.code, []).append(
                _("“%(item)s”的得分须在 0 至 %(max)s 之间。") % {"item": item.name, "max": item.max_score}
            )
        if not comment.strip():
            errors.setdefault(item.code, []).append(_("请为“%(item)s”写评语。") % {"item": item.name})
        values[item.code] = value
    unknown = set(scores) - {i.code for i in items}
    if unknown:
        errors["__all__"] = [_("未知的评分项：%(codes)s") % {"codes": "、".join(sorted(unknown))}]
    if not feedback.strip():
        errors["feedback"] = [_("请填写给倾听师的总体反馈。")]
    if errors:
        raise ValidationError(errors)
    return values


def _plan_items(interview: CompetencyInterview, now: datetime) -> list[InterviewPlanItem]:
    """The plan's items, each with a deadline row (like a listener task) so the sweep reminds the
    listener and escalates an overdue item."""
    items = InterviewPlanItem.objects.bulk_create(
        [
            InterviewPlanItem(
                interview=interview, kind=kind, description=source_text(text), due_at=now + PLAN_DUE_AFTER
            )
            for kind, text in PLAN_DESCRIPTIONS.items()
        ]
    )
    for item in items:
        deadline_open(
            subject=item,
            kind=DeadlineKind.LISTENER_TASK,
            label=f"{_('改进计划')}/{interview.pk}/{item.pk}",
            link=_portal_link(interview),
            owner=interview.listener.user,
            starts_at=now,
            due_at=item.due_at,
        )
    return items


def interview_hold_ended(interview: CompetencyInterview) -> str | None:
    """A 60–70 result's hold ends once every item of the improvement plan is verified."""
    if interview.state != InterviewState.RESULT_SENT or interview.band != Band.CONDITIONAL:
        return None
    if interview.plan_items.exclude(state=PlanItemState.VERIFIED).exists():
        return None
    return _("胜任力考核面试的改进计划已全部核实，恢复接单。")


@transaction.atomic
def interview_send_result(
    *,
    interview: CompetencyInterview,
    actor: User,
    expected_version: int | None = None,
    interim_status: ListenerStatus | str = ListenerStatus.HIDDEN,
    show_total: bool | None = None,
) -> CompetencyInterview:
    """Apply the band and tell the listener (due within a week of the interview).

    ≥ 70: keeps practising with an improvement plan. 60 ≤ total < 70: keeps practising but is
    hidden (or, if a supervisor picks, suspended or returned to internship) until every plan item
    is verified. < 60: delisted, may reapply six months later. Each status change is recorded with
    this interview as its source. The total is shown to the listener (email and portal) only when
    ``show_total`` (default: setting ``INTERVIEW_RESULT_SHOWS_TOTAL``) says so; the choice is
    stored on the interview as ``total_shown``.
    """
    now = timezone.now()
    if show_total is None:
        show_total = settings.INTERVIEW_RESULT_SHOWS_TOTAL

    def sendable(locked: CompetencyInterview) -> None:
        if locked.total_score is None:
            raise INTERVIEW_FLOW.refusal(locked, "send_result", None)
        if interim_status not in INTERIM_STATUSES:
            raise ValidationError({"interim_status": [_("改进期间只能隐藏、暂停接单或转为实习。")]})
        if interim_status != ListenerStatus.HIDDEN and not _is_supervisor(actor):
            raise PermissionDenied(_("只有督导可以选择隐藏以外的改进期间状态。"))

    def banded(locked: CompetencyInterview) -> list[str]:
        assert locked.total_score is not None
        locked.band = band_for(locked.total_score)
        if locked.band == Band.CONDITIONAL:
            locked.interim_status = interim_status
        elif locked.band == Band.FAIL:
            locked.eligible_to_reapply_at = add_months(now, REAPPLY_AFTER_MONTHS)
        return ["band", "interim_status", "eligible_to_reapply_at"]

    return transition_run(
        INTERVIEW_FLOW,
        interview,
        "send_result",
        actor=actor,
        expected_version=expected_version,
        allowed=_leads_panel,
        denied_message=PANEL_LEAD_ONLY,
        validate=sendable,
        prepare={"result_sent_at": now, "total_shown": bool(show_total)},
        before_save=banded,
        meet=[DeadlineKind.INTERVIEW_RESULT],
        effects=lambda move: _result_apply(move, interim_status, now),
    ).instance


def _result_apply(move: Move[CompetencyInterview], interim_status: ListenerStatus | str, now: datetime) -> None:
    """The sent result's effects: the plan, the holds it places or ends, the listener told."""
    locked, actor = move.instance, move.actor
    band = Band(locked.band)
    listener = locked.listener
    plan: list[InterviewPlanItem] = []
    if band == Band.PASS:
        plan = _plan_items(locked, now)
    elif band == Band.CONDITIONAL:
        plan = _plan_items(locked, now)
        locked.interim_status = interim_status
        hold_place(
            listener=listener,
            effect=interim_status,
            ends=HoldEnd.PLAN_VERIFIED,
            reason=_("胜任力考核面试 60–70 分：完成改进计划并经核实后恢复接单。"),
            actor=actor,
            source=locked,
        )
    else:
        hold_place(
            listener=listener,
            effect=ListenerStatus.DELISTED,
            ends=HoldEnd.INTERVIEW_PASSED,
            reason=_("胜任力考核面试不合格（<60 分），予以清退，六个月后可重新申请。"),
            actor=actor,
            source=locked,
        )
    if band != Band.FAIL:
        # 60 and above keeps practising: it ends the delisting of a failed interview (a
        # reapplication; a 60–70 result's own plan hold takes over). A delisting by a decision or
        # an ethics case is a hold of its own and stays.
        holds_release_ending(
            listener=listener,
            ends=HoldEnd.INTERVIEW_PASSED,
            reason=(
                _("胜任力考核面试合格（≥70 分），继续执业并完成改进计划。")
                if band == Band.PASS
                else _("胜任力考核面试 60–70 分：完成改进计划并经核实后恢复接单。")
            ),
            actor=actor,
        )
    # The case that asked for this interview may now be done.
    holds_settle(listener=listener, actor=actor)
    reapply = locked.eligible_to_reapply_at
    notify(
        recipients=[listener.user],
        kind="listener.interview_result",
        template="interview_result",
        # Source-language labels and texts: the email template translates them for the recipient.
        context={
            "band": source_text(band.label),
            "band_code": str(band),
            "feedback": locked.feedback,
            "total": str(locked.total_score) if locked.total_shown else "",
            "plan": [
                {
                    "kind": source_text(PlanItemKind(item.kind).label),
                    "description": item.description,
                    "due": date_format(timezone.localtime(item.due_at), "Y-m-d"),
                }
                for item in plan
            ],
            "reapply_on": date_format(timezone.localtime(reapply), "Y-m-d") if reapply else "",
            "interim_status": source_text(ListenerStatus(interim_status).label) if band == Band.CONDITIONAL else "",
        },
        link=_portal_link(locked),
        dedupe_key=f"interview_result:{locked.pk}",
    )


# --- improvement plan ---------------------------------------------------------------------------


@transaction.atomic
def plan_item_submit(
    *, item: InterviewPlanItem, note: str, actor: User, upload: UploadedFile | None = None
) -> InterviewPlanItem:
    """The listener says an item is done, with a note, a proof file, or both (one is required).
    A resubmission before verification replaces the note, and the file when a new one comes."""
    locked = plan_item_get_for_update(item.pk)
    _require_listener(locked.interview, actor)
    if locked.state == PlanItemState.VERIFIED:
        raise ValidationError(_("该改进计划项已核实。"))
    if not note.strip() and upload is None:
        raise ValidationError({"note": [_("请说明完成情况，或上传证明文件。")]})
    if upload is not None:
        locked.evidence_type = validate_evidence_file(upload, field="evidence")
        locked.evidence.save("evidence", upload, save=False)
        locked.evidence_name = safe_filename(upload.name or "")
    locked.state, locked.completion_note, locked.submitted_at = PlanItemState.SUBMITTED, note.strip(), timezone.now()
    locked.save(
        update_fields=["state", "completion_note", "submitted_at", "evidence", "evidence_name", "evidence_type"]
    )
    return locked


def _require_plan_reviewer(actor: User) -> None:
    if not (_is_supervisor(actor) or actor.has_role(Role.REVIEWER)):
        raise PermissionDenied(_("只有督导或专业组成员可以核实改进计划。"))


def _plan_item_notify(item: InterviewPlanItem, interview: CompetencyInterview, template: str, key: str) -> None:
    notify(
        recipients=[interview.listener.user],
        kind=f"listener.{template}",
        template=template,
        context={"kind": str(item.get_kind_display()), "note": item.review_note},
        link=_portal_link(interview),
        dedupe_key=key,
    )


@transaction.atomic
def plan_item_verify(*, item: InterviewPlanItem, actor: User, note: str = "") -> InterviewPlanItem:
    """Staff verify a submitted item: its deadline is met and the listener told. When the last item
    of a 60–70 result is verified, the listener is restored to active automatically (recorded
    with the interview as source) and told. Idempotent on a verified item."""
    _require_plan_reviewer(actor)
    locked = plan_item_get_for_update(item.pk)
    if locked.state == PlanItemState.VERIFIED:
        return locked
    if locked.state != PlanItemState.SUBMITTED:
        raise ValidationError(_("倾听师还没有提交这一项的完成情况，不能核实。"))
    locked.state, locked.verified_by, locked.verified_at, locked.review_note = (
        PlanItemState.VERIFIED,
        actor,
        timezone.now(),
        note,
    )
    locked.save(update_fields=["state", "verified_by", "verified_at", "review_note"])
    deadline_meet(subject=locked, kinds=[DeadlineKind.LISTENER_TASK])
    interview = interview_get_for_update(locked.interview_id)
    _plan_item_notify(locked, interview, "interview_plan_verified", f"interview_plan_verified:{locked.pk}")
    listener = interview.listener
    # The plan's hold ends with its last item; another case's hold may still keep the status.
    released = holds_settle(listener=listener, actor=actor)
    mine = {hold.pk for hold in holds_of(interview)}
    if any(hold.pk in mine for hold in released) and listener.status == ListenerStatus.ACTIVE:
        notify(
            recipients=[listener.user],
            kind="listener.interview_plan_restored",
            template="interview_plan_restored",
            context={},
            link=_portal_link(interview),
            dedupe_key=f"interview_plan_restored:{interview.pk}",
        )
    return locked


@transaction.atomic
def plan_item_return(*, item: InterviewPlanItem, actor: User, note: str) -> InterviewPlanItem:
    """Staff send a submitted item back with a note saying what is missing: it is open again (its
    deadline stays open) and the listener is told."""
    _require_plan_reviewer(actor)
    if not note.strip():
        raise ValidationError({"note": [_("请说明需要倾听师补充或修改的内容。")]})
    locked = plan_item_get_for_update(item.pk)
    if locked.state != PlanItemState.SUBMITTED:
        raise ValidationError(_("只有已提交、尚未核实的改进计划项可以退回。"))
    locked.state, locked.review_note = PlanItemState.OPEN, note.strip()
    locked.save(update_fields=["state", "review_note"])
    interview = locked.interview
    _plan_item_notify(
        locked,
        interview,
        "interview_plan_returned",
        f"interview_plan_returned:{locked.pk}:{int(locked.submitted_at.timestamp()) if locked.submitted_at else 0}",
    )
    return locked


def reapplication_check(*, listener: ListenerProfile, when: datetime | None = None) -> None:
    """Raise ValidationError when a listener delisted by an interview applies before six months."""
    when = when or timezone.now()
    failed = delisting_interview(listener) or last_failed_interview(listener)
    if failed is not None and failed.eligible_to_reapply_at and when < failed.eligible_to_reapply_at:
        raise ValidationError(
            _("胜任力考核面试未通过，%(date)s 起方可重新申请。")
            % {"date": date_format(timezone.localtime(failed.eligible_to_reapply_at), "Y-m-d")}
        )


@transaction.atomic
def reapplication_submit(*, listener: ListenerProfile, actor: User) -> CompetencyInterview:
    """A listener delisted by a failed interview asks to practise again: once the six months are
    over a new competency interview is requested (or the open one returned, see interview_request)
    and the supervisors are told. Before the date nothing is written."""
    if listener.user_id != actor.pk:
        raise PermissionDenied(_("只有倾听师本人可以申请重新入驻。"))
    locked = listener_get_for_update(listener.pk)
    if delisting_interview(locked) is None:
        raise ValidationError(_("只有因胜任力考核面试未通过而被清退的倾听师可以在这里申请重新入驻。"))
    reapplication_check(listener=locked)
    interview = interview_request(listener=locked, reason=REAPPLICATION_REASON, actor=actor)
    notify(
        recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
        kind="staff.interview_reapplication",
        template="interview_reapplication",
        context={"number": interview.pk},
        link=_admin_link(interview),
        dedupe_key=f"interview_reapplication:{interview.pk}",
    )
    return interview
