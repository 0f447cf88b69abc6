"""Ethics-case decisions about the signed-in listener (/portal/ethics/).

Only what the decision says to the listener: reference, date, grade, measures, the text to them
and their tasks, and their own response. The case summary, the investigation and the other party
stay with supervisors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.typing import AuthedHttpRequest
from core import access
from core.params import int_param
from core.service_errors import add_service_errors, service_error_message
from evaluations.models import ListenerResponse, ListenerTask, Measure, TaskState
from supervision.models import EthicsCase, EthicsCaseState
from supervision.services import SupervisionConflict, ethics_case_listener_respond

from . import selectors
from .forms import ResponseForm


def _decided_cases(user, listener) -> list[EthicsCase]:
    """The listener's own decided cases, as the access policy lets this user see them."""
    decided = EthicsCase.objects.filter(
        listener=listener, state__in=[EthicsCaseState.DECIDED, EthicsCaseState.CLOSED], decided_at__isnull=False
    )
    return list(
        access.visible(user, decided)
        .select_related("grade")
        .only(
            "pk",
            "state",
            "grade__level",
            "grade__name",
            "measures",
            "text_to_listener",
            "decided_at",
            "listener",
            "listener_response",
            "listener_response_reason",
        )
        .order_by("-decided_at", "-pk")
    )


@login_required
@require_http_methods(["GET", "POST"])
def ethics_decisions(request: AuthedHttpRequest) -> HttpResponse:
    listener = selectors.listener_profile_for(request.user)
    if listener is None:
        raise PermissionDenied
    cases = _decided_cases(request.user, listener)
    bound: dict[int, ResponseForm] = {}
    if request.method == "POST":
        case = next((c for c in cases if c.pk == int_param(request.POST.get("case"))), None)
        if case is None:
            raise Http404
        form = bound[case.pk] = ResponseForm(request.POST, prefix=f"c{case.pk}")
        if form.is_valid():
            try:
                ethics_case_listener_respond(
                    case=case,
                    actor=request.user,
                    response=form.cleaned_data["response"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except SupervisionConflict as exc:
                messages.error(request, service_error_message(exc))
                return redirect("portal:ethics_decisions")
            else:
                messages.success(request, _("您的意见已记录，督导组会阅读。"))
                return redirect("portal:ethics_decisions")
    tasks = ListenerTask.objects.filter(
        listener=listener, case_reference__in=[c.reference for c in cases], decision__isnull=True
    ).exclude(state=TaskState.CANCELLED)
    by_reference: dict[str, list[ListenerTask]] = {}
    for task in tasks.order_by("due_at", "id"):
        by_reference.setdefault(task.case_reference, []).append(task)
    rows = [
        {
            "case": case,
            "measures": [Measure(m).label for m in case.measures],
            "tasks": by_reference.get(case.reference, []),
            "form": (bound.get(case.pk) or ResponseForm(prefix=f"c{case.pk}"))
            if case.listener_response == ListenerResponse.PENDING
            else None,
        }
        for case in cases
    ]
    return render(request, "portal/ethics_decisions.html", {"rows": rows})
