"""Ethics-case decisions about the signed-in listener (/portal/ethics/).

Only what the decision says to the listener: reference, date, grade, measures, the text to them
and their tasks. The case summary, the investigation and the other party stay with supervisors.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.typing import AuthedHttpRequest
from evaluations.models import ListenerTask, Measure, TaskState
from supervision.models import EthicsCase, EthicsCaseState

from . import selectors


@login_required
@require_GET
def ethics_decisions(request: AuthedHttpRequest) -> HttpResponse:
    listener = selectors.listener_profile_for(request.user)
    if listener is None:
        raise PermissionDenied
    cases = list(
        EthicsCase.objects.filter(
            listener=listener, state__in=[EthicsCaseState.DECIDED, EthicsCaseState.CLOSED], decided_at__isnull=False
        )
        .select_related("grade")
        .only("pk", "state", "grade__level", "grade__name", "measures", "text_to_listener", "decided_at", "listener")
        .order_by("-decided_at", "-pk")
    )
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
        }
        for case in cases
    ]
    return render(request, "portal/ethics_decisions.html", {"rows": rows})
