"""Supervisors' approval queue: decisions that need a supervisor's approval, approved or sent back.

Thin edges over evaluations.services: each POST calls one service and shows its outcome. The
queue's query is evaluations.selectors.pending_decisions, built so the page costs the same number
of queries whatever the number of decisions, reviewers and files on it; the cards below turn
those rows into words, translated once per page.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.policy import is_supervisor
from accounts.typing import AuthedHttpRequest
from complaints.models import Category, Complaint
from complaints.services import ComplaintConflict
from listeners.models import Channel

from .forms_supervision import SendBackForm, add_service_errors
from .models import (
    AWARENESS_SCALE,
    MONEY_REMEDIES,
    Decision,
    Evaluation,
    Facts,
    Measure,
    Outcome,
    Reasonableness,
    Remedy,
)
from .selectors import pending_decisions
from .services import decision_approve, decision_send_back

# --- what the pages show -----------------------------------------------------------------


FINDING_FIELDS = ("finding_competence_gap", "finding_subjective_harm", "finding_inducing_orders", "finding_illegality")


def _choice_map(choices: Any) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


class Labels:
    """Words of one page, translated once: a lazy label or message costs a gettext call each
    time it is read, and the queue reads dozens per decision."""

    def __init__(self) -> None:
        self.measure = _choice_map(Measure.choices)
        self.remedy = _choice_map(Remedy.choices)
        self.facts = _choice_map(Facts.choices)
        self.demand = _choice_map(Reasonableness.choices)
        self.outcome = _choice_map(Outcome.choices)
        self.awareness = _choice_map(AWARENESS_SCALE)
        self.channel = _choice_map(Channel.choices)
        self.category = _choice_map(Category.choices)
        self.findings = [
            (name, str(getattr(Evaluation._meta.get_field(name), "verbose_name", name))) for name in FINDING_FIELDS
        ]
        self.money = _("%(remedy)s %(amount)s 元")
        self.grade = _("%(level)s 级 · %(name)s")
        self.grade_needs_approval = _("%(level)s 级须督导批准")
        self.has_money = _("含退款或补偿")
        self.drafted = _("%(who)s 起草 · %(at)s")
        self.case_line = _(
            "订单 %(order)s · %(channel)s · %(at)s · 订单金额 %(amount)s 元 · 倾听师 %(listener)s · %(category)s"
        )
        self.final_by = _("主审 %(who)s 汇总")
        self.proposed = _("（建议等级 %(grade)s）")
        self.lead = _("（主审）")
        self.no_evaluation = _("%(name)s%(role)s：无个人评估")
        self.proposal = _(" · 建议 %(level)s 级")


@functools.lru_cache(maxsize=8)
def labels_for(language: str | None) -> Labels:
    """The page's words in one language; built once per process and language."""
    return Labels()


def page_labels() -> Labels:
    return labels_for(get_language())


def measure_labels(values: list[str], labels: Labels) -> list[str]:
    return [labels.measure.get(v, v) for v in values]


def remedy_lines(decision: Decision, labels: Labels) -> list[str]:
    """Each remedy in words, with its amount when it is money."""
    lines = []
    for value in decision.remedies:
        label = labels.remedy.get(value, value)
        amount = None
        if value in (Remedy.PARTIAL_REFUND, Remedy.FULL_REFUND):
            amount = decision.refund_amount
        elif value == Remedy.COMPENSATION:
            amount = decision.compensation_amount
        lines.append(labels.money % {"remedy": label, "amount": amount} if amount else label)
    return lines


def findings(evaluation: Evaluation, labels: Labels) -> list[str]:
    return [label for name, label in labels.findings if getattr(evaluation, name)]


def approval_reasons(decision: Decision, labels: Labels) -> list[str]:
    reasons = []
    if decision.grade.requires_approval:
        reasons.append(labels.grade_needs_approval % {"level": decision.grade.level})
    if any(r in MONEY_REMEDIES for r in decision.remedies):
        reasons.append(labels.has_money)
    return reasons


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(size / 1024, 0.1):.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _joined(values: list[str]) -> str:
    return "、".join(values) or "—"


