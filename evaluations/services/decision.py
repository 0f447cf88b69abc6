"""Decision: drafted from the grade, approved when it must be, sent to both parties with its measures."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from accounts.roles import Role
from complaints.models import Complaint
from complaints.selectors import complaint_get_for_update
from complaints.services import (
    complaint_close,
    complaint_decide,
    complaint_record,
    complaint_start_follow_up,
    review_link,
    staff_link,
)
from core.errors import WrongState
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run

from ..measures import (
    interview_and_report,
    measures_apply,
    tasks_create,
)
from ..models import (
    MONEY_REMEDIES,
    Decision,
    DecisionState,
    Evaluation,
    Grade,
    ListenerResponse,
    ListenerTask,
    Measure,
    Outcome,
    Remedy,
)
from .assignment import is_lead, reviewers_of
from .evaluation import _require_evaluating

if TYPE_CHECKING:
    from accounts.models import User


# --- decision ------------------------------------------------------------------------------------


def _final_evaluation(complaint: Complaint) -> Evaluation:
    final = Evaluation.objects.filter(complaint=complaint, is_final=True, submitted_at__isnull=False).first()
    if final is None:
        raise ValidationError(_("须先形成最终评估，才能作出处理决定。"))
    return final


def _decimal_or_none(value) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def _validate_money(complaint: Complaint, remedies: list[str], refund, compensation) -> dict[str, Decimal | None]:
    amount = complaint.session.amount
    errors: dict[str, list[str]] = {}
    refund_amount: Decimal | None = None
    if Remedy.FULL_REFUND in remedies and Remedy.PARTIAL_REFUND in remedies:
        errors["remedies"] = [_("全额退款和部分退款只能选一项。")]
    if Remedy.FULL_REFUND in remedies:
        refund_amount = amount
    elif Remedy.PARTIAL_REFUND in remedies:
        refund = _decimal_or_none(refund)
        if refund is None or not (Decimal("0") < refund < amount):
            errors["refund_amount"] = [_("部分退款金额须大于 0 且小于订单金额 %(a)s 元。") % {"a": amount}]
        else:
            refund_amount = Decimal(refund)
    compensation_amount: Decimal | None = None
    if Remedy.COMPENSATION in remedies:
        compensation = _decimal_or_none(compensation)
        if compensation is None or compensation <= 0:
            errors["compensation_amount"] = [_("请填写补偿金额。")]
        else:
            compensation_amount = Decimal(compensation)
    if errors:
        raise ValidationError(errors)
    return {"refund_amount": refund_amount, "compensation_amount": compensation_amount}


def _decision_record(move: Move[Decision]) -> None:
    """A decision's moves are written on its complaint's timeline (staff only)."""
    if move.note:
        complaint_record(complaint=move.instance.complaint, actor=move.actor, note=move.note, visible=False)


def _decision_for_update(pk: int) -> Decision:
    return (
        Decision.objects.select_for_update(of=("self",))
        .select_related("complaint__listener__user", "complaint__session", "grade")
        .get(pk=pk)
    )


DECISION_FLOW: Workflow[Decision] = Workflow(
    model=Decision,
    record=_decision_record,
    lock=_decision_for_update,
    refusals={
        "request_approval": gettext_lazy("决定已经提交过了。"),
        "confirm": gettext_lazy("决定已经提交过了。"),
        "approve": gettext_lazy("这个决定不在待批准状态。"),
        "send_back": gettext_lazy("这个决定不在待批准状态。"),
        "notify": gettext_lazy("处理决定须先获批准（或确认）才能送达。"),
    },
)


def _leads_or_supervises(decision: Decision, user: User) -> bool:
    return is_lead(user, decision.complaint) or is_supervisor(user)


@transaction.atomic
def decision_draft(
    *,
    complaint: Complaint,
    actor: User,
    grade: Grade,
    text_to_complainant: str,
    text_to_listener: str,
    measures: list[str] | None = None,
    remedies: list[str] | None = None,
    refund_amount: Decimal | None = None,
    compensation_amount: Decimal | None = None,
    adjustment_reason: str = "",
) -> Decision:
    """Write or rewrite the decision. Measures and remedies default to the grade's; changing them needs a reason."""
    locked = complaint_get_for_update(complaint.pk)
    if not (is_lead(actor, locked) or is_supervisor(actor)):
        raise PermissionDenied(_("只有本案主审或督导可以起草处理决定。"))
    _require_evaluating(locked)
    final = _final_evaluation(locked)
    if (final.outcome == Outcome.A) != (grade.level == 0):
        raise ValidationError({"grade": [_("处理等级须与最终评估的结论一致（A 对应 0 级）。")]})
    measures = list(dict.fromkeys(grade.measures if measures is None else measures))
    remedies = list(dict.fromkeys(grade.remedies if remedies is None else remedies))
    adjusted = set(measures) != set(grade.measures) or set(remedies) != set(grade.remedies)
    errors: dict[str, list[str]] = {}
    if adjusted and not adjustment_reason.strip():
        errors["adjustment_reason"] = [_("处理措施或补救与等级默认不同，请写明调整理由。")]
    if not text_to_complainant.strip():
        errors["text_to_complainant"] = [_("请填写给投诉人的说明。")]
    if not text_to_listener.strip():
        errors["text_to_listener"] = [_("请填写给倾听师的说明。")]
    if errors:
        raise ValidationError(errors)
    money = _validate_money(locked, remedies, refund_amount, compensation_amount)
    decision = Decision.objects.select_for_update().filter(complaint=locked).first()
    if decision is not None and decision.state != DecisionState.DRAFT:
        raise WrongState(_("决定已提交审批或已批准，不能再修改。"))
    values = {
        "evaluation": final,
        "grade": grade,
        "measures": measures,
        "remedies": remedies,
        "adjustment_reason": adjustment_reason.strip(),
        "text_to_complainant": text_to_complainant.strip(),
        "text_to_listener": text_to_listener.strip(),
        "decided_by": actor,
        **money,
    }
    if decision is None:
        decision = Decision.objects.create(complaint=locked, **values)
    else:
        for key, value in values.items():
            setattr(decision, key, value)
        decision.save()
    return decision


