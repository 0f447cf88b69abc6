"""The panel and the meeting: who sits on it, the interview held or missed, slots released and interviews cancelled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import Role
from complaints.services import reviewer_conflicts
from core.deadlines import deadline_open, deadline_set_owner
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, transition_run
from listeners.holds import holds_settle

from ..models import (
    OPEN_STATES,
    CompetencyInterview,
    InterviewSlot,
    InterviewState,
)
from ..selectors import (
    interview_get_for_update,
)
from .common import (
    HOLD_TOLERANCE,
    INTERVIEW_FLOW,
    MAX_MINUTES,
    MIN_MINUTES,
    PANEL_LEAD_ONLY,
    _admin_link,
    _booked_slot,
    _has_case_report,
    _is_staff,
    _leads_panel,
    _notify_panel,
    _portal_link,
    _require_supervisor,
    _result_due,
    _slot_text,
    case_report_lead,
    lead_hours,
)

if TYPE_CHECKING:
    from accounts.models import User


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
            link=reverse("admin:interviews_competencyinterview_change", args=[move.instance.pk]),
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
