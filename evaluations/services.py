"""Investigation, evaluation, decision, follow-up and appeal: every write of the evaluations app.

Each public function is atomic: a decision's notification creates its tasks, deadlines, status
changes and interview request in one transaction, so a failure in the middle leaves nothing behind.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from accounts.roles import Role
from complaints.models import Complaint, ComplaintState
from complaints.selectors import complaint_get_for_update
from complaints.services import (
    complaint_close,
    complaint_decide,
    complaint_record,
    complaint_start_follow_up,
    conflict_declare,
    review_link,
    reviewer_conflicts,
    safe_filename,
    staff_link,
    validate_evidence_file,
)
from core.deadlines import deadline_cancel, deadline_meet, deadline_open, due_for
from core.errors import WrongState
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run
from listeners.holds import hold_place, hold_release, holds_settle

from .measures import (
    hold_end_for,
    interview_and_report,
    measures_apply,
    source_lock,
    source_tasks_done,
    status_for,
    tasks_create,
)
from .models import (
    MONEY_REMEDIES,
    Appeal,
    AppealState,
    ContactRecord,
    Decision,
    DecisionState,
    Evaluation,
    Grade,
    InformationRequest,
    ListenerResponse,
    ListenerStatement,
    ListenerTask,
    Measure,
    Outcome,
    Party,
    Remedy,
    ReviewerAssignment,
    TaskState,
)

if TYPE_CHECKING:
    from accounts.models import User

LISTENER_APPEAL_DAYS = 7
COMPLAINANT_REOPEN_DAYS = 14
INFORMATION_REQUEST_DAYS = 3

# --- who works on a case ------------------------------------------------------------------


def reviewers_of(complaint: Complaint) -> set[int]:
    ids = set(ReviewerAssignment.objects.filter(complaint=complaint).values_list("reviewer_id", flat=True))
    if complaint.assigned_reviewer_id:
        ids.add(complaint.assigned_reviewer_id)
    return ids


def is_lead(user: User, complaint: Complaint) -> bool:
    return complaint.assigned_reviewer_id == user.pk


def _require_case_reviewer(user: User, complaint: Complaint) -> None:
    if user.pk not in reviewers_of(complaint) and not is_supervisor(user):
        raise PermissionDenied(_("您不是本案的评估人。"))


@transaction.atomic
def reviewer_assign(*, complaint: Complaint, reviewer: User, actor: User) -> ReviewerAssignment:
    """Add a reviewer to the case. Refused, with the reason, when they have a conflict of interest."""
    if not (is_supervisor(actor) or is_lead(actor, complaint)):
        raise PermissionDenied(_("只有督导或本案主审可以增加评估人。"))
    if not reviewer.has_role(Role.REVIEWER):
        raise ValidationError({"reviewer": [_("只能指派给专业组成员。")]})
    if (
        complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION)
        or Evaluation.objects.filter(complaint=complaint, is_final=True).exists()
    ):
        raise WrongState(_("最终评估形成后不能再增加评估人。"))
    reasons = reviewer_conflicts(reviewer, complaint)
    handled_other = (
        ReviewerAssignment.objects.filter(reviewer=reviewer, complaint__complainant_id=complaint.complainant_id)
        .exclude(complaint=complaint)
        .exists()
    )
    if handled_other and not reasons:
        reasons.append(_("该专业组成员处理过同一投诉人的其他投诉。"))
    if reasons:
        raise ValidationError({"reviewer": [_("不能指派：%(reasons)s") % {"reasons": "".join(reasons)}]})
    assignment, _created = ReviewerAssignment.objects.get_or_create(
        complaint=complaint, reviewer=reviewer, defaults={"assigned_by": actor}
    )
    complaint_record(complaint=complaint, actor=actor, note=_("增加评估人：%(n)s") % {"n": reviewer}, visible=False)
    notify(
        recipients=[reviewer],
        kind="complaint.assigned",
        template="case_assigned",
        context={"reference": complaint.reference},
        link=review_link(complaint),
    )
    return assignment


@transaction.atomic
def reviewer_step_aside(*, complaint: Complaint, reviewer: User, reason: str) -> None:
    """A reviewer on the case declares a conflict: they leave it, and supervisors are told."""
    if reviewer.pk not in reviewers_of(complaint):
        raise PermissionDenied(_("您不是本案的评估人。"))
    if Evaluation.objects.filter(complaint=complaint, is_final=True).exists():
        raise WrongState(_("最终评估形成后不能再回避，请联系督导。"))
    conflict_declare(complaint=complaint, reviewer=reviewer, reason=reason)
    ReviewerAssignment.objects.filter(complaint=complaint, reviewer=reviewer).delete()
    Evaluation.objects.filter(complaint=complaint, reviewer=reviewer, is_final=False, submitted_at=None).delete()


# --- investigation ------------------------------------------------------------------------------


def _require_investigating(complaint: Complaint) -> None:
    if complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION):
        raise WrongState(_("案件不在调查或评估阶段。"))


@transaction.atomic
def contact_record_add(
    *,
    complaint: Complaint,
    actor: User,
    party: str,
    channel: str,
    summary: str,
    upload: UploadedFile | None = None,
    **fields: Any,
):
    _require_case_reviewer(actor, complaint)
    _require_investigating(complaint)
    if not summary.strip():
        raise ValidationError({"summary": [_("请填写沟通概要。")]})
    file_type = ""
    if upload is not None:
        file_type = validate_evidence_file(upload, field="file")
    allowed = {
        "contacted_at",
        "expectations",
        "conflict_points",
        "evidence_notes",
        "confirmed_demands",
        "consent_disclosed",
        "listener_account",
        "listener_understanding",
        "listener_view_of_demands",
    }
    record = ContactRecord.objects.create(
        complaint=complaint,
        party=party,
        channel=channel,
        summary=summary.strip(),
        recorded_by=actor,
        contacted_at=fields.pop("contacted_at", None) or timezone.now(),
        **{k: v for k, v in fields.items() if k in allowed},
    )
    if upload is not None:
        record.file.save("contact", upload, save=False)
        record.file_name, record.file_type = safe_filename(upload.name or ""), file_type
        record.save(update_fields=["file", "file_name", "file_type"])
    complaint_record(
        complaint=complaint,
        actor=actor,
        note=_("记录了与%(party)s的沟通。") % {"party": Party(party).label},
        visible=False,
    )
    return record


@transaction.atomic
def information_request_create(*, complaint: Complaint, actor: User, party: str, question: str) -> InformationRequest:
    """Ask one party a question through the platform; they answer on their own page."""
    _require_case_reviewer(actor, complaint)
    _require_investigating(complaint)
    if not question.strip():
        raise ValidationError({"question": [_("请填写要询问的问题。")]})
    request = InformationRequest.objects.create(
        complaint=complaint,
        party=party,
        question=question.strip(),
        asked_by=actor,
        due_at=timezone.now() + timedelta(days=INFORMATION_REQUEST_DAYS),
    )
    if party == Party.COMPLAINANT:
        recipient, link = complaint.complainant, f"/complaints/{complaint.reference}/questions/"
    else:
        # Asking the listener shares the complaint with them (without the complainant's identity).
        ListenerStatement.objects.get_or_create(complaint=complaint, defaults={"listener": complaint.listener})
        recipient, link = complaint.listener.user, f"/portal/complaints/{complaint.pk}/"
    complaint_record(complaint=complaint, actor=actor, note=question.strip(), visible=party == Party.COMPLAINANT)
    notify(
        recipients=[recipient],
        kind="investigation.information_request",
        template="information_requested",
        context={"reference": complaint.reference if party == Party.COMPLAINANT else "", "question": question.strip()},
        link=link,
    )
    return request


@transaction.atomic
def information_request_answer(*, request: InformationRequest, actor: User, answer: str) -> InformationRequest:
    locked = (
        InformationRequest.objects.select_for_update(of=("self",))
        .select_related("complaint__listener")
        .get(pk=request.pk)
    )
    owner = locked.complaint.complainant_id if locked.party == Party.COMPLAINANT else locked.complaint.listener.user_id
    if actor.pk != owner:
        raise PermissionDenied(_("这个问题不是问您的。"))
    if locked.answered_at is not None:
        raise WrongState(_("这个问题已经回答过了。"))
    if locked.complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION):
        raise WrongState(_("案件已不在调查阶段，不需要再回复。"))
    if not answer.strip():
        raise ValidationError({"answer": [_("请填写回复。")]})
    locked.answer, locked.answered_at = answer.strip(), timezone.now()
    locked.save(update_fields=["answer", "answered_at"])
    complaint_record(
        complaint=locked.complaint,
        actor=actor,
        note=_("%(party)s回复了补充信息请求。") % {"party": Party(locked.party).label},
        visible=locked.party == Party.COMPLAINANT,
    )
    notify(
        recipients=[locked.asked_by],
        kind="investigation.answer",
        template="information_answered",
        context={"reference": locked.complaint.reference},
        link=review_link(locked.complaint),
    )
    return locked


@transaction.atomic
def statement_request(
    *,
    complaint: Complaint,
    actor: User,
    shared_content: str | None = None,
    shared_demands_other: str | None = None,
) -> ListenerStatement:
    """Tell the listener of the complaint (never who filed it) and ask for their account. The group
    shares the complaint's text as it edits it here (names, phone numbers, places taken out);
    without an edit, the complainant's own words."""
    _require_case_reviewer(actor, complaint)
    _require_investigating(complaint)
    content = complaint.content if shared_content is None else shared_content.strip()
    if not content:
        raise ValidationError({"shared_content": [_("请填写与倾听师分享的投诉内容。")]})
    demands_other = complaint.demands_other if shared_demands_other is None else shared_demands_other.strip()
    due, _remind = due_for(DeadlineKind.LISTENER_STATEMENT, timezone.now())
    statement, created = ListenerStatement.objects.get_or_create(
        complaint=complaint,
        defaults={
            "listener": complaint.listener,
            "due_at": due,
            "shared_content": content,
            "shared_demands_other": demands_other,
        },
    )
    if created:
        # The complaint is the subject, so withdrawing or rejecting it cancels the reminder too.
        deadline_open(
            subject=complaint,
            kind=DeadlineKind.LISTENER_STATEMENT,
            label=_("订单 %(order)s 的陈述") % {"order": complaint.session.order_no},
            link=f"/portal/complaints/{complaint.pk}/",
            owner=complaint.listener.user,
            due_at=due,
        )
        complaint_record(complaint=complaint, actor=actor, note=_("已请倾听师提交陈述。"), visible=False)
        notify(
            recipients=[complaint.listener.user],
            kind="investigation.statement_requested",
            template="statement_requested",
            context={"order_no": complaint.session.order_no},
            link=f"/portal/complaints/{complaint.pk}/",
        )
    return statement