@dataclass
class ReasonField:
    """The send-back reason of one decision, drawn by hand in the template (the queue shows many:
    one widget render each would cost more than the rest of the card)."""

    name: str
    id: str
    value: str
    errors: list[str]


@dataclass
class ApprovalCard:
    """One pending decision as the queue prints it: plain strings, computed once."""

    pk: int
    reference: str
    admin_url: str
    approve_url: str
    send_back_url: str
    grade: str
    reasons: list[str]
    drafted: str
    case_line: str
    measures: str
    remedies: str
    adjustment_reason: str
    returned_reason: str
    final_by: str
    facts: str
    evidence: str
    demand: str
    findings: str
    competence: str
    awareness: str
    awareness_rationale: str
    outcome: str
    outcome_rationale: str
    disagreements: str
    reviewers: list[str]
    text_to_complainant: str
    text_to_listener: str
    attachments: list[tuple[str, str, str]]
    reason: ReasonField


def _reason_field(pk: int, form: SendBackForm | None) -> ReasonField:
    if form is None:
        return ReasonField(f"d{pk}-reason", f"id_d{pk}-reason", "", [])
    bound = form["reason"]
    return ReasonField(bound.html_name, bound.auto_id, bound.value() or "", [str(e) for e in bound.errors])


def _reviewer_line(name: str, is_lead: bool, evaluation: Evaluation | None, labels: Labels) -> str:
    role = labels.lead if is_lead else ""
    if evaluation is None:
        return labels.no_evaluation % {"name": name, "role": role}
    grade = evaluation.proposed_grade
    proposal = labels.proposal % {"level": grade.level} if grade is not None else ""
    return f"{name}{role}：{labels.outcome.get(evaluation.outcome, '')}{proposal}"


# Stands for an id while a URL is reversed once per page; no real id is this large.
_PK_MARK = 2_147_483_647


def _url_template(name: str, marker: Any) -> str:
    """The URL named ``name`` with ``{}`` for its one argument: reversed once per page, not per card."""
    return reverse(name, args=[marker]).replace(str(marker), "{}")


def _reviewer_lines(complaint: Complaint, evaluations: list[Evaluation], labels: Labels) -> list[str]:
    """The lead first, then the other reviewers, each with their own evaluation's proposal."""
    lead = complaint.assigned_reviewer_id
    by_reviewer = {e.reviewer_id: e for e in evaluations if not e.is_final}
    lines = []
    if lead:
        lines.append(_reviewer_line(str(complaint.assigned_reviewer), True, by_reviewer.get(lead), labels))
    for a in complaint.assignment_list:  # type: ignore[attr-defined]
        if a.reviewer_id != lead:
            lines.append(_reviewer_line(str(a.reviewer), a.is_lead, by_reviewer.get(a.reviewer_id), labels))
    return lines


