"""Appeals: the listener within 7 days, the complainant within 14 of closing; confirm, change or annul."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from accounts.roles import Role
from complaints.models import Complaint, ComplaintState
from complaints.selectors import complaint_get_for_update
from complaints.services import (
    complaint_close,
    complaint_record,
    reviewer_conflicts,
)
from core.deadlines import deadline_cancel
from core.errors import WrongState
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run
from listeners.holds import hold_place, hold_release, holds_settle

from ..measures import (
    hold_end_for,
    status_for,
)
from ..models import (
    MONEY_REMEDIES,
    Appeal,
    AppealState,
    Decision,
    Evaluation,
    Grade,
    Party,
    TaskState,
)
from .assignment import reviewers_of
from .common import COMPLAINANT_REOPEN_DAYS, LISTENER_APPEAL_DAYS
from .decision import _create_tasks, _money_changed_to_platform, _request_interview_and_report

if TYPE_CHECKING:
    from accounts.models import User


# --- appeals ---------------------------------------------------------------------------------------


def _closed_at(complaint: Complaint):
    event = complaint.timeline.filter(transition="close").order_by("-created_at").first()
    return event.created_at if event else None


@transaction.atomic
def appeal_file(*, decision: Decision, actor: User, reason: str) -> Appeal:
    """The listener appeals once within 7 days of notification; the complainant may ask to reopen
    within 14 days of closing."""
    locked = Decision.objects.select_for_update().select_related("complaint__listener").get(pk=decision.pk)
    complaint = locked.complaint
    now = timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明申诉理由。")]})
    if actor.pk == complaint.listener.user_id:
        party = Party.LISTENER
        if locked.notified_at is None or now > locked.notified_at + timedelta(days=LISTENER_APPEAL_DAYS):
            raise ValidationError(_("申诉须在决定送达后 %(d)s 天内提出。") % {"d": LISTENER_APPEAL_DAYS})
        if locked.appeals.filter(party=Party.LISTENER).exists():
            raise WrongState(_("每个决定只能申诉一次。"))
    elif actor.pk == complaint.complainant_id:
        party = Party.COMPLAINANT
        closed_at = _closed_at(complaint)
        if complaint.state not in (ComplaintState.CLOSED, ComplaintState.ARCHIVED) or closed_at is None:
            raise WrongState(_("案件结案后才能申请复核。"))
        if now > closed_at + timedelta(days=COMPLAINANT_REOPEN_DAYS):
            raise ValidationError(_("申请复核须在结案后 %(d)s 天内提出。") % {"d": COMPLAINANT_REOPEN_DAYS})
        if locked.appeals.filter(
            party=Party.COMPLAINANT, state__in=[AppealState.SUBMITTED, AppealState.REVIEWING]
        ).exists():
            raise WrongState(_("已有一份复核申请正在处理。"))
    else:
        raise PermissionDenied(_("只有倾听师本人或投诉人可以申诉。"))
    appeal = Appeal.objects.create(decision=locked, party=party, appellant=actor, reason=reason.strip())
    complaint_record(
        complaint=complaint,
        actor=actor,
        note=_("%(party)s提出申诉/复核申请。") % {"party": Party(party).label},
        visible=party == Party.COMPLAINANT,
    )
    notify(
        recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
        kind="appeal.filed",
        template="appeal_filed",
        context={"reference": complaint.reference, "party": str(Party(party).label)},
        link=reverse("review_supervision:appeals"),
    )
    return appeal


def _appeal_record(move: Move[Appeal]) -> None:
    """An appeal's moves are written on its complaint's timeline."""
    complaint_record(
        complaint=move.instance.decision.complaint,
        actor=move.actor,
        note=move.note,
        visible=move.context.get("visible", False),
    )


APPEAL_FLOW: Workflow[Appeal] = Workflow(
    model=Appeal,
    record=_appeal_record,
    lock=lambda pk: Appeal.objects.select_for_update(of=("self",))
    .select_related("decision__complaint__listener")
    .get(pk=pk),
    refusals={
        "assign": gettext_lazy("这份申诉已安排或已处理。"),
        **dict.fromkeys(
            ["confirm_decision", "change_decision", "annul_decision"], gettext_lazy("这份申诉不在复核中。")
        ),
    },
)
OUTCOME_MOVES = {
    AppealState.CONFIRMED: "confirm_decision",
    AppealState.CHANGED: "change_decision",
    AppealState.ANNULLED: "annul_decision",
}


@transaction.atomic
def appeal_assign(*, appeal: Appeal, actor: User, reviewer: User) -> Appeal:
    """A supervisor takes the appeal with a reviewer who had no part in the original evaluation."""

    def independent(locked: Appeal) -> None:
        complaint = locked.decision.complaint
        original = reviewers_of(complaint) | set(
            Evaluation.objects.filter(complaint=complaint).values_list("reviewer_id", flat=True)
        )
        if reviewer.pk in original:
            raise ValidationError({"reviewer": [_("复核须由未参与原评估的专业组成员进行。")]})
        if not reviewer.has_role(Role.REVIEWER):
            raise ValidationError({"reviewer": [_("只能指派给专业组成员。")]})
        reasons = reviewer_conflicts(reviewer, complaint)
        if reasons:
            raise ValidationError({"reviewer": ["".join(reasons)]})

    def tell_the_reviewer(move: Move[Appeal]) -> None:
        notify(
            recipients=[reviewer],
            kind="appeal.assigned",
            template="case_assigned",
            context={"reference": move.instance.decision.complaint.reference},
            link=reverse("review_supervision:appeals"),
        )

    return transition_run(
        APPEAL_FLOW,
        appeal,
        "assign",
        actor=actor,
        allowed=lambda locked, user: is_supervisor(user),
        denied_message=_("只有督导可以安排复核。"),
        validate=independent,
        prepare={"reviewer": reviewer, "supervisor": actor},
        note=_("申诉已安排复核。"),
        effects=tell_the_reviewer,
    ).instance


@transaction.atomic
def appeal_resolve(
    *,
    appeal: Appeal,
    actor: User,
    outcome: str,
    note: str,
    grade: Grade | None = None,
    measures: list[str] | None = None,
    remedies: list[str] | None = None,
) -> Appeal:
    """Confirm, change (measures recomputed: tasks, statuses, interview) or annul the decision."""
    money: dict[str, set[str]] = {}

    def well_founded(locked: Appeal) -> None:
        if outcome not in OUTCOME_MOVES:
            raise ValidationError({"outcome": [_("请选择复核结论。")]})
        if not note.strip():
            raise ValidationError({"outcome_note": [_("请写明复核理由。")]})
        decision = Decision.objects.select_for_update().get(pk=locked.decision_id)
        money["old"] = old_money = {r for r in decision.remedies if r in MONEY_REMEDIES}
        if outcome == AppealState.CHANGED:
            new_remedies = remedies if remedies is not None else (grade or decision.grade).remedies
            money["new"] = {r for r in new_remedies if r in MONEY_REMEDIES}
        elif outcome == AppealState.ANNULLED:
            money["new"] = set()
        else:
            money["new"] = old_money
        if money["new"] != old_money and actor.pk != locked.supervisor_id:
            raise PermissionDenied(_("涉及退款或补偿的变更须由负责复核的督导作出。"))

    def apply_outcome(move: Move[Appeal]) -> None:
        locked = move.instance
        decision = Decision.objects.get(pk=locked.decision_id)
        if outcome == AppealState.CHANGED:
            new_grade = grade or decision.grade
            _rework(decision, actor, new_grade, list(new_grade.measures if measures is None else measures),
                    list(new_grade.remedies if remedies is None else remedies))  # fmt: skip
        elif outcome == AppealState.ANNULLED:
            _rework(decision, actor, decision.grade, [], [])
        old_money, new_money = money["old"], money["new"]
        if new_money != old_money:
            _money_changed_to_platform(decision, added=new_money - old_money, withdrawn=old_money - new_money)
        complaint = decision.complaint
        notify(
            recipients=[locked.appellant],
            kind="appeal.resolved",
            template="appeal_resolved",
            context={"outcome": str(AppealState(outcome).label), "note": note.strip()},
            link=(
                reverse("complaints:detail", args=[complaint.reference])
                if locked.party == Party.COMPLAINANT
                else reverse("portal:complaint", args=[complaint.pk])
            ),
        )

    return transition_run(
        APPEAL_FLOW,
        appeal,
        lambda locked: OUTCOME_MOVES.get(cast(AppealState, outcome), "confirm_decision"),
        actor=actor,
        allowed=lambda locked, user: user.pk in (locked.supervisor_id, locked.reviewer_id),
        denied_message=_("只有负责复核的督导或专业组成员可以作出复核结论。"),
        validate=well_founded,
        prepare={"outcome_note": note.strip(), "resolved_at": timezone.now()},
        note=lambda locked: _("复核结论：%(o)s。%(n)s") % {"o": AppealState(outcome).label, "n": note.strip()},
        context={"visible": appeal.party == Party.COMPLAINANT or outcome != AppealState.CONFIRMED},
        effects=apply_outcome,
    ).instance


def _rework(decision: Decision, actor: User, grade: Grade, measures: list[str], remedies: list[str]) -> None:
    """Bring tasks, the interview and the listener's status in line with changed measures."""
    live = decision.tasks.filter(state__in=[TaskState.OPEN, TaskState.SUBMITTED])
    for task in live.exclude(kind__in=measures):
        deadline_cancel(subject=task)
    live.exclude(kind__in=measures).update(state=TaskState.CANCELLED)
    kept = set(decision.tasks.exclude(state=TaskState.CANCELLED).values_list("kind", flat=True))
    added = [m for m in measures if m not in decision.measures]
    decision.grade, decision.measures, decision.remedies = grade, measures, remedies
    decision.save(update_fields=["grade", "measures", "remedies"])
    _create_tasks(decision, [m for m in measures if m not in kept])
    _request_interview_and_report(decision, actor, added)
    # Only this decision's own hold changes: another case's hold on the listener stays as it is.
    listener = decision.complaint.listener
    target = status_for(measures)
    reason = _("复核后调整处理决定 %(ref)s") % {"ref": decision.complaint.reference}
    if target is None:
        hold_release(listener=listener, source=decision, reason=reason, actor=actor)
    else:
        ends = hold_end_for(measures, target)
        hold_place(listener=listener, effect=target, ends=ends, reason=reason, actor=actor, source=decision)
    holds_settle(listener=listener, actor=actor)
    if not decision.tasks.filter(state__in=[TaskState.OPEN, TaskState.SUBMITTED]).exists():
        complaint = complaint_get_for_update(decision.complaint_id)
        if complaint.state == ComplaintState.FOLLOW_UP:
            complaint_close(complaint=complaint, actor=actor, note=_("复核后无待完成任务，案件结案。"))