@transaction.atomic
def statement_save(*, statement: ListenerStatement, actor: User, body: str, submit: bool = False) -> ListenerStatement:
    locked = ListenerStatement.objects.select_for_update(of=("self",)).select_related("listener").get(pk=statement.pk)
    if actor.pk != locked.listener.user_id:
        raise PermissionDenied(_("只有被投诉的倾听师本人可以撰写陈述。"))
    if locked.submitted_at is not None:
        raise WrongState(_("陈述已经提交，不能再修改。"))
    if locked.complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION):
        raise WrongState(_("案件已不在调查阶段，陈述不能再提交。"))
    if submit and not body.strip():
        raise ValidationError({"body": [_("请写下您的陈述再提交。")]})
    locked.body = body
    fields = ["body", "updated_at"]
    if submit:
        locked.submitted_at = timezone.now()
        fields.append("submitted_at")
    locked.save(update_fields=fields)
    if submit:
        complaint = locked.complaint
        deadline_meet(subject=complaint, kinds=[DeadlineKind.LISTENER_STATEMENT])
        complaint_record(complaint=complaint, actor=actor, note=_("倾听师提交了陈述。"), visible=False)
        notify(
            recipients=get_user_model().objects.filter(pk__in=reviewers_of(complaint)),
            kind="investigation.statement_submitted",
            template="statement_submitted",
            context={"reference": complaint.reference},
            link=review_link(complaint),
        )
    return locked