def approval_cards(decisions: Iterable[Decision], bound: dict[int, SendBackForm]) -> list[ApprovalCard]:
    labels = page_labels()
    admin_url = _url_template("admin:complaints_complaint_change", _PK_MARK)
    approve_url = _url_template("review_supervision:approve", _PK_MARK)
    send_back_url = _url_template("review_supervision:send_back", _PK_MARK)
    attachment_url = _url_template("complaints:attachment", uuid.UUID(int=0))
    cards = []
    for decision in decisions:
        complaint = decision.complaint
        session = complaint.session
        evaluations = complaint.submitted_evaluations  # type: ignore[attr-defined]
        final = next(e for e in evaluations if e.pk == decision.evaluation_id)
        proposed = final.proposed_grade
        grade = decision.grade
        cards.append(
            ApprovalCard(
                pk=decision.pk,
                reference=complaint.reference,
                admin_url=admin_url.format(complaint.pk),
                approve_url=approve_url.format(decision.pk),
                send_back_url=send_back_url.format(decision.pk),
                grade=labels.grade % {"level": grade.level, "name": grade.name},
                reasons=approval_reasons(decision, labels),
                drafted=labels.drafted % {"who": decision.decided_by, "at": _when(decision.created_at)},
                case_line=labels.case_line
                % {
                    "order": session.order_no,
                    "channel": labels.channel.get(session.channel, session.channel),
                    "at": _when(session.started_at),
                    "amount": session.amount,
                    "listener": complaint.listener.display_name,
                    "category": labels.category.get(complaint.category, complaint.category),
                },
                measures=_joined(measure_labels(decision.measures, labels)),
                remedies=_joined(remedy_lines(decision, labels)),
                adjustment_reason=decision.adjustment_reason,
                returned_reason=decision.returned_reason,
                final_by=labels.final_by % {"who": final.reviewer},
                facts=f"{labels.facts.get(final.facts, '')}：{final.facts_rationale}",
                evidence=final.evidence_cited,
                demand=f"{labels.demand.get(final.demand, '')}：{final.demand_rationale}",
                findings=_joined(findings(final, labels)),
                competence=final.competence_rationale,
                awareness=f"{labels.awareness.get(final.awareness, '—')} / {labels.awareness.get(final.reflection, '—')}",
                awareness_rationale=final.awareness_rationale,
                outcome=labels.outcome.get(final.outcome, "")
                + (labels.proposed % {"grade": proposed} if proposed is not None else ""),
                outcome_rationale=final.outcome_rationale,
                disagreements=final.disagreements,
                reviewers=_reviewer_lines(complaint, evaluations, labels),
                text_to_complainant=decision.text_to_complainant,
                text_to_listener=decision.text_to_listener,
                attachments=[
                    (attachment_url.format(a.public_id), a.original_name, _size(a.size))
                    for a in complaint.attachment_list  # type: ignore[attr-defined]
                ],
                reason=_reason_field(decision.pk, bound.get(decision.pk)),
            )
        )
    return cards


def require_supervisor(user: User) -> None:
    if not is_supervisor(user):
        raise PermissionDenied(_("只有督导可以使用这个页面。"))


# --- the approval queue ------------------------------------------------------------------


# Oldest first, ten at a time: each card is a whole decision to read, and a supervisor works
# down from the top. (Ten keeps the page under 80 ms at p95 on the bench; twenty did not.)
QUEUE_PAGE_SIZE = 10


def _queue_page_number(request: AuthedHttpRequest) -> str:
    return request.POST.get("page") or request.GET.get("page") or "1"


def _queue_url(page: str) -> str:
    url = reverse("review_supervision:approvals")
    return url if page in ("", "1") else f"{url}?{urlencode({'page': page})}"


def _render_queue(request: AuthedHttpRequest, bound: dict[int, SendBackForm] | None = None) -> HttpResponse:
    page = Paginator(pending_decisions(), QUEUE_PAGE_SIZE).get_page(_queue_page_number(request))
    cards = approval_cards(page.object_list, bound or {})
    return render(request, "review/approvals.html", {"cards": cards, "page": page})


@never_cache
@login_required
@require_GET
def approval_queue(request: AuthedHttpRequest) -> HttpResponse:
    require_supervisor(request.user)
    return _render_queue(request)


@never_cache
@login_required
@require_POST
def approval_approve(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    require_supervisor(request.user)
    decision = get_object_or_404(Decision.objects.select_related("complaint"), pk=pk)
    try:
        decision_approve(decision=decision, actor=request.user)
    except ComplaintConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已批准 %(ref)s 的处理决定。") % {"ref": decision.complaint.reference})
    return redirect(_queue_url(_queue_page_number(request)))


@never_cache
@login_required
@require_POST
def approval_send_back(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    require_supervisor(request.user)
    decision = get_object_or_404(Decision.objects.select_related("complaint"), pk=pk)
    form = SendBackForm(request.POST, prefix=f"d{decision.pk}")
    if form.is_valid():
        try:
            decision_send_back(decision=decision, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ComplaintConflict as exc:
            messages.error(request, str(exc))
            return redirect(_queue_url(_queue_page_number(request)))
        else:
            messages.success(request, _("已将 %(ref)s 的处理决定退回主审。") % {"ref": decision.complaint.reference})
            return redirect(_queue_url(_queue_page_number(request)))
    return _render_queue(request, {decision.pk: form})
