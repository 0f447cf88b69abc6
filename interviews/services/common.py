"""Shared by the steps: constants, workflows and the checks every step asks."""

from __future__ import annotations

import calendar
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor as _is_supervisor
from core.deadlines import due_for
from core.models import DeadlineKind, DeadlinePolicy
from core.notifications import notify
from core.workflow import Workflow

from ..models import (
    CompetencyInterview,
    InterviewSlot,
    MaterialKind,
    PlanItemKind,
)
from ..selectors import (
    interview_get_for_update,
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
    return reverse("portal:interview", args=[interview.pk])


def _admin_link(interview: CompetencyInterview) -> str:
    return reverse("admin:interviews_competencyinterview_change", args=[interview.pk])


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
