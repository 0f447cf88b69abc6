"""Appeals against a decision: the open appeals, a supervisor assigning one, its resolution.

Thin edges over evaluations.services; the queries are evaluations.selectors'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.policy import is_supervisor
from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from complaints.services import ComplaintConflict

from .forms_supervision import AppealAssignForm, AppealResolveForm, add_service_errors
from .models import Appeal, AppealState, Party
from .selectors import active_reviewers, appeals_for_resolution, open_appeals_for
from .services import appeal_assign, appeal_resolve
from .views_approvals import findings, measure_labels, page_labels, remedy_lines, require_supervisor


def reviewer_choices() -> list[tuple[int, str]]:
    return [(u.pk, str(u)) for u in active_reviewers()]


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
    require_supervisor(request.user)
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


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appeal_resolve_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(appeals_for_resolution(), pk=pk)
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
