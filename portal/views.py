from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from complaints.models import Complaint, ComplaintState, Demand
from complaints.services import ComplaintConflict
from core.notifications import unread_count
from core.params import int_param
from core.service_errors import add_service_errors, service_error_message
from evaluations.models import Decision, DecisionState, ListenerStatement, Measure, TaskState
from evaluations.services import (
    LISTENER_APPEAL_DAYS,
    appeal_file,
    decision_record_listener_response,
    information_request_answer,
    statement_save,
    task_submit,
)
from interviews.models import InterviewState, PlanItemKind
from interviews.selectors import delisting_interview
from interviews.services import case_report_lead
from listeners.models import Channel, ListenerProfile, ListenerStatus, ListeningSession

from . import selectors
from .forms import AnswerForm, AppealForm, ResponseForm, StatementForm, TaskSubmitForm

RECENT_SESSIONS = 10


@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    """Each role's landing page: what they can do here, and where."""
    user = request.user
    context: dict = {"is_staff_role": user.is_case_staff}
    if user.has_role(Role.COMPLAINANT):
        context["my_sessions"] = list(
            ListeningSession.objects.filter(complainant=user)
            .select_related("listener")
            .order_by("-started_at")[:RECENT_SESSIONS]
        )
    if user.has_role(Role.LISTENER):
        context["listener_profile"] = ListenerProfile.objects.filter(user=user).first()
    return render(request, "portal/home.html", context)


# --- the listener portal (/portal/) ---------------------------------------------------------------
#
# A thin edge over evaluations.services: each POST validates its form and calls one service. A
# service's ValidationError goes next to the field it names, a conflict becomes a message, and a
# complaint or task the listener may not see is a 404. Nothing here loads or shows who complained.

STATE_IN_PLAIN_WORDS: dict[str, Promise] = {
    ComplaintState.SUBMITTED: gettext_lazy("平台已收到投诉，正在初步了解情况。"),
    ComplaintState.TRIAGE: gettext_lazy("平台正在初步了解情况。"),
    ComplaintState.RESOLVED: gettext_lazy("平台已直接处理，无需您再做什么。"),
    ComplaintState.REJECTED: gettext_lazy("平台决定不予受理。"),
    ComplaintState.INVESTIGATION: gettext_lazy("专业组正在了解情况，请写下您的陈述并回答专业组的问题。"),
    ComplaintState.EVALUATION: gettext_lazy("专业组正在评估，结果出来后会通知您。"),
    ComplaintState.DECIDED: gettext_lazy("专业组已作出处理决定。"),
    ComplaintState.FOLLOW_UP: gettext_lazy("处理决定已送达，请按期完成其中的任务。"),
    ComplaintState.CLOSED: gettext_lazy("已结案。"),
    ComplaintState.ARCHIVED: gettext_lazy("已结案并归档。"),
    ComplaintState.WITHDRAWN: gettext_lazy("投诉已撤回。"),
}

COMPLAINTS_PER_PAGE = 30
# Open items of each kind on the home, most urgent first; the rest are one click away.
HOME_ITEMS = 10

STATUS_IN_PLAIN_WORDS = {
    ListenerStatus.INTERNSHIP: gettext_lazy("您目前处于实习期。"),
    ListenerStatus.ACTIVE: gettext_lazy("您可以正常接单。"),
    ListenerStatus.HIDDEN: gettext_lazy("您的主页暂时隐藏，用户无法找到您。"),
    ListenerStatus.SUSPENDED: gettext_lazy("您暂时不能接单。"),
    ListenerStatus.DELISTED: gettext_lazy("您已被清退。"),
}


def _status_explained(listener: ListenerProfile) -> str:
    text = str(STATUS_IN_PLAIN_WORDS.get(ListenerStatus(listener.status), ""))
    if listener.status == ListenerStatus.DELISTED:
        failed = delisting_interview(listener)
        if failed is not None and failed.eligible_to_reapply_at:
            when = date_format(timezone.localtime(failed.eligible_to_reapply_at), "Y-m-d")
            text += _("%(date)s 起可以在“我的胜任力考核面试”中申请重新入驻。") % {"date": when}
    return text


def _listener(request: AuthedHttpRequest) -> ListenerProfile:
    """Only listeners with a profile use the portal; everyone else gets a 403."""
    profile = selectors.listener_profile_for(request.user)
    if profile is None:
        raise PermissionDenied
    return profile


def _plain_state(complaint: Complaint) -> str:
    return _explain_state(complaint.state)


def _explain_state(state: str) -> str:
    # Not get_state_display(): it translates every state's label on each call.
    explained = STATE_IN_PLAIN_WORDS.get(state)
    if explained is not None:
        return str(explained)
    return str(ComplaintState(state).label) if state in ComplaintState.values else state