# --- evaluation ----------------------------------------------------------------------------------

EVALUATION_FIELDS = [
    "facts",
    "facts_rationale",
    "evidence_cited",
    "demand",
    "demand_rationale",
    "finding_competence_gap",
    "finding_subjective_harm",
    "finding_inducing_orders",
    "finding_illegality",
    "competence_rationale",
    "awareness",
    "reflection",
    "awareness_rationale",
    "outcome",
    "proposed_grade",
    "outcome_rationale",
]
REQUIRED_ON_SUBMIT = [
    ("facts", gettext_lazy("请评估投诉是否属实。")),
    ("facts_rationale", gettext_lazy("请写明事实判断的理由。")),
    ("demand", gettext_lazy("请评估诉求是否合理。")),
    ("demand_rationale", gettext_lazy("请写明诉求判断的理由。")),
    ("competence_rationale", gettext_lazy("请写明对胜任力、伤害、诱导下单和违法情况的判断理由。")),
    ("awareness", gettext_lazy("请评估倾听师在倾诉中的觉察。")),
    ("reflection", gettext_lazy("请评估倾听师在处理过程中的反思。")),
    ("awareness_rationale", gettext_lazy("请写明觉察与反思评估的理由。")),
    ("outcome", gettext_lazy("请选择结论 A 或 B。")),
    ("outcome_rationale", gettext_lazy("请写明结论的理由。")),
]


