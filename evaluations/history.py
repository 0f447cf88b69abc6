"""What the decision page shows beside the form, in a fixed number of queries.

The complainant's demands set against the remedies and measures being chosen (which are met, which
only in part, which not), and the listener's history: earlier complaints and their grades, active
holds, open tasks and interviews. Nothing here reads the complainant's identity; earlier
complaints are shown by reference, category, state and grade only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import Category, Complaint, ComplaintState, Demand
from interviews.models import Band, CompetencyInterview, InterviewState
from listeners.models import HoldEnd, ListenerHold, ListenerStatus

from .models import Decision, DecisionState, ListenerTask, Measure, Remedy, TaskState

# Rows listed per part of the history; more are counted as "not listed".
HISTORY_SHOWN = 20

MET, PARTLY, NOT_MET, TO_JUDGE = "met", "partly", "not_met", "to_judge"
DEMAND_STATUS_LABELS = {
    MET: gettext_lazy("已回应"),
    PARTLY: gettext_lazy("部分回应"),
    NOT_MET: gettext_lazy("未回应"),
    TO_JUDGE: gettext_lazy("须人工判断"),
}
# The remedies that answer a demand in full, and those that answer it in part.
DEMAND_REMEDIES: dict[str, tuple[list[str], list[str]]] = {
    Demand.REFUND: ([Remedy.FULL_REFUND], [Remedy.PARTIAL_REFUND]),
    Demand.APOLOGY: ([Remedy.APOLOGY], []),
    Demand.EXPLANATION: ([Remedy.EXPLANATION], [Remedy.COORDINATION]),
}


@dataclass(frozen=True)
class DemandRow:
    demand: str
    status: str
    status_label: str
    answered_by: list[str]
    note: str = ""


@dataclass
class DemandsVsRemedies:
    rows: list[DemandRow]
    unasked: list[str]  # remedies chosen that answer no demand (coordination, compensation...)
    chosen_from: str  # where the chosen remedies come from: the draft form, the saved decision, or nothing yet


def _labels(values: list[str], choices: type[Measure] | type[Remedy]) -> list[str]:
    return [str(choices(v).label) for v in values if v in choices.values]


def _demand_row(demand: str, remedies: list[str], measures: list[str], other: str) -> DemandRow:
    label = str(Demand(demand).label)
    if demand == Demand.LISTENER_HANDLING:
        status = MET if measures else NOT_MET
        return DemandRow(label, status, str(DEMAND_STATUS_LABELS[status]), _labels(measures, Measure))
    if demand not in DEMAND_REMEDIES:  # "other": only a person can say whether it is answered
        return DemandRow(label, TO_JUDGE, str(DEMAND_STATUS_LABELS[TO_JUDGE]), [], note=other)
    full, part = DEMAND_REMEDIES[demand]
    answering = [r for r in remedies if r in full or r in part]
    status = MET if any(r in full for r in remedies) else PARTLY if answering else NOT_MET
    return DemandRow(label, status, str(DEMAND_STATUS_LABELS[status]), _labels(answering, Remedy))


def demands_vs_remedies(
    complaint: Complaint, *, remedies: list[str], measures: list[str], chosen_from: str
) -> DemandsVsRemedies:
    """Each demand of the complainant with the chosen remedies (or measures) that answer it."""
    demands = [d for d in complaint.demands if d in Demand.values]
    if complaint.demands_other.strip() and Demand.OTHER not in demands:
        demands.append(Demand.OTHER)
    rows = [_demand_row(d, remedies, measures, complaint.demands_other) for d in demands]
    answering = {r for d in demands if d in DEMAND_REMEDIES for r in (*DEMAND_REMEDIES[d][0], *DEMAND_REMEDIES[d][1])}
    return DemandsVsRemedies(rows, _labels([r for r in remedies if r not in answering], Remedy), chosen_from)


def chosen(form: forms.Form | None, decision: Decision | None) -> tuple[list[str], list[str], str]:
    """The remedies and measures on the page: those of the draft form as shown (posted or
    prefilled), else those of the saved decision."""
    if form is not None:
        return list(form["remedies"].value() or []), list(form["measures"].value() or []), _("表单中当前选择的")
    if decision is not None:
        return list(decision.remedies), list(decision.measures), _("处理决定中的")
    return [], [], ""


# --- the listener's history -------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlierCase:
    reference: str
    submitted_at: datetime
    category: str
    state: str
    grade: str  # "level · name", or "" while no decision has a grade
    decision_state: str


@dataclass
class ListenerHistory:
    listener_code: str
    listener_status: str
    complaints: list[EarlierCase] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    interviews: list[dict[str, Any]] = field(default_factory=list)
    more: dict[str, int] = field(default_factory=dict)  # part -> True when rows were left off


def _capped(rows: list[Any], part: str, more: dict[str, int]) -> list[Any]:
    if len(rows) > HISTORY_SHOWN:
        more[part] = 1
    return rows[:HISTORY_SHOWN]


def _earlier_cases(complaint: Complaint, more: dict[str, int]) -> list[EarlierCase]:
    rows = (
        Complaint.objects.filter(listener_id=complaint.listener_id, submitted_at__lt=complaint.submitted_at)
        .exclude(pk=complaint.pk)
        .filter(merged_into__isnull=True)
        .order_by("-submitted_at", "-pk")
        .values(
            "reference",
            "submitted_at",
            "category",
            "state",
            "decision__state",
            "decision__grade__level",
            "decision__grade__name",
        )[: HISTORY_SHOWN + 1]
    )
    return [
        EarlierCase(
            reference=r["reference"],
            submitted_at=r["submitted_at"],
            category=str(Category(r["category"]).label) if r["category"] in Category.values else r["category"],
            state=str(ComplaintState(r["state"]).label),
            grade=(
                f"{r['decision__grade__level']} · {r['decision__grade__name']}"
                if r["decision__grade__level"] is not None
                else ""
            ),
            decision_state=str(DecisionState(r["decision__state"]).label) if r["decision__state"] else "",
        )
        for r in _capped(list(rows), "complaints", more)
    ]


def listener_history(complaint: Complaint) -> ListenerHistory:
    """The listener's record as the decider needs it: five queries whatever its length."""
    listener = complaint.listener
    more: dict[str, int] = {}
    holds = ListenerHold.objects.filter(listener_id=listener.pk, released_at__isnull=True).values(
        "effect", "ends", "reason", "placed_at"
    )[: HISTORY_SHOWN + 1]
    tasks = (
        ListenerTask.objects.filter(listener_id=listener.pk, state__in=[TaskState.OPEN, TaskState.SUBMITTED])
        .order_by("due_at", "id")
        .values("kind", "state", "due_at", "case_reference")[: HISTORY_SHOWN + 1]
    )
    interviews = (
        CompetencyInterview.objects.filter(listener_id=listener.pk)
        .order_by("-created_at", "-id")
        .values("state", "created_at", "band", "total_score", "complaint__reference")[: HISTORY_SHOWN + 1]
    )
    now = timezone.now()
    return ListenerHistory(
        listener_code=listener.code,
        listener_status=str(ListenerStatus(listener.status).label),
        complaints=_earlier_cases(complaint, more),
        holds=[
            {**h, "effect": ListenerStatus(h["effect"]).label, "ends": HoldEnd(h["ends"]).label}
            for h in _capped(list(holds), "holds", more)
        ],
        tasks=[
            {
                **t,
                "kind": Measure(t["kind"]).label,
                "state": TaskState(t["state"]).label,
                "overdue": t["state"] == TaskState.OPEN and t["due_at"] < now,
            }
            for t in _capped(list(tasks), "tasks", more)
        ],
        interviews=[
            {**i, "state": InterviewState(i["state"]).label, "band": Band(i["band"]).label if i["band"] else ""}
            for i in _capped(list(interviews), "interviews", more)
        ],
        more=more,
    )


def decision_screen(complaint: Complaint, *, decision: Decision | None, form: forms.Form | None) -> dict[str, Any]:
    """The decision page's context beside the form: the saved decision's labels, the demands set
    against what is being chosen, and the listener's history."""
    remedies, measures, chosen_from = chosen(form, decision)
    return {
        "decision_measures": _labels(list(decision.measures), Measure) if decision else [],
        "decision_remedies": _labels(list(decision.remedies), Remedy) if decision else [],
        "demands_vs_remedies": demands_vs_remedies(
            complaint, remedies=remedies, measures=measures, chosen_from=chosen_from
        ),
        "listener_history": listener_history(complaint),
    }
