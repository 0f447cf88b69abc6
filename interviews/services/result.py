"""Scoring and the result: the rubric gives the total, the band sets what follows for the listener."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor as _is_supervisor
from core.deadlines import deadline_open
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, transition_run
from listeners.holds import hold_place, holds_release_ending, holds_settle
from listeners.models import HoldEnd, ListenerStatus

from ..models import (
    INTERIM_STATUSES,
    Band,
    CompetencyInterview,
    InterviewPlanItem,
    InterviewScore,
    InterviewState,
    PlanItemKind,
    PlanItemState,
    ScoringArea,
)
from ..selectors import (
    rubric_items,
)
from .common import (
    CENT,
    CONDITIONAL_FROM,
    INTERVIEW_FLOW,
    PANEL_LEAD_ONLY,
    PASS_FROM,
    PLAN_DESCRIPTIONS,
    PLAN_DUE_AFTER,
    REAPPLY_AFTER_MONTHS,
    _leads_panel,
    _portal_link,
    add_months,
    source_text,
)

if TYPE_CHECKING:
    from accounts.models import User


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