def _validate_evaluation(evaluation: Evaluation) -> None:
    errors: dict[str, list[str]] = {}
    for field, message in REQUIRED_ON_SUBMIT:
        value = getattr(evaluation, field)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            errors.setdefault(field, []).append(str(message))
    grade = evaluation.proposed_grade
    if evaluation.outcome == Outcome.B and (grade is None or grade.level == 0):
        errors.setdefault("proposed_grade", []).append(_("结论 B 须提出 1 级及以上的处理等级。"))
    if evaluation.outcome == Outcome.A and grade is not None and grade.level != 0:
        errors.setdefault("proposed_grade", []).append(_("结论 A 对应 0 级（无明确不足）。"))
    if errors:
        raise ValidationError(errors)


def _require_evaluating(complaint: Complaint) -> None:
    if complaint.state != ComplaintState.EVALUATION:
        raise WrongState(_("案件不在评估阶段。"))


@transaction.atomic
def evaluation_save(*, complaint: Complaint, reviewer: User, data: dict, submit: bool = False) -> Evaluation:
    """Save a reviewer's own evaluation as a draft, or submit it (then it is read-only)."""
    locked = complaint_get_for_update(complaint.pk)
    if reviewer.pk not in reviewers_of(locked):
        raise PermissionDenied(_("您不是本案的评估人。"))
    _require_evaluating(locked)
    evaluation, _created = Evaluation.objects.select_for_update().get_or_create(
        complaint=locked, reviewer=reviewer, is_final=False
    )
    if evaluation.submitted:
        raise WrongState(_("您的评估已提交，不能再修改。"))
    for field in EVALUATION_FIELDS:
        if field in data:
            setattr(evaluation, field, data[field])
    if submit:
        _validate_evaluation(evaluation)
        evaluation.submitted_at = timezone.now()
    evaluation.save()
    if submit:
        complaint_record(complaint=locked, actor=reviewer, note=_("评估人提交了评估。"), visible=False)
    return evaluation


def evaluations_visible_to(user: User, complaint: Complaint) -> list[Evaluation]:
    """A reviewer sees others' scores only after submitting their own; supervisors see all."""
    evaluations = list(
        Evaluation.objects.filter(complaint=complaint).select_related("reviewer", "proposed_grade").order_by("id")
    )
    if is_supervisor(user):
        return evaluations
    own = next((e for e in evaluations if e.reviewer_id == user.pk and not e.is_final), None)
    if own is not None and own.submitted:
        return evaluations
    return [e for e in evaluations if e.reviewer_id == user.pk and not e.is_final]


@transaction.atomic
def evaluation_reconcile(*, complaint: Complaint, lead: User, data: dict, disagreements: str = "") -> Evaluation:
    """The lead's final evaluation, once every reviewer has submitted; their disagreements are kept."""
    locked = complaint_get_for_update(complaint.pk)
    if not is_lead(lead, locked):
        raise PermissionDenied(_("只有本案主审可以形成最终评估。"))
    _require_evaluating(locked)
    pending = reviewers_of(locked) - set(
        Evaluation.objects.filter(complaint=locked, is_final=False, submitted_at__isnull=False).values_list(
            "reviewer_id", flat=True
        )
    )
    if pending:
        raise ValidationError(_("还有评估人没有提交评估。"))
    if Evaluation.objects.filter(complaint=locked, is_final=True).exists():
        raise WrongState(_("最终评估已经形成。"))
    final = Evaluation(complaint=locked, reviewer=lead, is_final=True, disagreements=disagreements.strip())
    for field in EVALUATION_FIELDS:
        if field in data:
            setattr(final, field, data[field])
    _validate_evaluation(final)
    final.submitted_at = timezone.now()
    final.save()
    complaint_record(complaint=locked, actor=lead, note=_("主审形成了最终评估。"), visible=False)
    return final


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
                link="/review/approvals/",
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
        link=f"/complaints/{complaint.reference}/",
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
        link=f"/portal/complaints/{complaint.pk}/",
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


# --- follow-up tasks ------------------------------------------------------------------------------


def _task_for_update(pk: int) -> ListenerTask:
    return (
        ListenerTask.objects.select_for_update(of=("self",))
        .select_related("listener", "decision__complaint")
        .get(pk=pk)
    )