@transaction.atomic
def decision_submit(*, decision: Decision, actor: User) -> Decision:
    """Send for a supervisor's approval when the grade or a money remedy requires it; else confirm."""

    def ask_supervisors(move: Move[Decision]) -> None:
        if move.to_state == DecisionState.PENDING_APPROVAL:
            notify(
                recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
                kind="decision.pending_approval",
                template="decision_pending_approval",
                context={"reference": move.instance.complaint.reference, "grade": move.instance.grade.level},
                link=reverse("review_supervision:approvals"),
            )

    return transition_run(
        DECISION_FLOW,
        decision,
        lambda locked: "request_approval" if locked.needs_approval else "confirm",
        actor=actor,
        allowed=_leads_or_supervises,
        denied_message=_("只有本案主审或督导可以提交处理决定。"),
        note=lambda locked: _("处理决定（%(g)s 级）已提交：%(s)s")
        % {"g": locked.grade.level, "s": locked.get_state_display()},
        effects=ask_supervisors,
    ).instance


@transaction.atomic
def decision_approve(*, decision: Decision, actor: User) -> Decision:
    """A supervisor approves; each approved money remedy is told to the main platform via the outbox."""

    def not_own(locked: Decision) -> None:
        if locked.decided_by_id == actor.pk:
            raise PermissionDenied(_("起草决定的人不能自己批准，请另一位督导批准。"))

    return transition_run(
        DECISION_FLOW,
        decision,
        "approve",
        actor=actor,
        denied_message=_("只有督导可以批准处理决定。"),
        validate=not_own,
        prepare={"approved_by": actor, "approved_at": timezone.now()},
        note=_("督导批准了处理决定。"),
        effects=lambda move: _money_to_platform(move.instance),
    ).instance


def _money_to_platform(decision: Decision) -> None:
    from core.outbox import outbox_write

    complaint = decision.complaint
    for remedy in decision.remedies:
        if remedy not in MONEY_REMEDIES:
            continue
        amount = decision.compensation_amount if remedy == Remedy.COMPENSATION else decision.refund_amount
        outbox_write(
            kind="remedy.approved",
            payload={
                "reference": complaint.reference,
                "order_no": complaint.session.order_no,
                "remedy": remedy,
                "amount": str(amount),
                "currency": "CNY",
            },
        )


def _money_changed_to_platform(decision: Decision, *, added: set[str], withdrawn: set[str]) -> None:
    """An appeal that adds or withdraws a refund or compensation tells the main platform too."""
    from core.outbox import outbox_write

    complaint = decision.complaint
    if Remedy.FULL_REFUND in added:
        decision.refund_amount = complaint.session.amount
    if Remedy.PARTIAL_REFUND in added and not decision.refund_amount:
        raise ValidationError({"remedies": [_("部分退款须先在决定中写明金额。")]})
    if Remedy.COMPENSATION in added and not decision.compensation_amount:
        raise ValidationError({"remedies": [_("补偿须先在决定中写明金额。")]})
    decision.save(update_fields=["refund_amount"])
    for remedy, kind in [
        *((r, "remedy.approved") for r in sorted(added)),
        *((r, "remedy.withdrawn") for r in sorted(withdrawn)),
    ]:
        amount = decision.compensation_amount if remedy == Remedy.COMPENSATION else decision.refund_amount
        outbox_write(
            kind=kind,
            payload={
                "reference": complaint.reference,
                "order_no": complaint.session.order_no,
                "remedy": remedy,
                "amount": str(amount),
                "currency": "CNY",
                "reason": "appeal",
            },
        )


