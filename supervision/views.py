"""Pages under /supervision/: reports about listeners, confidentiality-break reports, ethics cases.

Thin edges over supervision.services. Confidentiality-break reports and reports are sensitive:
only supervisors see them, and every page that shows one writes an access-log row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from redis.exceptions import RedisError

from accounts.models import User
from accounts.policy import is_supervisor
from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from core import access
from core.audit import access_log_write
from evaluations.measures import tasks_of
from evaluations.models import Measure

from . import services
from .forms import (
    AnonymousReportForm,
    ConfidentialityReportForm,
    DecideForm,
    EvaluationForm,
    ListenerReportForm,
    NewEthicsCaseForm,
    NoteForm,
    OpenCaseForm,
    OutcomeForm,
    RevealForm,
    add_service_errors,
)
from .models import ConfidentialityBreakReport, EthicsCase, EthicsCaseState, EthicsSource, ListenerReport
from .selectors import ethics_case_sessions
from .services import SupervisionConflict

PAGE_SIZE = 25
logger = logging.getLogger(__name__)


def _require_supervisor(user: User) -> None:
    if not is_supervisor(user):
        raise PermissionDenied(_("只有督导可以使用这个页面。"))


def _page(request: HttpRequest, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- confidentiality-break reports ------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def confidentiality_new(request: AuthedHttpRequest) -> HttpResponse:
    if not request.user.has_role(Role.LISTENER):
        raise PermissionDenied(_("只有倾听师可以提交突破保密报告。"))
    form = ConfidentialityReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.confidentiality_report_file(reporter=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return render(request, "supervision/confidentiality_filed.html", {"report": report})
    return render(request, "supervision/confidentiality_new.html", {"form": form})


@never_cache
@login_required
@require_GET
def confidentiality_list(request: AuthedHttpRequest) -> HttpResponse:
    """Reference, category, state and times only: the account of what happened is on the detail page."""
    _require_supervisor(request.user)
    qs = ConfidentialityBreakReport.objects.select_related("listener").defer("what_happened", "outcome")
    return render(request, "supervision/confidentiality_list.html", {"page": _page(request, qs)})


def _render_break_detail(request: AuthedHttpRequest, report: ConfidentialityBreakReport, form=None) -> HttpResponse:
    access_log_write(
        actor=request.user,
        obj=report,
        field="what_happened",
        reason=_("查看突破保密报告"),
        case_reference=report.reference,
        action="view",
        request=request,
    )
    return render(
        request,
        "supervision/confidentiality_detail.html",
        {"report": report, "form": form or OutcomeForm()},
    )


def _break_report(user: User, pk: int) -> ConfidentialityBreakReport:
    return access.get_visible_or_404(
        user,
        ConfidentialityBreakReport.objects.select_related(
            "listener", "reporter", "acknowledged_by", "authority_notified_by", "outcome_recorded_by"
        ),
        pk=pk,
    )


@never_cache
@login_required
@require_GET
def confidentiality_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    return _render_break_detail(request, _break_report(request.user, pk))


@never_cache
@login_required
@require_POST
def confidentiality_acknowledge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    report = _break_report(request.user, pk)
    try:
        services.confidentiality_report_acknowledge(report=report, actor=request.user)
    except SupervisionConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已确认接手 %(ref)s。") % {"ref": report.reference})
    return redirect("supervision:confidentiality_detail", pk=pk)


@never_cache
@login_required
@require_POST
def confidentiality_outcome(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    report = _break_report(request.user, pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.confidentiality_report_record_outcome(report=report, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except SupervisionConflict as exc:
            messages.error(request, str(exc))
            return redirect("supervision:confidentiality_detail", pk=pk)
        else:
            messages.success(request, _("已记录 %(ref)s 的处理结果。") % {"ref": report.reference})
            return redirect("supervision:confidentiality_detail", pk=pk)
    return _render_break_detail(request, report, form)


# --- reports about listeners ------------------------------------------------------------------


# At most this many reports an hour from one signed-in user, or from one address for anonymous ones.
REPORT_LIMIT = 5
REPORT_LIMIT_WINDOW = 3600  # seconds, counted from the first report


def _report_limit_reached(request: HttpRequest, reporter: User | None) -> bool:
    """Count one more report from this person (or address) and say whether it is over the limit.

    The counter lives in the cache (Redis): ``add`` then ``incr`` is atomic, so parallel posts
    cannot slip past it. An anonymous reporter's address is kept only as a keyed hash. If the cache
    is unreachable the report is let through: a lost report costs more than a few extra ones.
    """
    if reporter is not None:
        who = f"user:{reporter.pk}"
    else:
        who = "ip:" + salted_hmac("supervision.report-limit", request.META.get("REMOTE_ADDR", "")).hexdigest()
    key = f"supervision:report-limit:{who}"
    try:
        cache.add(key, 0, timeout=REPORT_LIMIT_WINDOW)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=REPORT_LIMIT_WINDOW)
            count = 1
    except RedisError:
        logger.warning("report rate limit skipped: cache unavailable", exc_info=True)
        return False
    return count > REPORT_LIMIT


def _report_form_view(request: HttpRequest, form_class, reporter: User | None) -> HttpResponse:
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _report_limit_reached(request, reporter):
            form.add_error(
                None,
                _(
                    "一小时内最多可以提交 %(limit)s 份举报，您已达到上限，这份举报没有提交。"
                    "您填写的内容仍保留在下方，请过一段时间再提交。"
                )
                % {"limit": REPORT_LIMIT},
            )
            context = {"form": form, "anonymous": reporter is None}
            return render(request, "supervision/report_new.html", context, status=429)
        try:
            services.listener_report_submit(reporter=reporter, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return render(request, "supervision/report_thanks.html", {"anonymous": reporter is None})
    return render(request, "supervision/report_new.html", {"form": form, "anonymous": reporter is None})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: AuthedHttpRequest) -> HttpResponse:
    return _report_form_view(request, ListenerReportForm, request.user)


@never_cache
@require_http_methods(["GET", "POST"])
def report_anonymous(request: HttpRequest) -> HttpResponse:
    """No sign-in and no identity: whoever files it, the report is stored without a reporter."""
    return _report_form_view(request, AnonymousReportForm, None)


@never_cache
@login_required
@require_GET
def report_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    qs = ListenerReport.objects.select_related("listener").defer("contact", "content")
    return render(request, "supervision/report_list.html", {"page": _page(request, qs)})


def _report(user: User, pk: int) -> ListenerReport:
    return access.get_visible_or_404(
        user, ListenerReport.objects.select_related("listener", "reporter", "ethics_case"), pk=pk
    )


def _render_report(
    request: AuthedHttpRequest,
    report: ListenerReport,
    form=None,
    *,
    reveal_form: RevealForm | None = None,
    revealed: bool = False,
) -> HttpResponse:
    access_log_write(
        actor=request.user,
        obj=report,
        field="content",
        reason=_("查看倾听师举报"),
        case_reference=str(report),
        action="view",
        request=request,
    )
    context = {
        "report": report,
        "form": form or OpenCaseForm(),
        "reveal_form": reveal_form or RevealForm(),
        "revealed": revealed,
        "has_identity": not report.anonymous or bool(report.contact),
    }
    return render(request, "supervision/report_detail.html", context)


@never_cache
@login_required
@require_POST
def report_reveal(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The reporter's name or contact, shown once for a stated reason written to the access log:
    people who report a listener often fear being known."""
    _require_supervisor(request.user)
    report = _report(request.user, pk)
    if report.anonymous and not report.contact:
        raise Http404
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _render_report(request, report, reveal_form=form)
    access_log_write(
        actor=request.user,
        obj=report,
        field="contact" if report.anonymous else "reporter",
        reason=form.cleaned_data["reason"],
        case_reference=str(report),
        request=request,
    )
    return _render_report(request, report, revealed=True)