@dataclass(frozen=True)
class InterviewStep:
    """An open interview on the home: what the listener does next, and by when."""

    pk: int
    order_no: str | None
    text: str
    due: datetime | None
    at_slot: bool = False  # ``due`` is the interview's own time, not a deadline before it


def _interview_step(row: dict, lead: timedelta) -> InterviewStep:
    pk, order_no, slot_at = row["id"], row["order_no"], row["slot_starts_at"]
    state = row["state"]
    # interview_book accepts a requested interview as well as one staff opened for scheduling.
    if state in (InterviewState.REQUESTED, InterviewState.SCHEDULING):
        return InterviewStep(pk, order_no, _("请预约一个面试时段"), None)
    if state == InterviewState.MATERIALS_DUE:
        due = slot_at - lead if slot_at else None
        return InterviewStep(
            pk,
            order_no,
            _("请上传个案报告（面试前 %(hours)d 小时截止）") % {"hours": int(lead.total_seconds() // 3600)},
            due,
        )
    return InterviewStep(pk, order_no, _("请按时参加面试"), slot_at, at_slot=True)


@login_required
@require_GET
def listener_home(request: AuthedHttpRequest) -> HttpResponse:
    """Status and why, then the most urgent open items of each kind (capped, with counts and a link
    to the full list), and unread notifications. The number of queries does not grow with rows."""
    listener = _listener(request)
    statements, n_statements = selectors.first_with_total(selectors.open_statements_for(listener), HOME_ITEMS)
    questions, n_questions = selectors.first_with_total(selectors.open_questions_for(listener), HOME_ITEMS)
    tasks, n_tasks = selectors.first_with_total(selectors.open_tasks_for(listener), HOME_ITEMS)
    interviews, n_interviews = selectors.first_with_total(selectors.open_interviews_for(listener), HOME_ITEMS)
    plan_items, n_plan_items = selectors.first_with_total(selectors.open_plan_items_for(listener), HOME_ITEMS)
    # The case report's lead time is a policy: read once, and only when a report is awaited.
    awaiting = any(i["state"] == InterviewState.MATERIALS_DUE for i in interviews)
    lead = case_report_lead() if awaiting else timedelta(0)
    unread = unread_count(request.user)
    kinds = {value: str(label) for value, label in Measure.choices}
    plan_kinds = {value: str(label) for value, label in PlanItemKind.choices}
    context = {
        "listener": listener,
        "status_explained": _status_explained(listener),
        "status_change": selectors.latest_status_change(listener),
        "statements": statements,
        "n_statements": n_statements,
        "questions": questions,
        "n_questions": n_questions,
        # Labels looked up once: get_kind_display() translates every choice on each call.
        "tasks": [(t, kinds.get(t["kind"], t["kind"])) for t in tasks],
        "n_tasks": n_tasks,
        "interviews": [_interview_step(i, lead) for i in interviews],
        "n_interviews": n_interviews,
        "plan_items": [(p, plan_kinds.get(p["kind"], p["kind"])) for p in plan_items],
        "n_plan_items": n_plan_items,
        "nothing_open": not (n_statements or n_questions or n_tasks or n_interviews or n_plan_items),
        "unread": unread,
        # The bell in base.html shows the same count: computed once.
        "notifications_unread": unread,
        "now": timezone.now(),
        "cap": HOME_ITEMS,
    }
    return render(request, "portal/listener_home.html", context)


@login_required
@require_GET
def complaint_list(request: AuthedHttpRequest) -> HttpResponse:
    """The complaints shared with the listener, 30 a page; ``?todo=1`` keeps those needing them."""
    listener = _listener(request)
    todo = request.GET.get("todo") == "1"
    complaints = selectors.shared_complaints_for(listener, needing_action=todo)
    page = Paginator(complaints, COMPLAINTS_PER_PAGE).get_page(request.GET.get("page"))
    channels = {value: str(label) for value, label in Channel.choices}
    rows = [(c, _explain_state(c["state"]), channels.get(c["channel"], c["channel"])) for c in page]
    return render(request, "portal/complaint_list.html", {"rows": rows, "page": page, "todo": todo})


def _notified_decision(complaint: Complaint) -> Decision | None:
    decision = getattr(complaint, "decision", None)
    if decision is not None and decision.state == DecisionState.NOTIFIED:
        return decision
    return None


@login_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    listener = _listener(request)
    complaint = selectors.shared_complaint_get(listener, pk)
    statement: ListenerStatement | None = getattr(complaint, "listener_statement", None)
    decision = _notified_decision(complaint)
    questions = selectors.questions_for(complaint)
    appeal = selectors.listener_appeal_for(decision) if decision else None

    statement_form = StatementForm(initial={"body": statement.body if statement else ""})
    answer_forms = {q.pk: AnswerForm(prefix=f"q{q.pk}") for q in questions if q.answered_at is None}
    response_form = ResponseForm()
    appeal_form = AppealForm()

    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("statement_draft", "statement_submit") and statement is not None:
                if complaint.state not in selectors.STATEMENT_STATES:
                    raise ComplaintConflict(_("案件已不在调查阶段，不能再修改陈述。"))
                statement_form = StatementForm(request.POST)
                if statement_form.is_valid():
                    submit = action == "statement_submit"
                    statement_save(
                        statement=statement, actor=request.user, body=statement_form.cleaned_data["body"], submit=submit
                    )
                    messages.success(request, _("陈述已提交，专业组会尽快阅读。") if submit else _("草稿已保存。"))
                    return redirect("portal:complaint", pk=complaint.pk)
            elif action == "answer":
                question = next((q for q in questions if str(q.pk) == request.POST.get("question")), None)
                if question is None or question.pk not in answer_forms:
                    raise Http404
                form = answer_forms[question.pk] = AnswerForm(request.POST, prefix=f"q{question.pk}")
                if form.is_valid():
                    information_request_answer(request=question, actor=request.user, answer=form.cleaned_data["answer"])
                    messages.success(request, _("回复已发送给专业组。"))
                    return redirect("portal:complaint", pk=complaint.pk)
            elif action == "respond" and decision is not None:
                response_form = ResponseForm(request.POST)
                if response_form.is_valid():
                    decision_record_listener_response(
                        decision=decision,
                        actor=request.user,
                        response=response_form.cleaned_data["response"],
                        reason=response_form.cleaned_data["reason"],
                    )
                    messages.success(request, _("您的意见已记录。"))
                    return redirect("portal:complaint", pk=complaint.pk)
            elif action == "appeal" and decision is not None:
                appeal_form = AppealForm(request.POST)
                if appeal_form.is_valid():
                    appeal_file(decision=decision, actor=request.user, reason=appeal_form.cleaned_data["reason"])
                    messages.success(request, _("申诉已提交，复核结果会通知您。"))
                    return redirect("portal:complaint", pk=complaint.pk)
            else:
                raise Http404
        except ValidationError as exc:
            target = {
                "statement_draft": statement_form,
                "statement_submit": statement_form,
                "respond": response_form,
                "appeal": appeal_form,
            }.get(action) or answer_forms.get(int_param(request.POST.get("question")) or 0)
            if target is not None:
                add_service_errors(target, exc, {"listener_response": "response", "listener_response_reason": "reason"})
            else:
                messages.error(request, service_error_message(exc))
        except ComplaintConflict as exc:
            messages.error(request, service_error_message(exc))
            return redirect("portal:complaint", pk=complaint.pk)

    appeal_due = (
        decision.notified_at + timedelta(days=LISTENER_APPEAL_DAYS) if decision and decision.notified_at else None
    )
    context = {
        "complaint": complaint,
        "state_explained": _plain_state(complaint),
        "demands": [Demand(d).label for d in complaint.demands if d in Demand.values],
        "statement": statement,
        "statement_form": statement_form,
        "statement_open": complaint.state in selectors.STATEMENT_STATES,
        "question_items": [(q, answer_forms.get(q.pk)) for q in questions],
        "decision": decision,
        "measures": [Measure(m).label for m in decision.measures if m in Measure.values] if decision else [],
        "response_form": response_form,
        "appeal": appeal,
        "appeal_form": appeal_form,
        "appeal_due": appeal_due,
        "can_appeal": bool(decision and appeal is None and appeal_due is not None and timezone.now() <= appeal_due),
    }
    return render(request, "portal/complaint_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def task_list(request: AuthedHttpRequest) -> HttpResponse:
    listener = _listener(request)
    bound: dict[int, TaskSubmitForm] = {}
    if request.method == "POST":
        task_pk = int_param(request.POST.get("task"))
        if task_pk is None:
            raise Http404
        task = selectors.task_get(request.user, listener, task_pk)
        form = bound[task.pk] = TaskSubmitForm(request.POST, request.FILES, prefix=f"t{task.pk}")
        if form.is_valid():
            try:
                task_submit(
                    task=task,
                    actor=request.user,
                    note=form.cleaned_data["evidence_note"],
                    upload=form.cleaned_data["evidence"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except ComplaintConflict as exc:
                messages.error(request, service_error_message(exc))
                return redirect("portal:tasks")
            else:
                messages.success(request, _("已提交，工作人员核实后会通知您。"))
                return redirect("portal:tasks")
    tasks = list(selectors.tasks_for(listener))
    items = [
        (t, (bound.get(t.pk) or TaskSubmitForm(prefix=f"t{t.pk}")) if t.state == TaskState.OPEN else None)
        for t in tasks
    ]
    plan_items = list(selectors.plan_items_for(listener))
    return render(request, "portal/tasks.html", {"items": items, "plan_items": plan_items, "now": timezone.now()})
