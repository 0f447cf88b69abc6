"""Review requests (复核申请): the complainant's form, and the staff list and decision page.

Thin edges over evaluations.services.review_requests; the reads are evaluations.selectors_outcome's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.policy import is_review_staff, is_supervisor
from accounts.typing import AuthedHttpRequest
from complaints.models import Complaint
from core import access
from core.errors import Conflict
from core.service_errors import add_service_errors, service_error_message

from .models import ReviewRequest, ReviewRequestState
from .selectors import active_reviewers
from .selectors_outcome import complaint_outcome, open_review_requests, outcome_deciders, review_request_for_page
from .services.review_requests import (
    REASONS_MAX,
    REASONS_MIN,
    review_request_assign,
    review_request_file,
    review_request_resolve,
)
from .views_approvals import findings, page_labels, remedy_lines


class ReviewRequestForm(forms.Form):
    reasons = forms.CharField(
        label=gettext_lazy("您希望复核的原因"),
        min_length=REASONS_MIN,
        max_length=REASONS_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("请说说您觉得结论哪里不对，或者有什么情况当时没有被考虑到。"),
        error_messages={
            "required": gettext_lazy("请写下您希望复核的原因。"),
            "min_length": gettext_lazy("请再多写几句（至少 %(limit_value)d 个字），让复核人了解您的想法。"),
            "max_length": gettext_lazy("理由请控制在 %(limit_value)d 字以内（现在是 %(show_value)d 字）。"),
        },
    )


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("复核结论"),
        choices=[(s.value, s.label) for s in (ReviewRequestState.UPHELD, ReviewRequestState.CHANGED)],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择复核结论。")},
    )
    outcome_note = forms.CharField(
        label=gettext_lazy("给投诉人的说明"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("会原样发给投诉人：请用平实、温和的话说明复核看了什么、为什么这样决定。"),
        error_messages={"required": gettext_lazy("请写明复核的理由，它会发给投诉人。")},
    )
    changes = forms.CharField(
        label=gettext_lazy("变更的内容"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("变更原结论时必填，例如：增加道歉、调整退款；督导会按此落实。"),
    )


# --- the complainant -------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def complainant_review_request(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    # Someone else's reference is a 404: its existence is not theirs to learn.
    complaint = get_object_or_404(Complaint, reference=reference, complainant=request.user)
    outcome = complaint_outcome(complaint, request.user)
    form = ReviewRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                review_request_file(complaint=complaint, actor=request.user, reasons=form.cleaned_data["reasons"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                messages.info(request, str(exc))
                return redirect("complaints:detail", reference=reference)
            else:
                messages.success(
                    request, _("您的复核申请已提交。我们会安排未参与原处理的工作人员复核，有结论后通知您。")
                )
                return redirect("complaints:detail", reference=reference)
        status = 400
    return render(
        request,
        "complaints/review_request.html",
        {"complaint": complaint, "outcome": outcome, "form": form},
        status=status,
    )


# --- staff -----------------------------------------------------------------------------------------


def _require_review_staff(user: User) -> None:
    if not is_review_staff(user):
        raise PermissionDenied(_("只有督导和专业组成员可以使用这个页面。"))


@dataclass
class RequestRow:
    request: ReviewRequest
    involved: bool
    may_open: bool


@never_cache
@login_required
@require_GET
def review_request_list(request: AuthedHttpRequest) -> HttpResponse:
    """Open requests with no content: what a request says is read only by whoever takes it."""
    user = request.user
    _require_review_staff(user)
    rows = [
        RequestRow(
            request=r,
            involved=user.pk in outcome_deciders(r.complaint),
            may_open=is_supervisor(user) or r.handler_id == user.pk,
        )
        for r in open_review_requests()
    ]
    context: dict[str, Any] = {"rows": rows, "is_supervisor": is_supervisor(user)}
    if is_supervisor(user):
        context["reviewers"] = list(active_reviewers())
    return render(request, "review/review_requests.html", context)


@never_cache
@login_required
@require_POST
def review_request_assign_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_review_staff(request.user)
    review_request = get_object_or_404(ReviewRequest.objects.select_related("complaint"), pk=pk)
    handler: User | None = None
    handler_pk = request.POST.get("handler", "")
    if handler_pk:
        if not handler_pk.isdigit():
            messages.error(request, _("请选择复核人。"))
            return redirect("review:review_requests")
        handler = get_object_or_404(User, pk=int(handler_pk))
    try:
        taken = review_request_assign(review_request=review_request, actor=request.user, handler=handler)
    except (ValidationError, PermissionDenied, Conflict) as exc:
        messages.error(request, service_error_message(exc))
        return redirect("review:review_requests")
    messages.success(
        request, _("%(name)s 负责复核 %(ref)s。") % {"name": taken.handler, "ref": taken.complaint.reference}
    )
    if taken.handler_id == request.user.pk:
        return redirect("review:review_request", pk=taken.pk)
    return redirect("review:review_requests")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review_request_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The handler reads the reasons beside the outcome and decides; supervisors may read it."""
    _require_review_staff(request.user)
    review_request = access.get_visible_or_404(request.user, review_request_for_page(), pk=pk)
    may_resolve = review_request.state == ReviewRequestState.REVIEWING and request.user.pk == review_request.handler_id
    form = ResolveForm(request.POST or None) if may_resolve else None
    status = 200
    if request.method == "POST":
        if form is None:
            messages.info(request, _("这份复核申请不在您的复核中。"))
            return redirect("review:review_requests")
        if form.is_valid():
            try:
                data = form.cleaned_data
                review_request_resolve(
                    review_request=review_request,
                    actor=request.user,
                    outcome=data["outcome"],
                    note=data["outcome_note"],
                    changes=data["changes"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except (PermissionDenied, Conflict) as exc:
                messages.error(request, service_error_message(exc))
                return redirect("review:review_requests")
            else:
                messages.success(request, _("复核结论已记录，并已告知投诉人。"))
                return redirect("review:review_requests")
        status = 400
    decision = review_request.decision
    labels = page_labels()
    return render(
        request,
        "review/review_request.html",
        {
            "rr": review_request,
            "complaint": review_request.complaint,
            "decision": decision,
            "remedies": remedy_lines(decision, labels) if decision else [],
            "findings": findings(decision.evaluation, labels) if decision else [],
            "form": form,
        },
        status=status,
    )
