"""The listener's competency interviews in the portal (/portal/interviews/).

A thin edge over interviews.services: each POST validates its form and calls one service. A
service's ValidationError goes next to the field it names (the 48-hour case-report rule lands on
the slot choice), a refusal becomes a message, and an interview of another listener is a 404. The
band, feedback and plan appear only once the result has been sent; the total only when it was
shown with the result (``total_shown``, fixed when the result was sent). A plan item's proof file
is served only to its listener, through ``private_download``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.typing import AuthedHttpRequest
from core import access
from core.downloads import private_download
from core.errors import Conflict
from core.params import int_param
from core.service_errors import add_service_errors, service_error_message
from interviews.models import (
    OPEN_STATES,
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewSlot,
    InterviewState,
    MaterialKind,
    PlanItemState,
)
from interviews.selectors import delisting_interview
from interviews.services import (
    case_report_lead,
    interview_book,
    lead_hours,
    material_upload,
    plan_item_submit,
    reapplication_submit,
)
from listeners.models import ListenerProfile, ListenerStatus

from . import selectors
from .interview_forms import BookForm, MaterialForm, PlanSubmitForm

INTERVIEW_IN_PLAIN_WORDS = {
    InterviewState.REQUESTED: gettext_lazy("平台已为您安排胜任力考核面试，请选择一个面试时段。"),
    InterviewState.SCHEDULING: gettext_lazy("请选择一个面试时段。"),
    InterviewState.MATERIALS_DUE: gettext_lazy("您已预约面试时段，请在截止时间前上传被投诉个案的个案报告。"),
    InterviewState.SCHEDULED: gettext_lazy("面试已安排，请凭会议号按时参加。"),
    InterviewState.HELD: gettext_lazy("面试已进行，结果会在一周内通知您。"),
    InterviewState.SCORED: gettext_lazy("面试已进行，结果会在一周内通知您。"),
    InterviewState.RESULT_SENT: gettext_lazy("面试结果已通知，请查看下方的结果和改进计划。"),
    InterviewState.CANCELLED: gettext_lazy("这次面试已取消。"),
    InterviewState.NO_SHOW: gettext_lazy("您未按时参加这次面试，工作人员会与您联系。"),
}

BOOKABLE_STATES = [InterviewState.REQUESTED, InterviewState.SCHEDULING]
MEETING_STATES = [InterviewState.SCHEDULED, InterviewState.HELD, InterviewState.SCORED, InterviewState.RESULT_SENT]


def _listener(request: AuthedHttpRequest) -> ListenerProfile:
    profile = selectors.listener_profile_for(request.user)
    if profile is None:
        raise PermissionDenied
    return profile


def plain_state(interview: CompetencyInterview) -> str:
    return str(INTERVIEW_IN_PLAIN_WORDS.get(interview.state, interview.get_state_display()))


def interviews_for(listener: ListenerProfile):
    return (
        CompetencyInterview.objects.filter(listener=listener)
        .select_related("complaint__session", "slot")
        .order_by("-created_at", "-pk")
    )


def interview_get(user: User, listener: ListenerProfile, pk: int) -> CompetencyInterview:
    """One of this listener's interviews that the access policy lets ``user`` see; anyone else's is
    a 404, so its existence is not revealed. Only the listener's own: a listener who also sits on
    panels does not get another listener's interview here."""
    interviews = interviews_for(listener).prefetch_related(
        Prefetch("materials", queryset=InterviewMaterial.objects.order_by("uploaded_at", "id")),
        Prefetch("plan_items", queryset=InterviewPlanItem.objects.order_by("due_at", "id")),
    )
    return access.get_visible_or_404(user, interviews, pk=pk)


def plan_item_get(user: User, interview: CompetencyInterview, pk: int | None) -> InterviewPlanItem:
    """One item of this interview's plan that the access policy lets ``user`` see; a 404 otherwise."""
    return access.get_visible_or_404(user, InterviewPlanItem.objects.filter(interview=interview), pk=pk)


def _slot_of(interview: CompetencyInterview) -> InterviewSlot | None:
    try:
        return interview.slot
    except InterviewSlot.DoesNotExist:
        return None


def _reapplication(listener: ListenerProfile, rows: list) -> dict | None:
    """For a listener delisted by a failed interview: from when they may reapply, and whether the
    button shows (the date has come and no interview is open yet)."""
    failed = delisting_interview(listener)
    if failed is None or failed.eligible_to_reapply_at is None:
        return None
    eligible_at = failed.eligible_to_reapply_at
    has_open = any(i.state in OPEN_STATES for i, _e, _s in rows)
    return {"eligible_at": eligible_at, "can_apply": timezone.now() >= eligible_at and not has_open}


def _list_page(request: AuthedHttpRequest, listener: ListenerProfile, status: int = 200) -> HttpResponse:
    rows = [(i, plain_state(i), _slot_of(i)) for i in interviews_for(listener)]
    context = {"rows": rows, "reapplication": _reapplication(listener, rows)}
    return render(request, "portal/interview_list.html", context, status=status)


@login_required
@require_GET
def interview_list(request: AuthedHttpRequest) -> HttpResponse:
    return _list_page(request, _listener(request))