TASK_REVIEWED = gettext_lazy("这个任务还没有提交，或已核实。")
TASK_FLOW: Workflow[ListenerTask] = Workflow(
    model=ListenerTask,
    lock=_task_for_update,
    refusals={"submit": gettext_lazy("这个任务已提交或已核实。"), "verify": TASK_REVIEWED, "send_back": TASK_REVIEWED},
)


@transaction.atomic
def task_submit(*, task: ListenerTask, actor: User, note: str, upload: UploadedFile | None = None) -> ListenerTask:
    def has_evidence(locked: ListenerTask) -> None:
        if not note.strip() and upload is None:
            raise ValidationError({"evidence_note": [_("请写下完成情况或上传证明。")]})
        if upload is not None:
            locked.evidence_type = validate_evidence_file(upload, field="evidence")

    def store(locked: ListenerTask) -> list[str]:
        if upload is not None:
            locked.evidence.save("evidence", upload, save=False)
            locked.evidence_name = safe_filename(upload.name or "")
        return ["evidence", "evidence_name", "evidence_type"]

    return transition_run(
        TASK_FLOW,
        task,
        "submit",
        actor=actor,
        allowed=lambda locked, user: user.pk == locked.listener.user_id,
        denied_message=_("只有本人可以提交任务完成情况。"),
        validate=has_evidence,
        prepare={"evidence_note": note.strip(), "submitted_at": timezone.now()},
        before_save=store,
    ).instance


def _may_verify(task: ListenerTask, user: User) -> bool:
    # A task from another source (an ethics case) is verified by supervisors.
    complaint = task.decision.complaint if task.decision is not None else None
    return is_supervisor(user) or (complaint is not None and user.pk in reviewers_of(complaint))


@transaction.atomic
def task_review(*, task: ListenerTask, actor: User, accepted: bool, note: str = "") -> ListenerTask:
    """Staff verify a task, or send it back. When the last task is verified the case closes and a
    temporary status (hidden, suspended) is lifted.

    The case (complaint or other source) is locked before the task, as every other writer does:
    two staff verifying the last two tasks at once then see each other's, and one closes the case."""
    parent = ListenerTask.objects.values("decision__complaint_id", "source_type_id", "source_id").get(pk=task.pk)
    if parent["decision__complaint_id"] is not None:
        complaint_get_for_update(parent["decision__complaint_id"])
    elif parent["source_type_id"] is not None:
        source_lock(parent["source_type_id"], parent["source_id"])

    def with_note(locked: ListenerTask) -> None:
        if not accepted and not note.strip():
            raise ValidationError({"review_note": [_("退回时请说明还需要什么。")]})

    def reviewed(move: Move[ListenerTask]) -> None:
        locked = move.instance
        notify(
            recipients=[locked.listener.user],
            kind="listener.task_reviewed",
            template="task_reviewed",
            context={"task": locked.get_kind_display(), "accepted": accepted, "note": locked.review_note},
            link="/portal/tasks/",
        )
        if not accepted:
            return
        # Whatever hold this task's case placed may have ended with it.
        holds_settle(listener=locked.listener, actor=actor)
        if locked.decision is not None:
            _close_when_all_verified(locked.decision, actor)
        else:
            source_tasks_done(locked, actor)

    verified = {"verified_by": actor, "verified_at": timezone.now()} if accepted else {}
    return transition_run(
        TASK_FLOW,
        task,
        "verify" if accepted else "send_back",
        actor=actor,
        allowed=_may_verify,
        denied_message=_("只有本案评估人或督导可以核实任务。"),
        validate=with_note,
        prepare={"review_note": note.strip(), **verified},
        meet=[DeadlineKind.LISTENER_TASK] if accepted else [],
        effects=reviewed,
    ).instance


def _close_when_all_verified(decision: Decision, actor: User) -> None:
    if decision.tasks.filter(state__in=[TaskState.OPEN, TaskState.SUBMITTED]).exists():
        return
    complaint = complaint_get_for_update(decision.complaint_id)
    if complaint.state == ComplaintState.FOLLOW_UP:
        complaint_close(complaint=complaint, actor=actor, note=_("处理决定的各项任务已完成，案件结案。"))


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
        link="/review/appeals/",
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
            link="/review/appeals/",
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
                f"/complaints/{complaint.reference}/"
                if locked.party == Party.COMPLAINANT
                else f"/portal/complaints/{complaint.pk}/"
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
