"""After closing: the satisfaction survey; and what a missed deadline does to a case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.deadlines import deadline_meet
from core.errors import WrongState
from core.models import DeadlineKind

from ..models import (
    Complaint,
    ComplaintState,
    Priority,
    TimelineEvent,
)
from ..selectors import complaint_get_for_update

if TYPE_CHECKING:
    from accounts.models import User
from .common import _event


@transaction.atomic
def complaint_survey_answer(*, complaint: Complaint, actor: User, score: int, comment: str = "") -> Complaint:
    """The complainant's satisfaction after closing: once, 1-5 with an optional comment."""
    locked = complaint_get_for_update(complaint.pk)
    if actor.pk != locked.complainant_id:
        raise PermissionDenied(_("只有投诉人本人可以评价。"))
    if locked.state not in (ComplaintState.CLOSED, ComplaintState.ARCHIVED) or locked.merged_into_id:
        raise WrongState(_("案件结案后才能评价。"))
    if locked.satisfaction_at is not None:
        raise WrongState(_("您已经评价过了，谢谢。"))
    if score not in range(1, 6):
        raise ValidationError({"score": [_("请选择 1 到 5 分。")]})
    locked.satisfaction_score, locked.satisfaction_comment = score, comment.strip()
    locked.satisfaction_at = timezone.now()
    locked.save(update_fields=["satisfaction_score", "satisfaction_comment", "satisfaction_at", "updated_at"])
    deadline_meet(subject=locked, kinds=[DeadlineKind.SATISFACTION_SURVEY])
    _event(locked, TimelineEvent.Kind.NOTE, actor=actor, note=_("投诉人完成了满意度评价：%(n)s 分") % {"n": score})
    return locked


def complaint_deadlines_breached(ids: list[int], kinds: dict[int, list[str]]) -> None:
    """Called by the deadline sweep inside its transaction: raise priority, mark the timeline."""
    Complaint.objects.filter(pk__in=ids, priority__lt=Priority.HIGH).update(priority=Priority.HIGH)
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                complaint_id=pk,
                kind=TimelineEvent.Kind.NOTE,
                note=_("%(kinds)s已超时，已通知督导。") % {"kinds": "、".join(str(DeadlineKind(k).label) for k in ks)},
            )
            for pk, ks in kinds.items()
        ]
    )