@login_required
@require_POST
def interview_reapply(request: AuthedHttpRequest) -> HttpResponse:
    """The "申请重新入驻" button: before the date it is refused (400, the date in the message)."""
    listener = _listener(request)
    try:
        interview = reapplication_submit(listener=listener, actor=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_message(exc))
        return _list_page(request, listener, status=400)
    messages.success(request, _("已提交重新入驻申请，平台会为您安排胜任力考核面试。"))
    return redirect("portal:interview", pk=interview.pk)


def _detail_context(
    interview, book_form: BookForm, material_form: MaterialForm, plan_forms: dict[int, PlanSubmitForm]
) -> dict:
    """What the interview page shows: its state in plain words, the slot, materials, result and plan."""
    slot = _slot_of(interview)
    lead = case_report_lead()
    materials = list(interview.materials.all())
    result_sent = interview.state == InterviewState.RESULT_SENT
    plan_items = list(interview.plan_items.all()) if result_sent else []
    return {
        "interview": interview,
        "state_explained": plain_state(interview),
        "slot": slot,
        "can_book": interview.state in BOOKABLE_STATES,
        "book_form": book_form,
        "has_open_slots": bool(getattr(book_form.fields["slot"], "queryset", None)),
        "can_upload": interview.state in OPEN_STATES,
        "material_form": material_form,
        "materials": materials,
        "has_case_report": any(m.kind == MaterialKind.CASE_REPORT for m in materials),
        "case_report_due": slot.starts_at - lead if slot else None,
        "lead_hours": lead_hours(lead),
        "show_meeting": interview.state in MEETING_STATES and bool(interview.meeting_number),
        "result_sent": result_sent,
        "show_total": result_sent and interview.total_shown,
        "interim_status": ListenerStatus(interview.interim_status).label if interview.interim_status else "",
        "plan_items": [
            (
                p,
                plan_forms.get(p.pk) or (PlanSubmitForm(prefix=f"p{p.pk}") if p.state == PlanItemState.OPEN else None),
            )
            for p in plan_items
        ],
        "now": timezone.now(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def interview_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    listener = _listener(request)
    interview = interview_get(request.user, listener, pk)
    book_form = BookForm(prefix="book")
    material_form = MaterialForm(prefix="material")
    plan_forms: dict[int, PlanSubmitForm] = {}

    if request.method == "POST":
        action = request.POST.get("action", "")
        done = ""
        try:
            if action == "book" and interview.state in BOOKABLE_STATES:
                book_form = BookForm(request.POST, prefix="book")
                if book_form.is_valid():
                    interview_book(interview=interview, slot=book_form.cleaned_data["slot"], actor=request.user)
                    done = _("已预约面试时段。")
            elif action == "upload" and interview.state in OPEN_STATES:
                material_form = MaterialForm(request.POST, request.FILES, prefix="material")
                if material_form.is_valid():
                    material_upload(
                        interview=interview,
                        kind=material_form.cleaned_data["kind"],
                        upload=material_form.cleaned_data["file"],
                        actor=request.user,
                    )
                    done = _("材料已上传。")
            elif action == "plan_submit" and interview.state == InterviewState.RESULT_SENT:
                item = plan_item_get(request.user, interview, int_param(request.POST.get("item")))
                if item.state == PlanItemState.VERIFIED:
                    raise Http404
                form = plan_forms[item.pk] = PlanSubmitForm(request.POST, request.FILES, prefix=f"p{item.pk}")
                if form.is_valid():
                    plan_item_submit(
                        item=item,
                        note=form.cleaned_data["note"],
                        upload=form.cleaned_data["evidence"],
                        actor=request.user,
                    )
                    done = _("已提交，工作人员核实后会通知您。")
            else:
                messages.error(request, _("这项操作现在不能进行，请刷新页面后再试。"))
                return redirect("portal:interview", pk=interview.pk)
        except ValidationError as exc:
            target = {"book": book_form, "upload": material_form}.get(action)
            if target is None:
                target = plan_forms.get(int_param(request.POST.get("item")) or 0)
            if target is not None:
                add_service_errors(target, exc)
            else:
                messages.error(request, service_error_message(exc))
        except Conflict as exc:
            # Interviews' refusals are ValidationErrors today; the conflict family is ready for them.
            messages.error(request, service_error_message(exc))
            return redirect("portal:interview", pk=interview.pk)
        if done:
            messages.success(request, done)
            return redirect("portal:interview", pk=interview.pk)

    context = _detail_context(interview, book_form, material_form, plan_forms)
    return render(request, "portal/interview_detail.html", context)


@login_required
@require_GET
def plan_item_evidence(request: AuthedHttpRequest, pk: int, item_pk: int) -> FileResponse:
    """The proof file of one of this listener's plan items; anyone else's is a 404."""
    listener = _listener(request)
    interview = interview_get(request.user, listener, pk)
    item = plan_item_get(request.user, interview, item_pk)
    if not item.evidence:
        raise Http404
    return private_download(item.evidence, filename=item.evidence_name or "evidence", content_type=item.evidence_type)
