"""Pages under /supervision/audits/: supervisors review the month's sampled sessions.

Only the session's metadata is shown (order number, date, duration, channel, rating): never who
the user was. Thin edges over supervision.audits.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.typing import AuthedHttpRequest

from . import audits
from .audit_forms import AuditForm, AuditOpenCaseForm
from .forms import add_service_errors
from .models import QualityAudit
from .services import SupervisionConflict
from .views import PAGE_SIZE, _require_supervisor


def _audit(request: AuthedHttpRequest, pk: int) -> QualityAudit:
    # Another supervisor's audit is not in this supervisor's list: a 404, like any unknown one.
    return get_object_or_404(audits.audits_for_reviewer(request.user), pk=pk)


@never_cache
@login_required
@require_GET
def audit_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    qs = audits.audits_for_reviewer(request.user).order_by(
        F("completed_at").asc(nulls_first=True), "-month", "listener__code", "pk"
    )
    show = request.GET.get("show", "open")
    if show != "all":
        qs = qs.filter(completed_at__isnull=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/audit_list.html", {"page": page, "show": show})


def _render_detail(request: AuthedHttpRequest, audit: QualityAudit, form=None, case_form=None) -> HttpResponse:
    return render(
        request,
        "supervision/audit_detail.html",
        {
            "audit": audit,
            "session": audit.session,
            "form": form or AuditForm(),
            "case_form": case_form or AuditOpenCaseForm(),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def audit_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    audit = _audit(request, pk)
    if request.method != "POST":
        return _render_detail(request, audit)
    form = AuditForm(request.POST)
    if form.is_valid():
        try:
            audits.audit_record(audit=audit, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except SupervisionConflict as exc:
            messages.error(request, str(exc))
            return redirect("supervision:audit_detail", pk=pk)
        else:
            messages.success(request, _("已记录抽检 %(ref)s。") % {"ref": audit.reference})
            return redirect("supervision:audit_detail", pk=pk)
    return _render_detail(request, audit, form=form)


@never_cache
@login_required
@require_POST
def audit_open_case(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    audit = _audit(request, pk)
    form = AuditOpenCaseForm(request.POST)
    if form.is_valid():
        try:
            case = audits.audit_open_ethics_case(audit=audit, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已立案 %(ref)s。") % {"ref": case.reference})
            return redirect("supervision:ethics_detail", pk=case.pk)
    return _render_detail(request, audit, case_form=form)
