"""Supervisors' pages: the approval queue, appeals, and the archive download of a closed case.

Thin edges over evaluations.services: each POST calls one service and shows its outcome;
the queries that feed the pages are the selectors at the top, built so a page costs the same
number of queries whatever the number of decisions, reviewers and files on it.
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
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.policy import is_supervisor
from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from complaints.models import Attachment, Category, Complaint, ComplaintState
from complaints.services import ComplaintConflict
from core.audit import access_log_write
from listeners.models import Channel

from .archive import ARCHIVE_STATES, archive_filename, archive_render
from .forms_supervision import AppealAssignForm, AppealResolveForm, SendBackForm, add_service_errors
from .models import (
    AWARENESS_SCALE,
    MONEY_REMEDIES,
    Appeal,
    AppealState,
    Decision,
    DecisionState,
    Evaluation,
    Facts,
    Measure,
    Outcome,
    Party,
    Reasonableness,
    Remedy,
    ReviewerAssignment,
)
from .services import appeal_assign, appeal_resolve, decision_approve, decision_send_back

# Identity is never shown on these pages, so it is neither fetched nor decrypted.
IDENTITY_FIELDS = ("real_name", "id_number", "phone")
ARCHIVE_CSP = "default-src 'none'; style-src 'unsafe-inline'"

# --- selectors --------------------------------------------------------------------------


def _without_identity(path: str) -> list[str]:
    return [f"{path}{name}" for name in IDENTITY_FIELDS]


USER_NAME = ("display_name", "email")  # what str(user) needs


def _user_fields(path: str) -> list[str]:
    return [f"{path}__{name}" for name in USER_NAME]


def pending_decisions() -> QuerySet[Decision]:
    """Decisions waiting for a supervisor, oldest first, with everything the queue shows.

    Only the columns the queue prints are read: the page renders many decisions at once.
    """
    return (
        Decision.objects.filter(state=DecisionState.PENDING_APPROVAL)
        .select_related(
            "complaint__session",
            "complaint__listener",
            "complaint__assigned_reviewer",
            "grade",
            "decided_by",
        )
        .only(
            *QUEUE_DECISION_FIELDS,
            "complaint__reference",
            "complaint__state",  # read by django-fsm's concurrency guard on every instance
            "complaint__category",
            "complaint__assigned_reviewer_id",
            *_user_fields("complaint__assigned_reviewer"),
            "complaint__session__order_no",
            "complaint__session__channel",
            "complaint__session__started_at",
            "complaint__session__amount",
            "complaint__listener__display_name",
            "grade__level",
            "grade__name",
            "grade__requires_approval",
            *_user_fields("decided_by"),
        )
        .prefetch_related(
            Prefetch(
                "complaint__reviewer_assignments",
                queryset=ReviewerAssignment.objects.select_related("reviewer")
                .only("complaint_id", "reviewer_id", "is_lead", *_user_fields("reviewer"))
                .order_by("assigned_at", "id"),
                to_attr="assignment_list",
            ),
            # Each reviewer's evaluation and the lead's final one (the decision's), in one query:
            # joining the final evaluation into the main query makes it slow to plan.
            Prefetch(
                "complaint__evaluations",
                queryset=Evaluation.objects.filter(submitted_at__isnull=False)
                .select_related("proposed_grade", "reviewer")
                .only(
                    "complaint_id",
                    "is_final",
                    *QUEUE_EVALUATION_FIELDS,
                    "proposed_grade__level",
                    "proposed_grade__name",
                    *_user_fields("reviewer"),
                )
                .order_by("submitted_at", "id"),
                to_attr="submitted_evaluations",
            ),
            Prefetch(
                "complaint__attachments",
                queryset=Attachment.objects.only("complaint_id", "public_id", "original_name", "size").order_by(
                    "created_at", "id"
                ),
                to_attr="attachment_list",
            ),
        )
        .order_by("created_at", "id")
    )


QUEUE_DECISION_FIELDS = (
    "complaint_id",
    "evaluation_id",
    "grade_id",
    "measures",
    "remedies",
    "refund_amount",
    "compensation_amount",
    "adjustment_reason",
    "text_to_complainant",
    "text_to_listener",
    "state",  # read by django-fsm's concurrency guard on every instance
    "decided_by_id",
    "returned_reason",
    "created_at",
)
QUEUE_EVALUATION_FIELDS = (
    "reviewer_id",
    "proposed_grade_id",
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
    "outcome_rationale",
    "disagreements",
)


def open_appeals_for(user: User) -> QuerySet[Appeal]:
    """Supervisors see every appeal still open; a reviewer sees those assigned to them."""
    qs = (
        Appeal.objects.filter(state__in=[AppealState.SUBMITTED, AppealState.REVIEWING])
        .select_related(
            "decision__complaint__listener",
            "decision__complaint__session",
            "decision__grade",
            "reviewer",
            "supervisor",
        )
        .defer(*_without_identity("decision__complaint__"))
        .prefetch_related(
            Prefetch(
                "decision__complaint__reviewer_assignments",
                queryset=ReviewerAssignment.objects.select_related("reviewer").order_by("id"),
            ),
            Prefetch(
                "decision__complaint__evaluations",
                queryset=Evaluation.objects.select_related("reviewer").order_by("id"),
            ),
        )
        .order_by("created_at", "id")
    )
    if is_supervisor(user):
        return qs
    return qs.filter(reviewer=user, state=AppealState.REVIEWING)


def reviewer_choices() -> list[tuple[int, str]]:
    reviewers = User.objects.filter(groups__name=Role.REVIEWER, is_active=True).order_by("display_name", "email")
    return [(u.pk, str(u)) for u in reviewers]


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


def approval_cards(decisions: Iterable[Decision], bound: dict[int, SendBackForm]) -> list[ApprovalCard]:
    labels = page_labels()
    base = reverse("review_supervision:approvals")
    admin_base = reverse("admin:complaints_complaint_changelist")
    blank = uuid.UUID(int=0)
    attachment_url = reverse("complaints:attachment", args=[blank]).replace(str(blank), "{}")
    cards = []
    for decision in decisions:
        complaint = decision.complaint
        session = complaint.session
        evaluations = complaint.submitted_evaluations  # type: ignore[attr-defined]
        final = next(e for e in evaluations if e.pk == decision.evaluation_id)
        lead = complaint.assigned_reviewer_id
        by_reviewer = {e.reviewer_id: e for e in evaluations if not e.is_final}
        reviewers = []
        if lead:
            reviewers.append(_reviewer_line(str(complaint.assigned_reviewer), True, by_reviewer.get(lead), labels))
        for a in complaint.assignment_list:  # type: ignore[attr-defined]
            if a.reviewer_id != lead:
                reviewers.append(_reviewer_line(str(a.reviewer), a.is_lead, by_reviewer.get(a.reviewer_id), labels))
        proposed = final.proposed_grade
        grade = decision.grade
        cards.append(
            ApprovalCard(
                pk=decision.pk,
                reference=complaint.reference,
                admin_url=f"{admin_base}{complaint.pk}/change/",
                approve_url=f"{base}{decision.pk}/approve/",
                send_back_url=f"{base}{decision.pk}/send-back/",
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
                reviewers=reviewers,
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


def _require_supervisor(user: User) -> None:
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
    _require_supervisor(request.user)
    return _render_queue(request)


@never_cache
@login_required
@require_POST
def approval_approve(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
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
    _require_supervisor(request.user)
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


# --- appeals ------------------------------------------------------------------------------


@dataclass
class AppealRow:
    appeal: Appeal
    appellant: str
    original_reviewers: list[str]
    may_resolve: bool
    form: AppealAssignForm | None


def appeal_rows(
    user: User, appeals: QuerySet[Appeal], bound: dict[int, AppealAssignForm], choices: list[tuple[int, str]]
) -> list[AppealRow]:
    supervisor = is_supervisor(user)
    rows = []
    for appeal in appeals:
        complaint = appeal.decision.complaint
        names: dict[int, str] = {}
        for assignment in complaint.reviewer_assignments.all():
            names[assignment.reviewer_id] = str(assignment.reviewer)
        for evaluation in complaint.evaluations.all():
            names[evaluation.reviewer_id] = str(evaluation.reviewer)
        form = None
        if supervisor and appeal.state == AppealState.SUBMITTED:
            form = bound.get(appeal.pk) or AppealAssignForm(prefix=f"a{appeal.pk}", reviewer_choices=choices)
        rows.append(
            AppealRow(
                appeal=appeal,
                appellant=appellant_label(appeal),
                original_reviewers=sorted(set(names.values())),
                may_resolve=appeal.state == AppealState.REVIEWING
                and user.pk in (appeal.reviewer_id, appeal.supervisor_id),
                form=form,
            )
        )
    return rows


def appellant_label(appeal: Appeal) -> str:
    """The listener by their public name; the complainant only by role (their account may carry their name)."""
    if appeal.party == Party.LISTENER:
        return _("倾听师 %(name)s") % {"name": appeal.decision.complaint.listener.display_name}
    return str(Party.COMPLAINANT.label)


def _require_appeal_staff(user: User) -> None:
    if not (is_supervisor(user) or user.has_role(Role.REVIEWER)):
        raise PermissionDenied(_("只有督导和专业组成员可以使用这个页面。"))


def _render_appeals(request: AuthedHttpRequest, bound: dict[int, AppealAssignForm] | None = None) -> HttpResponse:
    user = request.user
    choices = reviewer_choices() if is_supervisor(user) else []
    rows = appeal_rows(user, open_appeals_for(user), bound or {}, choices)
    return render(request, "review/appeals.html", {"rows": rows, "is_supervisor": is_supervisor(user)})


@never_cache
@login_required
@require_GET
def appeal_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_appeal_staff(request.user)
    return _render_appeals(request)


@never_cache
@login_required
@require_POST
def appeal_assign_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    appeal = get_object_or_404(Appeal.objects.select_related("decision__complaint"), pk=pk)
    form = AppealAssignForm(request.POST, prefix=f"a{appeal.pk}", reviewer_choices=reviewer_choices())
    if form.is_valid():
        try:
            appeal_assign(appeal=appeal, actor=request.user, reviewer=form.cleaned_data["reviewer"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ComplaintConflict as exc:
            messages.error(request, str(exc))
            return redirect("review_supervision:appeals")
        else:
            messages.success(
                request,
                _("已安排 %(name)s 复核 %(ref)s 的申诉。")
                % {"name": form.cleaned_data["reviewer"], "ref": appeal.decision.complaint.reference},
            )
            return redirect("review_supervision:appeals")
    return _render_appeals(request, {appeal.pk: form})


def _appeal_for_resolution(pk: int) -> Appeal:
    return get_object_or_404(
        Appeal.objects.select_related(
            "decision__complaint__listener",
            "decision__complaint__session",
            "decision__grade",
            "decision__evaluation__proposed_grade",
            "reviewer",
            "supervisor",
        ).defer(*_without_identity("decision__complaint__")),
        pk=pk,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appeal_resolve_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    appeal = _appeal_for_resolution(pk)
    if request.user.pk not in (appeal.reviewer_id, appeal.supervisor_id):
        raise PermissionDenied(_("只有负责复核的督导或专业组成员可以作出复核结论。"))
    decision = appeal.decision
    initial: dict[str, Any] = {"measures": decision.measures, "remedies": decision.remedies}
    form: AppealResolveForm | None = AppealResolveForm(request.POST or None, initial=initial)
    if appeal.state != AppealState.REVIEWING:
        if request.method == "POST":
            messages.info(request, _("这份申诉不在复核中。"))
            return redirect("review_supervision:appeals")
        form = None
    elif request.method == "POST" and form is not None and form.is_valid():
        try:
            appeal_resolve(appeal=appeal, actor=request.user, **form.service_arguments())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ComplaintConflict as exc:
            messages.error(request, str(exc))
            return redirect("review_supervision:appeals")
        else:
            messages.success(
                request,
                _("复核结论已记录：%(o)s。") % {"o": AppealState(form.cleaned_data["outcome"]).label},
            )
            return redirect("review_supervision:appeals")
    labels = page_labels()
    return render(
        request,
        "review/appeals_resolve.html",
        {
            "appeal": appeal,
            "decision": decision,
            "appellant": appellant_label(appeal),
            "measures": measure_labels(decision.measures, labels),
            "remedies": remedy_lines(decision, labels),
            "findings": findings(decision.evaluation, labels),
            "form": form,
        },
    )


# --- the archive download ---------------------------------------------------------------


@never_cache
@login_required
@require_GET
def archive_download(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    """The case record as one HTML file, for supervisors and the case's lead, once the case is closed."""
    complaint = get_object_or_404(
        Complaint.objects.select_related("session", "listener", "consent_text", "assigned_reviewer", "merged_into"),
        reference=reference,
    )
    user = request.user
    if not (is_supervisor(user) or (complaint.assigned_reviewer_id == user.pk and user.is_case_staff)):
        raise PermissionDenied(_("只有督导和本案主审可以导出归档材料。"))
    if complaint.state not in ARCHIVE_STATES:
        return HttpResponse(
            _("案件结案后才能导出归档材料（当前状态：%(s)s）。") % {"s": ComplaintState(complaint.state).label},
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    html = archive_render(complaint=complaint, actor=user)
    access_log_write(
        actor=user,
        obj=complaint,
        field="archive",
        action="export",
        reason=_("导出归档材料"),
        case_reference=complaint.reference,
        request=request,
    )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, archive_filename(complaint)) or "attachment"
    response["Content-Security-Policy"] = ARCHIVE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response
