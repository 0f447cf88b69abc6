"""The complainant's request for a review: filed once, within 14 days of the outcome; taken by a
reviewer or supervisor who had no part in that outcome; upheld or changed; the complainant told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_review_staff, is_supervisor, supervisors
from complaints.models import Complaint, TimelineEvent
from complaints.selectors import complaint_get_for_update
from complaints.services import complaint_record, crisis_terms_in, reviewer_conflicts
from core.errors import WrongState
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run

from ..models import Decision, DecisionState, ReviewRequest, ReviewRequestState
from ..selectors_outcome import REVIEW_WINDOW_DAYS, outcome_deciders, review_window

if TYPE_CHECKING:
    from accounts.models import User

REASONS_MIN = 10
REASONS_MAX = 2000
RESOLVE_MOVES = {ReviewRequestState.UPHELD: "uphold", ReviewRequestState.CHANGED: "change"}


def _check_reasons(reasons: str) -> str:
    reasons = reasons.strip()
    if not reasons:
        raise ValidationError({"reasons": [_("请写下您希望复核的原因。")]})
    if len(reasons) < REASONS_MIN:
        raise ValidationError(
            {"reasons": [_("请再多写几句（至少 %(n)s 个字），让复核人了解您的想法。") % {"n": REASONS_MIN}]}
        )
    if len(reasons) > REASONS_MAX:
        raise ValidationError({"reasons": [_("理由请控制在 %(n)s 字以内。") % {"n": REASONS_MAX}]})
    return reasons


@transaction.atomic
def review_request_file(*, complaint: Complaint, actor: User, reasons: str) -> ReviewRequest:
    """The complainant asks, once per complaint, within 14 days of the outcome reaching them. The
    complaint row is locked, so a double click files one request; the reasons are screened for
    crisis terms and supervisors are told."""
    locked = complaint_get_for_update(complaint.pk)
    if actor.pk != locked.complainant_id:
        raise PermissionDenied(_("只有投诉人本人可以申请复核。"))
    reasons = _check_reasons(reasons)
    window = review_window(locked)
    if window is None:
        raise WrongState(_("这件投诉还没有处理结论，暂时不能申请复核。"))
    if ReviewRequest.objects.filter(complaint=locked).exists():
        raise WrongState(_("这件投诉已经申请过复核，每件投诉只能申请一次。"))
    if not window.is_open:
        raise ValidationError(
            _("申请复核须在收到处理结论后 %(d)s 天内提出，这件投诉的期限已于 %(date)s 结束。")
            % {"d": REVIEW_WINDOW_DAYS, "date": timezone.localtime(window.closes_at).strftime("%Y-%m-%d %H:%M")}
        )
    decision = Decision.objects.filter(complaint=locked, state=DecisionState.NOTIFIED).first()
    terms = crisis_terms_in(reasons)
    request = ReviewRequest.objects.create(
        complaint=locked, decision=decision, complainant=actor, reasons=reasons, crisis_terms=terms
    )
    complaint_record(
        complaint=locked,
        actor=actor,
        note=_("您申请了复核。平台会安排未参与原处理的工作人员复核，并把结论告诉您。"),
        visible=True,
    )
    if terms:
        complaint_record(
            complaint=locked,
            actor=None,
            note=_("复核申请中出现危机信号词：%(terms)s") % {"terms": "、".join(terms)},
            visible=False,
            kind=TimelineEvent.Kind.CRISIS,
        )
    notify(
        recipients=supervisors(),
        kind="review_request.filed",
        template="review_request_filed",
        context={"reference": locked.reference, "crisis": bool(terms)},
        link=reverse("review:review_requests"),
        urgent=bool(terms),
    )
    return request


def _record(move: Move[ReviewRequest]) -> None:
    """Every move of a review request is written on its complaint's timeline, where the
    complainant sees it."""
    complaint_record(complaint=move.instance.complaint, actor=move.actor, note=move.note, visible=True)


REVIEW_REQUEST_FLOW: Workflow[ReviewRequest] = Workflow(
    model=ReviewRequest,
    record=_record,
    lock=lambda pk: ReviewRequest.objects.select_for_update(of=("self",))
    .select_related("complaint__listener", "decision")
    .get(pk=pk),
    refusals={
        "assign": gettext_lazy("这份复核申请已经有人负责了。"),
        **dict.fromkeys(["uphold", "change"], gettext_lazy("这份复核申请不在复核中。")),
    },
)


def _check_handler(request: ReviewRequest, handler: User) -> None:
    """Someone from the professional group or a supervisor, with no part in the outcome."""
    if not is_review_staff(handler):
        raise ValidationError({"handler": [_("复核须由专业组成员或督导进行。")]})
    if handler.pk in outcome_deciders(request.complaint):
        raise ValidationError(
            {
                "handler": [
                    _("%(name)s 参与过这件投诉的原处理（评估、起草或批准决定，或作出不予受理、直接处理），不能复核它。")
                    % {"name": handler}
                ]
            }
        )
    conflicts = reviewer_conflicts(handler, request.complaint)
    if conflicts:
        raise ValidationError({"handler": ["".join(str(c) for c in conflicts)]})


@transaction.atomic
def review_request_assign(*, review_request: ReviewRequest, actor: User, handler: User | None = None) -> ReviewRequest:
    """A reviewer or supervisor takes the request, or a supervisor names who does; refused for
    anyone who had a part in the outcome. Two people taking it at once: the second is refused."""
    handler = handler or actor

    def tell_the_handler(move: Move[ReviewRequest]) -> None:
        if handler.pk != actor.pk:
            notify(
                recipients=[handler],
                kind="review_request.assigned",
                template="review_request_assigned",
                context={"reference": move.instance.complaint.reference},
                link=reverse("review:review_request", args=[move.instance.pk]),
            )

    return transition_run(
        REVIEW_REQUEST_FLOW,
        review_request,
        "assign",
        actor=actor,
        allowed=lambda locked, user: is_supervisor(user) or handler.pk == user.pk,
        denied_message=_("只有督导可以把复核申请交给别人；专业组成员只能自己接手。"),
        validate=lambda locked: _check_handler(locked, handler),
        prepare={"handler": handler, "assigned_by": actor, "assigned_at": timezone.now()},
        note=_("您的复核申请已交给一位未参与原处理的工作人员复核。"),
        effects=tell_the_handler,
    ).instance


def _tell_result(locked: ReviewRequest, outcome: str, note: str, changes: str) -> None:
    """The complainant hears the result in-app and by email; a change goes to the supervisors."""
    reference = locked.complaint.reference
    context = {
        "reference": reference,
        "outcome": str(ReviewRequestState(outcome).label),
        "note": note,
        "changes": changes,
    }
    notify(
        recipients=[locked.complainant],
        kind="review_request.resolved",
        template="review_request_resolved",
        context=context,
        link=reverse("complaints:detail", args=[reference]),
    )
    if outcome == ReviewRequestState.CHANGED:
        notify(
            recipients=supervisors(),
            kind="review_request.changed",
            template="review_request_changed",
            context=context,
            link=reverse("review:review_request", args=[locked.pk]),
        )


@transaction.atomic
def review_request_resolve(
    *, review_request: ReviewRequest, actor: User, outcome: str, note: str, changes: str = ""
) -> ReviewRequest:
    """The handler upholds the outcome or changes it (saying what changes), with an explanation
    the complainant reads; the complainant is told in-app and by email, and a change goes to the
    supervisors to carry out."""
    note, changes = note.strip(), changes.strip()

    def well_founded(locked: ReviewRequest) -> None:
        errors: dict[str, list[str]] = {}
        if outcome not in RESOLVE_MOVES:
            errors["outcome"] = [_("请选择复核结论。")]
        if not note:
            errors["outcome_note"] = [_("请写明复核的理由，它会发给投诉人。")]
        if outcome == ReviewRequestState.CHANGED and not changes:
            errors["changes"] = [_("变更原结论时，请写明变更的内容。")]
        if errors:
            raise ValidationError(errors)

    def timeline_note(locked: ReviewRequest) -> str:
        text = _("复核结论：%(o)s。%(n)s") % {"o": ReviewRequestState(outcome).label, "n": note}
        if outcome == ReviewRequestState.CHANGED:
            text += "\n" + _("变更内容：%(c)s") % {"c": changes}
        return text

    return transition_run(
        REVIEW_REQUEST_FLOW,
        review_request,
        RESOLVE_MOVES.get(outcome, "uphold"),  # type: ignore[call-overload]
        actor=actor,
        allowed=lambda locked, user: user.pk == locked.handler_id,
        denied_message=_("只有负责这份复核申请的复核人可以作出结论。"),
        validate=well_founded,
        prepare={"outcome_note": note, "changes": changes, "resolved_at": timezone.now()},
        note=timeline_note,
        effects=lambda move: _tell_result(move.instance, outcome, note, changes),
    ).instance