@never_cache
@login_required
@require_GET
def report_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    return _render_report(request, _report(request.user, pk))


@never_cache
@login_required
@require_POST
def report_open_case(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    report = _report(request.user, pk)
    form = OpenCaseForm(request.POST)
    if not form.is_valid():
        return _render_report(request, report, form)
    case = services.ethics_case_open_from_report(
        report=report, actor=request.user, summary=form.cleaned_data["summary"]
    )
    messages.success(request, _("已立案 %(ref)s。") % {"ref": case.reference})
    return redirect("supervision:ethics_detail", pk=case.pk)


# --- ethics cases -----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def ethics_new(request: AuthedHttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    form = NewEthicsCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            listener = services.listener_by_code(form.cleaned_data["listener_code"])
            case = services.ethics_case_open(
                listener=listener,
                source=form.cleaned_data["source"],
                summary=form.cleaned_data["summary"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已立案 %(ref)s。") % {"ref": case.reference})
            return redirect("supervision:ethics_detail", pk=case.pk)
    return render(request, "supervision/ethics_new.html", {"form": form})


@never_cache
@login_required
@require_GET
def ethics_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    qs = EthicsCase.objects.select_related("listener", "grade").defer("user")
    source = request.GET.get("source", "")
    if source in EthicsSource.values:
        qs = qs.filter(source=source)
    state = request.GET.get("state", "")
    if state in EthicsCaseState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "supervision/ethics_list.html",
        {
            "page": _page(request, qs),
            "sources": EthicsSource.choices,
            "states": EthicsCaseState.choices,
            "source": source,
            "state": state,
        },
    )


ETHICS_ACTIONS: dict[str, tuple[type[forms.Form], Callable[..., object]]] = {
    "start": (NoteForm, services.ethics_case_start_investigating),
    "evaluate": (EvaluationForm, services.ethics_case_record_evaluation),
    "decide": (DecideForm, services.ethics_case_decide),
    "close": (NoteForm, services.ethics_case_close),
    "note": (NoteForm, services.ethics_case_add_note),
}


def _ethics_case(user: User, pk: int) -> EthicsCase:
    return access.get_visible_or_404(
        user, EthicsCase.objects.select_related("listener", "grade", "anomaly_rule"), pk=pk
    )


def _render_case(
    request: AuthedHttpRequest,
    case: EthicsCase,
    bound: dict | None = None,
    *,
    reveal_form: RevealForm | None = None,
    revealed: User | None = None,
) -> HttpResponse:
    action_forms = {
        name: form_class(prefix=name, initial={"expected_version": case.version})
        for name, (form_class, _service) in ETHICS_ACTIONS.items()
    }
    action_forms.update(bound or {})
    events = case.events.select_related("actor")
    sessions, more_sessions = ethics_case_sessions(case)
    context = {
        "case": case,
        "events": events,
        "forms": action_forms,
        "reports": case.reports.all(),
        "measure_labels": [Measure(m).label for m in case.measures],
        "grade_defaults": [Measure(m).label for m in case.grade.measures] if case.grade else [],
        "tasks": tasks_of(case).order_by("due_at", "id"),
        "can_close": case.state == EthicsCaseState.OPENED
        or (case.state == EthicsCaseState.DECIDED and case.has_no_open_tasks()),
        "sessions": sessions,
        "more_sessions": more_sessions,
        "reveal_form": reveal_form or RevealForm(),
        "revealed": revealed,
    }
    return render(request, "supervision/ethics_detail.html", context)


@never_cache
@login_required
@require_GET
def ethics_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    return _render_case(request, _ethics_case(request.user, pk))


@never_cache
@login_required
@require_POST
def ethics_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    _require_supervisor(request.user)
    if action not in ETHICS_ACTIONS:
        raise PermissionDenied
    form_class, service = ETHICS_ACTIONS[action]
    case = _ethics_case(request.user, pk)
    form = form_class(request.POST, prefix=action)
    if form.is_valid():
        try:
            service(case=case, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except SupervisionConflict as exc:
            messages.error(request, str(exc))
            return redirect("supervision:ethics_detail", pk=pk)
        else:
            messages.success(request, _("已保存。"))
            return redirect("supervision:ethics_detail", pk=pk)
    return _render_case(request, case, {action: form})


@never_cache
@login_required
@require_POST
def ethics_reveal(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show the other party of the case once, for a stated reason written to the access log."""
    _require_supervisor(request.user)
    case = _ethics_case(request.user, pk)
    if case.user_id is None:
        raise Http404
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, reveal_form=form)
    access_log_write(
        actor=request.user,
        obj=case,
        field="user",
        reason=form.cleaned_data["reason"],
        case_reference=case.reference,
        request=request,
    )
    revealed = User.objects.get(pk=case.user_id)
    return _render_case(request, case, reveal_form=RevealForm(), revealed=revealed)
