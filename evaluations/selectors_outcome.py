"""How a complaint ended, told to the person who complained: the outcome card and its review route.

Read-only: the card on the complainant's page, the 14-day review window and who had a part in the
outcome (so that someone else reviews it). The writes are evaluations.services.review_requests'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from complaints.models import Complaint, ComplaintState, TimelineEvent

from .models import (
    OPEN_REVIEW_STATES,
    Appeal,
    Decision,
    DecisionState,
    Evaluation,
    Facts,
    Outcome,
    Reasonableness,
    Remedy,
    ReviewerAssignment,
    ReviewRequest,
)

if TYPE_CHECKING:
    from accounts.models import User

# The decision notice says: "可在结案后 14 天内申请复核" (evaluations.services.COMPLAINANT_REOPEN_DAYS,
# not imported: the services import this module). A rejection or a direct resolution is its own
# notice, so its window runs from that step.
REVIEW_WINDOW_DAYS = 14
NOTICE_MOVES = ("close", "reject", "resolve_directly")
ENDED_STATES = (ComplaintState.CLOSED, ComplaintState.ARCHIVED, ComplaintState.REJECTED, ComplaintState.RESOLVED)
CARD_STATES = (ComplaintState.DECIDED, ComplaintState.FOLLOW_UP, *ENDED_STATES)


@dataclass(frozen=True)
class ReviewWindow:
    kind: str  # "decision", "reject" or "resolve_directly"
    notice: TimelineEvent
    closes_at: datetime

    @property
    def is_open(self) -> bool:
        return timezone.now() <= self.closes_at


def review_window(complaint: Complaint) -> ReviewWindow | None:
    """The 14 days in which the complainant may ask for a review, or None while there is no outcome
    to review (still open, withdrawn, merged into another case). One query."""
    if complaint.state not in ENDED_STATES:
        return None
    events = list(
        TimelineEvent.objects.filter(complaint=complaint, transition__in=NOTICE_MOVES).order_by("-created_at", "-id")
    )
    own = next((e for e in events if e.transition in ("reject", "resolve_directly")), None)
    notice = own or next((e for e in events if e.transition == "close"), None)
    if notice is None:
        return None
    kind = notice.transition if own else "decision"
    return ReviewWindow(kind, notice, notice.created_at + timedelta(days=REVIEW_WINDOW_DAYS))


def outcome_remedies(decision: Decision) -> list[dict[str, str]]:
    """Each remedy of the decision with its label and its state in plain words. The state stays
    neutral until the remedies' obligation records are plugged in here."""
    amounts: dict[str, Any] = {
        Remedy.PARTIAL_REFUND: decision.refund_amount,
        Remedy.FULL_REFUND: decision.refund_amount,
        Remedy.COMPENSATION: decision.compensation_amount,
    }
    rows = []
    for code in decision.remedies:
        label = str(Remedy(code).label)
        amount = amounts.get(code)
        if amount is not None:
            label = _("%(remedy)s（%(amount)s 元）") % {"remedy": label, "amount": amount}
        rows.append({"code": code, "label": label, "state": ""})
    return rows


FACTS_PLAIN: dict[str, Any] = {
    Facts.SUBSTANTIATED: gettext_lazy("经专业组核实，您反映的情况属实。"),
    Facts.PARTLY: gettext_lazy("经专业组核实，您反映的情况部分属实。"),
    Facts.NOT: gettext_lazy(
        "根据现有材料，专业组未能证实您反映的情况。这不代表我们认为您说得不对，只是现有的记录和证据不足以确认。"
    ),
}
DEMAND_PLAIN: dict[str, Any] = {
    Reasonableness.REASONABLE: gettext_lazy("您提出的诉求是合理的，平台予以支持。"),
    Reasonableness.PARTLY: gettext_lazy("您提出的诉求有一部分得到支持，具体见下方的补救措施。"),
    Reasonableness.UNREASONABLE: gettext_lazy("您提出的诉求这次未能得到支持，原因见下方给您的说明。"),
}
OUTCOME_PLAIN: dict[str, Any] = {
    Outcome.A: gettext_lazy("专业组认为倾听师在这次倾诉中没有明显的不足，平台会与您沟通协调。"),
    Outcome.B: gettext_lazy("专业组认为倾听师在这次倾诉中存在不足，平台已按规定要求倾听师改进并作出相应处理。"),
}