@transaction.atomic
def decision_send_back(*, decision: Decision, actor: User, reason: str) -> Decision:
    def with_reason(locked: Decision) -> None:
        if not reason.strip():
            raise ValidationError({"reason": [_("请写明退回的理由。")]})

    def tell_the_drafter(move: Move[Decision]) -> None:
        notify(
            recipients=[move.instance.decided_by],
            kind="decision.returned",
            template="decision_returned",
            context={"reference": move.instance.complaint.reference, "reason": reason.strip()},
            link=review_link(move.instance.complaint),
        )

    return transition_run(
        DECISION_FLOW,
        decision,
        "send_back",
        actor=actor,
        denied_message=_("只有督导可以退回处理决定。"),
        validate=with_reason,
        prepare={"returned_reason": reason.strip()},
        note=_("督导退回：%(r)s") % {"r": reason.strip()},
        effects=tell_the_drafter,
    ).instance


@transaction.atomic
def decision_record_listener_response(*, decision: Decision, actor: User, response: str, reason: str = "") -> Decision:
    """After the group talked with the listener: their agreement, or dissent with their reasoning."""
    locked = Decision.objects.select_for_update().select_related("complaint").get(pk=decision.pk)
    listener_user = locked.complaint.listener.user_id
    if actor.pk != listener_user and actor.pk not in reviewers_of(locked.complaint):
        raise PermissionDenied(_("您不能记录倾听师的意见。"))
    if actor.pk == listener_user and locked.state != DecisionState.NOTIFIED:
        raise WrongState(_("决定送达后才能回复意见。"))
    if response not in ListenerResponse.values or response == ListenerResponse.PENDING:
        raise ValidationError({"listener_response": [_("请选择同意或不同意。")]})
    if response == ListenerResponse.DISAGREES and not reason.strip():
        raise ValidationError({"listener_response_reason": [_("不同意时请写明理由。")]})
    locked.listener_response, locked.listener_response_reason = response, reason.strip()
    locked.save(update_fields=["listener_response", "listener_response_reason"])
    complaint_record(
        complaint=locked.complaint,
        actor=actor,
        note=_("倾听师对处理决定的意见：%(r)s") % {"r": ListenerResponse(response).label},
        visible=False,
    )
    return locked


@transaction.atomic
def decision_notify(*, decision: Decision, actor: User) -> Decision:
    """Deliver the approved decision: apply measures, tell both parties, move the case on.

    One transaction: tasks with their deadlines, listener status changes (with history pointing
    at this decision), an interview request, the complaint's transitions and the notifications
    all happen together or not at all.
    """
    locked = transition_run(
        DECISION_FLOW,
        decision,
        "notify",
        actor=actor,
        allowed=_leads_or_supervises,
        denied_message=_("只有本案主审或督导可以送达处理决定。"),
        prepare={"notified_at": timezone.now()},
    ).instance
    complaint = locked.complaint
    complaint_decide(complaint=complaint, actor=actor, note=locked.text_to_complainant)
    tasks = _apply_measures(locked, actor)
    notify(
        recipients=[complaint.complainant],
        kind="complaint.decided",
        template="decision_to_complainant",
        context={"reference": complaint.reference, "text": locked.text_to_complainant},
        link=reverse("complaints:detail", args=[complaint.reference]),
    )
    notify(
        recipients=[complaint.listener.user],
        kind="listener.decision",
        template="decision_to_listener",
        context={
            "order_no": complaint.session.order_no,
            "grade": locked.grade.level,
            "text": locked.text_to_listener,
            "tasks": [t.get_kind_display() for t in tasks],
        },
        link=reverse("portal:complaint", args=[complaint.pk]),
    )
    if tasks:
        complaint_start_follow_up(complaint=complaint, actor=actor, note=_("处理决定已送达，正在跟进落实。"))
    else:
        complaint_close(complaint=complaint, actor=actor, note=_("处理决定已送达，案件结案。"))
    return locked


def _apply_measures(decision: Decision, actor: User) -> list[ListenerTask]:
    complaint = decision.complaint
    return measures_apply(
        listener=complaint.listener,
        measures=list(decision.measures),
        actor=actor,
        reference=complaint.reference,
        status_reason=_("处理决定 %(ref)s（%(g)s 级）") % {"ref": complaint.reference, "g": decision.grade.level},
        source=decision,
        link=staff_link(complaint),
        decision=decision,
        complaint=complaint,
    )


def _create_tasks(decision: Decision, kinds: list[str]) -> list[ListenerTask]:
    complaint = decision.complaint
    return tasks_create(listener=complaint.listener, kinds=kinds, reference=complaint.reference, decision=decision)


def _request_interview_and_report(decision: Decision, actor: User, measures: list[str]) -> None:
    complaint = decision.complaint
    if Measure.REPORT_TO_AUTHORITIES in measures:
        complaint_record(
            complaint=complaint,
            actor=actor,
            note=_("决定依法报告有关部门，请督导跟进并记录报告情况。"),
            visible=False,
        )
    interview_and_report(
        listener=complaint.listener,
        measures=measures,
        reference=complaint.reference,
        link=staff_link(complaint),
        actor=actor,
        complaint=complaint,
    )
