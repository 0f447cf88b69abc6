"""The professional group's workspace (/review/): a thin edge over evaluations.services.

Each POST validates its form and calls one service. A service's ValidationError goes next to the
fields it names, a conflict (the case moved on, or someone else changed it) becomes a message on
the page, and PermissionDenied is a 403. Identity is shown masked only; the clear value is one
logged reveal away, in the admin, for those allowed to see it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.policy import is_supervisor
from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from complaints.models import Complaint, ComplaintState, Demand
from complaints.selectors import attachments_for, can_view_attachment, timeline_for
from complaints.services import (
    CONFLICT_MESSAGE,
    REVEALABLE_FIELDS,
    ComplaintConflict,
    can_reveal_identity,
    complaint_begin_evaluation,
)
from core import access
from core.downloads import private_download

from .forms import (
    AddReviewerForm,
    ConflictForm,
    ContactRecordForm,
    DecisionForm,
    EvaluationForm,
    InformationRequestForm,
    ListenerResponseForm,
    ReconcileForm,
    TaskReviewForm,
    add_service_errors,
)
from .history import decision_screen
from .models import (
    ContactRecord,
    Decision,
    DecisionState,
    Evaluation,
    Grade,
    ListenerStatement,
    ListenerTask,
    Measure,
    Outcome,
    Remedy,
)
from .selectors import (
    INVESTIGATING,
    contact_records_for,
    information_requests_for,
    is_review_staff,
    queue_rows,
    review_case_queryset,
    review_queue_for,
    reviewer_assignments_for,
    submitted_reviewer_ids,
    tasks_to_verify_for,
)
from .services import (
    contact_record_add,
    decision_draft,
    decision_notify,
    decision_record_listener_response,
    decision_submit,
    evaluation_reconcile,
    evaluation_save,
    evaluations_visible_to,
    information_request_create,
    is_lead,
    reviewer_assign,
    reviewer_step_aside,
    reviewers_of,
    statement_request,
    task_review,
)

IDENTITY_LABELS = {
    "real_name": gettext_lazy("真实姓名"),
    "id_number": gettext_lazy("身份证号"),
    "phone": gettext_lazy("手机号"),
}
CONFLICTS = (ComplaintConflict, ConcurrentTransition, TransitionNotAllowed)


class ServiceCall:
    """Run one service call: ValidationError onto the form (or as messages), a conflict as a message.

    PermissionDenied is not caught: it becomes the 403 page.
    """

    def __init__(self, request: AuthedHttpRequest, form=None, field_map: dict[str, str] | None = None) -> None:
        self.request, self.form, self.field_map, self.ok = request, form, field_map, False

    def __enter__(self) -> ServiceCall:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            self.ok = True
            return False
        if isinstance(exc, ValidationError):
            if self.form is not None:
                add_service_errors(self.form, exc, self.field_map)
            else:
                for message in exc.messages:
                    messages.error(self.request, message)
            return True
        if isinstance(exc, ComplaintConflict):
            messages.error(self.request, str(exc))
            return True
        if isinstance(exc, CONFLICTS):
            messages.error(self.request, str(CONFLICT_MESSAGE))
            return True
        return False


# --- who may open what ------------------------------------------------------------------------------


def _require_review_staff(request: AuthedHttpRequest) -> None:
    if not is_review_staff(request.user):
        raise PermissionDenied(_("只有专业组成员和督导可以使用评估工作台。"))


def _case(request: AuthedHttpRequest, reference: str) -> Complaint:
    """The case, for its reviewers and for supervisors. Others get a 404: not theirs to know of."""
    _require_review_staff(request)
    return access.get_visible_or_404(request.user, review_case_queryset(), reference=reference)


def _is_supervisor(request: AuthedHttpRequest) -> bool:
    return is_supervisor(request.user)


def _may_lead(request: AuthedHttpRequest, complaint: Complaint) -> bool:
    return is_lead(request.user, complaint) or _is_supervisor(request)


# --- the queue ---------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET"])
def queue(request: AuthedHttpRequest) -> HttpResponse:
    _require_review_staff(request)
    everyone = _is_supervisor(request) and request.GET.get("scope") == "all"
    rows = queue_rows(request.user, review_queue_for(request.user, everyone=everyone))
    return render(
        request,
        "review/queue.html",
        {"rows": rows, "everyone": everyone, "is_supervisor": _is_supervisor(request)},
    )


# --- the case ----------------------------------------------------------------------------------------


def _reveal_links(request: AuthedHttpRequest, complaint: Complaint) -> list[dict[str, Any]]:
    may_reveal = can_reveal_identity(request.user, complaint)
    return [
        {
            "label": IDENTITY_LABELS[field],
            "masked": getattr(complaint, f"masked_{field}"),
            "reveal_url": reverse("admin:complaints_complaint_reveal", args=[complaint.pk, field])
            if may_reveal
            else "",
        }
        for field in REVEALABLE_FIELDS
    ]


def _case_context(request: AuthedHttpRequest, complaint: Complaint) -> dict[str, Any]:
    """What every case page shows at the top."""
    return {
        "complaint": complaint,
        "is_lead": is_lead(request.user, complaint),
        "is_supervisor": _is_supervisor(request),
    }


def _render_case(request: AuthedHttpRequest, complaint: Complaint, **forms: Any) -> HttpResponse:
    user = request.user
    reviewer_ids = reviewers_of(complaint)
    on_case = user.pk in reviewer_ids
    investigating = complaint.state in INVESTIGATING
    may_lead = _may_lead(request, complaint)
    assignments = list(reviewer_assignments_for(complaint))
    submitted = submitted_reviewer_ids(complaint)
    team: list[dict[str, Any]] = []
    if complaint.assigned_reviewer is not None:
        team.append({"user": complaint.assigned_reviewer, "lead": True})
    team += [
        {"user": a.reviewer, "lead": False} for a in assignments if a.reviewer_id != complaint.assigned_reviewer_id
    ]
    for member in team:
        member["submitted"] = member["user"].pk in submitted
    attachments = [(a, can_view_attachment(user, a)) for a in attachments_for(complaint)]
    statement = ListenerStatement.objects.filter(complaint=complaint).first()
    context = {
        **_case_context(request, complaint),
        "identity": _reveal_links(request, complaint),
        "demands": [Demand(d).label for d in complaint.demands if d in Demand.values],
        "attachments": attachments,
        "timeline": timeline_for(complaint, complainant_view=False),
        "statement": statement,
        "contact_records": contact_records_for(complaint),
        "information_requests": information_requests_for(complaint),
        "team": team,
        "decision": Decision.objects.filter(complaint=complaint).select_related("grade").first(),
        "investigating": investigating,
        "may_investigate": investigating and (on_case or _is_supervisor(request)),
        "may_begin_evaluation": complaint.state == ComplaintState.INVESTIGATION
        and may_lead
        and user.has_perm("complaints.evaluate_complaint"),
        "may_add_reviewer": investigating and may_lead,
        "may_declare_conflict": on_case and complaint.is_open,
        "contact_form": forms.get("contact_form") or ContactRecordForm(initial={"party": "complainant"}),
        "information_form": forms.get("information_form") or InformationRequestForm(),
        "reviewer_form": forms.get("reviewer_form") or AddReviewerForm(exclude=reviewer_ids),
        "conflict_form": forms.get("conflict_form") or ConflictForm(),
    }
    return render(request, "review/case.html", context)


@never_cache
@login_required
@require_http_methods(["GET"])
def case_detail(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    return _render_case(request, _case(request, reference))


@never_cache
@login_required
@require_POST
def begin_evaluation(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    if not _may_lead(request, complaint):
        raise PermissionDenied(_("只有本案主审或督导可以结束调查。"))
    version = request.POST.get("version", "")
    with ServiceCall(request) as call:
        complaint_begin_evaluation(
            complaint=complaint,
            actor=request.user,
            expected_version=int(version) if version.isdigit() else None,
        )
    if call.ok:
        messages.success(request, _("调查已完成，案件进入专业评估。"))
        return redirect("review:evaluation", reference=reference)
    return redirect("review:case", reference=reference)


@never_cache
@login_required
@require_POST
def statement_request_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    with ServiceCall(request) as call:
        statement_request(
            complaint=complaint,
            actor=request.user,
            shared_content=request.POST.get("shared_content"),
            shared_demands_other=request.POST.get("shared_demands_other"),
        )
    if call.ok:
        messages.success(request, _("已请倾听师提交陈述。"))
    return redirect("review:case", reference=reference)


@never_cache
@login_required
@require_POST
def contact_add(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    form = ContactRecordForm(request.POST, request.FILES)
    if form.is_valid():
        with ServiceCall(request, form) as call:
            contact_record_add(complaint=complaint, actor=request.user, **form.record())
        if call.ok:
            messages.success(request, _("沟通记录已保存。"))
            return redirect(reverse("review:case", args=[reference]) + "#contacts")
    return _render_case(request, complaint, contact_form=form)


@never_cache
@login_required
@require_POST
def information_request_add(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    form = InformationRequestForm(request.POST)
    if form.is_valid():
        with ServiceCall(request, form) as call:
            information_request_create(
                complaint=complaint,
                actor=request.user,
                party=form.cleaned_data["party"],
                question=form.cleaned_data["question"],
            )
        if call.ok:
            messages.success(request, _("补充信息请求已发出。"))
            return redirect(reverse("review:case", args=[reference]) + "#information-requests")
    return _render_case(request, complaint, information_form=form)


@never_cache
@login_required
@require_POST
def reviewer_add(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    form = AddReviewerForm(request.POST, exclude=reviewers_of(complaint))
    if form.is_valid():
        reviewer = form.cleaned_data["reviewer"]
        with ServiceCall(request, form) as call:
            reviewer_assign(complaint=complaint, reviewer=reviewer, actor=request.user)
        if call.ok:
            messages.success(request, _("已增加评估人：%(name)s") % {"name": reviewer.get_short_name()})
            return redirect(reverse("review:case", args=[reference]) + "#team")
    return _render_case(request, complaint, reviewer_form=form)


@never_cache
@login_required
@require_POST
def conflict_declare_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    if request.user.pk not in reviewers_of(complaint):
        raise PermissionDenied(_("只有本案的评估人可以声明利益冲突。"))
    form = ConflictForm(request.POST)
    if form.is_valid():
        with ServiceCall(request, form) as call:
            reviewer_step_aside(complaint=complaint, reviewer=request.user, reason=form.cleaned_data["reason"])
        if call.ok:
            messages.success(request, _("已记录您的利益冲突声明。督导会另行安排评估人。"))
            return redirect("review:queue")
    return _render_case(request, complaint, conflict_form=form)


# --- scoring ------------------------------------------------------------------------------------------

FINDINGS = [
    ("finding_competence_gap", gettext_lazy("专业胜任力不足")),
    ("finding_subjective_harm", gettext_lazy("造成用户主观伤害")),
    ("finding_inducing_orders", gettext_lazy("诱导下单")),
    ("finding_illegality", gettext_lazy("涉嫌违法")),
]
SCORE_ROWS = [
    ("facts", gettext_lazy("投诉是否属实")),
    ("facts_rationale", gettext_lazy("事实判断的理由")),
    ("evidence_cited", gettext_lazy("引用的证据")),
    ("demand", gettext_lazy("诉求是否合理")),
    ("demand_rationale", gettext_lazy("诉求判断的理由")),
    ("findings", gettext_lazy("查实的情形")),
    ("competence_rationale", gettext_lazy("胜任力与伦理判断的理由")),
    ("awareness", gettext_lazy("倾诉中的觉察")),
    ("reflection", gettext_lazy("处理过程中的反思")),
    ("awareness_rationale", gettext_lazy("觉察与反思评估的理由")),
    ("outcome", gettext_lazy("结论")),
    ("proposed_grade", gettext_lazy("建议等级")),
    ("outcome_rationale", gettext_lazy("结论理由")),
]


def _score_value(evaluation: Evaluation, name: str) -> str:
    if name == "findings":
        found = [str(label) for field, label in FINDINGS if getattr(evaluation, field)]
        return "、".join(found) or _("无")
    if name in ("facts", "demand", "awareness", "reflection", "outcome"):
        return str(getattr(evaluation, f"get_{name}_display")() or "") if getattr(evaluation, name) else ""
    if name == "proposed_grade":
        grade = evaluation.proposed_grade
        return f"{grade.level} · {grade.name}" if grade else ""
    return getattr(evaluation, name)


def _scored(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "evaluation": evaluation,
        "rows": [(label, _score_value(evaluation, name)) for name, label in SCORE_ROWS],
    }


def _guidance_grades() -> list[Grade]:
    return list(Grade.objects.filter(active=True).order_by("level"))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def evaluation_page(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    user = request.user
    on_case = user.pk in reviewers_of(complaint)
    visible = evaluations_visible_to(user, complaint)
    own = next((e for e in visible if e.reviewer_id == user.pk and not e.is_final), None)
    editable = on_case and complaint.state == ComplaintState.EVALUATION and not (own and own.submitted)
    form = None
    if editable:
        form = EvaluationForm(request.POST or None, initial=EvaluationForm.initial_from(own))
    if request.method == "POST":
        if not on_case:
            raise PermissionDenied(_("您不是本案的评估人。"))
        if form is None:
            messages.error(request, _("您的评估已提交或案件不在评估阶段，不能再修改。"))
            return redirect("review:evaluation", reference=reference)
        submit = request.POST.get("action") == "submit"
        if form.is_valid():
            with ServiceCall(request, form) as call:
                evaluation_save(complaint=complaint, reviewer=user, data=form.scores(), submit=submit)
            if call.ok:
                messages.success(request, _("评估已提交。") if submit else _("草稿已保存。"))
                return redirect("review:evaluation", reference=reference)
        if submit:
            messages.error(request, _("评估还不能提交，请查看标红的地方。您填写的内容都还在，草稿未保存。"))
    others = [_scored(e) for e in visible if e is not own]
    return render(
        request,
        "review/evaluation.html",
        {
            **_case_context(request, complaint),
            "form": form,
            "own": _scored(own) if own and own.submitted else None,
            "others": others,
            "on_case": on_case,
            "grades": _guidance_grades(),
            "demands": [Demand(d).label for d in complaint.demands if d in Demand.values],
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def final_page(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    user = request.user
    lead = is_lead(user, complaint)
    visible = evaluations_visible_to(user, complaint)
    individual = [e for e in visible if not e.is_final]
    final = next((e for e in visible if e.is_final), None)
    submitted = submitted_reviewer_ids(complaint)
    pending = list(get_user_model().objects.filter(pk__in=reviewers_of(complaint) - submitted).order_by("display_name"))
    may_reconcile = lead and complaint.state == ComplaintState.EVALUATION and final is None
    form = None
    if may_reconcile:
        own = next((e for e in individual if e.reviewer_id == user.pk and e.submitted), None)
        form = ReconcileForm(request.POST or None, initial=EvaluationForm.initial_from(own))
    if request.method == "POST":
        if not lead:
            raise PermissionDenied(_("只有本案主审可以形成最终评估。"))
        if form is None:
            messages.error(request, _("最终评估已经形成，或案件不在评估阶段。"))
            return redirect("review:final", reference=reference)
        if form.is_valid():
            with ServiceCall(request, form) as call:
                evaluation_reconcile(
                    complaint=complaint,
                    lead=user,
                    data=form.scores(),
                    disagreements=form.cleaned_data["disagreements"],
                )
            if call.ok:
                messages.success(request, _("最终评估已形成。请起草处理决定。"))
                return redirect("review:decision", reference=reference)
    scored = [_scored(e) for e in individual if e.submitted]
    comparison = [(label, [entry["rows"][i][1] for entry in scored]) for i, (_name, label) in enumerate(SCORE_ROWS)]
    return render(
        request,
        "review/final.html",
        {
            **_case_context(request, complaint),
            "form": form,
            "final": _scored(final) if final else None,
            "scored": scored,
            "comparison": comparison,
            "pending": pending,
            "grades": _guidance_grades(),
        },
    )


# --- the decision --------------------------------------------------------------------------------------


def _chosen_grade(request: AuthedHttpRequest, grades: list[Grade], decision, final) -> Grade | None:
    by_id = {str(g.pk): g for g in grades}
    asked = request.GET.get("grade")
    if asked in by_id:
        return by_id[asked]
    if decision is not None:
        return decision.grade
    if final is not None:
        if final.proposed_grade is not None:
            return final.proposed_grade
        if final.outcome == Outcome.A:
            return next((g for g in grades if g.level == 0), None)
    return None


def _decision_initial(decision: Decision | None, grade: Grade | None) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    if decision is not None:
        initial = {
            "refund_amount": decision.refund_amount,
            "compensation_amount": decision.compensation_amount,
            "adjustment_reason": decision.adjustment_reason,
            "text_to_complainant": decision.text_to_complainant,
            "text_to_listener": decision.text_to_listener,
        }
    if grade is not None:
        initial["grade"] = grade.pk
        source = decision if decision is not None and decision.grade_id == grade.pk else grade
        initial["measures"] = list(source.measures)
        initial["remedies"] = list(source.remedies)
    return initial


def _render_decision(
    request: AuthedHttpRequest,
    complaint: Complaint,
    form: DecisionForm | None = None,
    response_form: ListenerResponseForm | None = None,
) -> HttpResponse:
    user = request.user
    may_lead = _may_lead(request, complaint)
    final = (
        Evaluation.objects.filter(complaint=complaint, is_final=True, submitted_at__isnull=False)
        .select_related("proposed_grade", "reviewer")
        .first()
    )
    decision = Decision.objects.filter(complaint=complaint).select_related("grade", "decided_by", "approved_by").first()
    grades = _guidance_grades()
    editable = (
        may_lead
        and complaint.state == ComplaintState.EVALUATION
        and final is not None
        and (decision is None or decision.state == DecisionState.DRAFT)
    )
    grade = _chosen_grade(request, grades, decision, final)
    if form is not None and form.is_bound and not editable:
        # The form is not shown any more (the case moved on): say why on the page instead.
        for error in form.non_field_errors():
            messages.error(request, str(error))
    if form is not None and form.is_bound:
        # Keep the grade that was posted, even when the service refused it.
        grade = next((g for g in grades if str(g.pk) == form.data.get("grade")), grade)
    elif editable:
        form = DecisionForm(initial=_decision_initial(decision, grade))
    on_case = user.pk in reviewers_of(complaint)
    may_record_response = (
        on_case and decision is not None and decision.state in (DecisionState.APPROVED, DecisionState.NOTIFIED)
    )
    if may_record_response and response_form is None:
        response_form = ListenerResponseForm(
            initial={"response": decision.listener_response, "reason": decision.listener_response_reason}
        )
    return render(
        request,
        "review/decision.html",
        {
            **_case_context(request, complaint),
            "final": _scored(final) if final else None,
            "final_evaluation": final,
            "decision": decision,
            **decision_screen(complaint, decision=decision, form=form if editable else None),
            "grades": grades,
            "grade": grade,
            "grade_measures": [Measure(m).label for m in grade.measures] if grade else [],
            "grade_remedies": [Remedy(r).label for r in grade.remedies] if grade else [],
            "form": form if editable else None,
            "editable": editable,
            "may_submit": may_lead and decision is not None and decision.state == DecisionState.DRAFT,
            "may_notify": may_lead and decision is not None and decision.state == DecisionState.APPROVED,
            "response_form": response_form if may_record_response else None,
            "order_amount": complaint.session.amount,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def decision_page(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    if request.method == "GET":
        return _render_decision(request, complaint)
    if not _may_lead(request, complaint):
        raise PermissionDenied(_("只有本案主审或督导可以起草处理决定。"))
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with ServiceCall(request, form) as call:
            decision_draft(
                complaint=complaint,
                actor=request.user,
                grade=data["grade"],
                measures=data["measures"],
                remedies=data["remedies"],
                refund_amount=data["refund_amount"],
                compensation_amount=data["compensation_amount"],
                adjustment_reason=data["adjustment_reason"],
                text_to_complainant=data["text_to_complainant"],
                text_to_listener=data["text_to_listener"],
            )
        if call.ok:
            messages.success(request, _("处理决定草稿已保存。确认无误后请提交。"))
            return redirect("review:decision", reference=reference)
    return _render_decision(request, complaint, form=form)


def _decision_of(complaint: Complaint) -> Decision:
    decision = Decision.objects.filter(complaint=complaint).first()
    if decision is None:
        raise Http404
    return decision


@never_cache
@login_required
@require_POST
def decision_submit_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    decision = _decision_of(complaint)
    with ServiceCall(request) as call:
        submitted = decision_submit(decision=decision, actor=request.user)
    if call.ok:
        if submitted.state == DecisionState.PENDING_APPROVAL:
            messages.success(request, _("处理决定已提交督导批准。"))
        else:
            messages.success(request, _("处理决定已确认，可以送达双方。"))
    return redirect("review:decision", reference=reference)


@never_cache
@login_required
@require_POST
def decision_notify_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    decision = _decision_of(complaint)
    with ServiceCall(request) as call:
        decision_notify(decision=decision, actor=request.user)
    if call.ok:
        messages.success(request, _("处理决定已送达投诉人和倾听师。"))
    return redirect("review:decision", reference=reference)


@never_cache
@login_required
@require_POST
def listener_response_view(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    decision = _decision_of(complaint)
    form = ListenerResponseForm(request.POST)
    if form.is_valid():
        with ServiceCall(request, form, {"listener_response_reason": "reason"}) as call:
            decision_record_listener_response(
                decision=decision,
                actor=request.user,
                response=form.cleaned_data["response"],
                reason=form.cleaned_data["reason"],
            )
        if call.ok:
            messages.success(request, _("已记录倾听师的意见。"))
            return redirect("review:decision", reference=reference)
    return _render_decision(request, complaint, response_form=form)


# --- listener tasks ------------------------------------------------------------------------------------


def _render_tasks(request: AuthedHttpRequest, failed: tuple[int, TaskReviewForm] | None = None) -> HttpResponse:
    tasks = list(tasks_to_verify_for(request.user))
    rows = []
    for task in tasks:
        form = failed[1] if failed and failed[0] == task.pk else TaskReviewForm(prefix=f"task-{task.pk}")
        rows.append({"task": task, "form": form})
    return render(request, "review/tasks.html", {"rows": rows})


@never_cache
@login_required
@require_http_methods(["GET"])
def tasks(request: AuthedHttpRequest) -> HttpResponse:
    _require_review_staff(request)
    return _render_tasks(request)


def _task_for_staff(request: AuthedHttpRequest, pk: int) -> ListenerTask:
    _require_review_staff(request)
    task = get_object_or_404(ListenerTask.objects.select_related("decision__complaint", "listener"), pk=pk)
    if not (_is_supervisor(request) or (task.decision and request.user.pk in reviewers_of(task.decision.complaint))):
        raise Http404
    return task


@never_cache
@login_required
@require_POST
def task_review_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = _task_for_staff(request, pk)
    form = TaskReviewForm(request.POST, prefix=f"task-{task.pk}")
    accepted = request.POST.get("verdict") == "verify"
    if form.is_valid():
        with ServiceCall(request, form) as call:
            task_review(task=task, actor=request.user, accepted=accepted, note=form.cleaned_data["review_note"])
        if call.ok:
            if accepted:
                messages.success(request, _("任务已核实。"))
            else:
                messages.success(request, _("任务已退回倾听师补充。"))
            return redirect("review:tasks")
    return _render_tasks(request, failed=(task.pk, form))


@never_cache
@login_required
@require_http_methods(["GET"])
def contact_file(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """A contact record's attachment: the case's reviewers and supervisors only."""
    record = ContactRecord.objects.select_related("complaint").filter(pk=pk).first()
    user = request.user
    if record is None or not record.file:
        raise Http404
    if not (is_supervisor(user) or (user.has_role(Role.REVIEWER) and user.pk in reviewers_of(record.complaint))):
        raise Http404
    return private_download(record.file, filename=record.file_name or "attachment", content_type=record.file_type)


@never_cache
@login_required
def task_evidence(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """The task's evidence file, for the listener who did the task, the case's reviewers and supervisors."""
    task = ListenerTask.objects.select_related("listener", "decision__complaint").filter(pk=pk).first()
    if task is None or not task.evidence:
        raise Http404
    if not access.can_view(request.user, task):
        raise Http404
    return private_download(task.evidence, filename=task.evidence_name or "evidence", content_type=task.evidence_type)