def _found(evaluation: Evaluation) -> list[str]:
    """The final evaluation in plain words: no scores, grades or reviewers' names."""
    lines = [FACTS_PLAIN.get(evaluation.facts), OUTCOME_PLAIN.get(evaluation.outcome)]
    lines.append(DEMAND_PLAIN.get(evaluation.demand))
    return [str(line) for line in lines if line]


def complaint_outcome(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """The outcome card's context for the complainant's page, or None when there is no outcome yet.
    At most three queries: the notified decision, the window's notice and the review request."""
    if complaint.state not in CARD_STATES or user.pk != complaint.complainant_id:
        return None
    decision = None
    if complaint.state not in (ComplaintState.REJECTED, ComplaintState.RESOLVED):
        decision = (
            Decision.objects.select_related("evaluation")
            .filter(complaint=complaint, state=DecisionState.NOTIFIED)
            .first()
        )
    window = review_window(complaint)
    if decision is None and (window is None or window.kind == "decision"):
        return None
    request = ReviewRequest.objects.filter(complaint=complaint).first()
    card: dict[str, Any] = {
        "kind": window.kind if window else "decision",
        "window": window,
        "review_request": request,
        "can_request_review": window is not None and window.is_open and request is None,
    }
    if decision is not None:
        card.update(
            found=_found(decision.evaluation),
            text=decision.text_to_complainant,
            remedies=outcome_remedies(decision),
            remedies_pending=complaint.state in (ComplaintState.DECIDED, ComplaintState.FOLLOW_UP),
        )
    else:
        assert window is not None
        card["reason"] = window.notice.note
    return card


# --- who had a part in the outcome ----------------------------------------------------------------


def outcome_deciders(complaint: Complaint) -> set[int]:
    """Everyone who shaped the outcome under review: the lead and every evaluator, the decision's
    drafter and approver, an appeal's reviewers, and the consultant who rejected or resolved it."""
    ids: set[Any] = {complaint.assigned_reviewer_id}
    ids |= set(ReviewerAssignment.objects.filter(complaint=complaint).values_list("reviewer_id", flat=True))
    ids |= set(Evaluation.objects.filter(complaint=complaint).values_list("reviewer_id", flat=True))
    for decision in Decision.objects.filter(complaint=complaint):
        ids |= {decision.decided_by_id, decision.approved_by_id}
        for appeal in Appeal.objects.filter(decision=decision):
            ids |= {appeal.reviewer_id, appeal.supervisor_id}
    ids |= set(
        TimelineEvent.objects.filter(complaint=complaint, transition__in=("reject", "resolve_directly")).values_list(
            "actor_id", flat=True
        )
    )
    ids.discard(None)
    return ids


def open_review_requests() -> QuerySet[ReviewRequest]:
    """Open requests, oldest first: the staff list shows no content until someone takes one."""
    return (
        ReviewRequest.objects.filter(state__in=OPEN_REVIEW_STATES)
        .select_related("complaint", "handler")
        .order_by("created_at", "id")
    )


def review_request_for_page() -> QuerySet[ReviewRequest]:
    return ReviewRequest.objects.select_related(
        "complaint__listener", "complaint__session", "decision__grade", "decision__evaluation", "handler"
    )


def review_requests_visible(user: User, qs: QuerySet[ReviewRequest]) -> QuerySet[ReviewRequest]:
    """The access rule: supervisors see every request, the complainant their own, the handler theirs."""
    if is_supervisor(user):
        return qs
    return qs.filter(Q(handler=user) | Q(complainant=user))
