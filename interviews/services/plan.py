"""The improvement plan: the listener hands in each item, staff verify it or send it back."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor as _is_supervisor
from accounts.roles import Role
from complaints.services import safe_filename, validate_evidence_file
from core.deadlines import deadline_meet
from core.models import DeadlineKind
from core.notifications import notify
from listeners.holds import holds_of, holds_settle
from listeners.models import ListenerProfile, ListenerStatus

from ..models import (
    CompetencyInterview,
    InterviewPlanItem,
    PlanItemState,
)
from ..selectors import (
    delisting_interview,
    interview_get_for_update,
    last_failed_interview,
    listener_get_for_update,
    plan_item_get_for_update,
)
from .booking import interview_request
from .common import REAPPLICATION_REASON, _admin_link, _portal_link, _require_listener

if TYPE_CHECKING:
    from accounts.models import User


# --- improvement plan ---------------------------------------------------------------------------


@transaction.atomic
def plan_item_submit(
    *, item: InterviewPlanItem, note: str, actor: User, upload: UploadedFile | None = None
) -> InterviewPlanItem:
    """The listener says an item is done, with a note, a proof file, or both (one is required).
    A resubmission before verification replaces the note, and the file when a new one comes."""
    locked = plan_item_get_for_update(item.pk)
    _require_listener(locked.interview, actor)
    if locked.state == PlanItemState.VERIFIED:
        raise ValidationError(_("该改进计划项已核实。"))
    if not note.strip() and upload is None:
        raise ValidationError({"note": [_("请说明完成情况，或上传证明文件。")]})
    if upload is not None:
        locked.evidence_type = validate_evidence_file(upload, field="evidence")
        locked.evidence.save("evidence", upload, save=False)
        locked.evidence_name = safe_filename(upload.name or "")
    locked.state, locked.completion_note, locked.submitted_at = PlanItemState.SUBMITTED, note.strip(), timezone.now()
    locked.save(
        update_fields=["state", "completion_note", "submitted_at", "evidence", "evidence_name", "evidence_type"]
    )
    return locked


def _require_plan_reviewer(actor: User) -> None:
    if not (_is_supervisor(actor) or actor.has_role(Role.REVIEWER)):
        raise PermissionDenied(_("只有督导或专业组成员可以核实改进计划。"))


def _plan_item_notify(item: InterviewPlanItem, interview: CompetencyInterview, template: str, key: str) -> None:
    notify(
        recipients=[interview.listener.user],
        kind=f"listener.{template}",
        template=template,
        context={"kind": str(item.get_kind_display()), "note": item.review_note},
        link=_portal_link(interview),
        dedupe_key=key,
    )


@transaction.atomic
def plan_item_verify(*, item: InterviewPlanItem, actor: User, note: str = "") -> InterviewPlanItem:
    """Staff verify a submitted item: its deadline is met and the listener told. When the last item
    of a 60–70 result is verified, the listener is restored to active automatically (recorded
    with the interview as source) and told. Idempotent on a verified item."""
    _require_plan_reviewer(actor)
    locked = plan_item_get_for_update(item.pk)
    if locked.state == PlanItemState.VERIFIED:
        return locked
    if locked.state != PlanItemState.SUBMITTED:
        raise ValidationError(_("倾听师还没有提交这一项的完成情况，不能核实。"))
    locked.state, locked.verified_by, locked.verified_at, locked.review_note = (
        PlanItemState.VERIFIED,
        actor,
        timezone.now(),
        note,
    )
    locked.save(update_fields=["state", "verified_by", "verified_at", "review_note"])
    deadline_meet(subject=locked, kinds=[DeadlineKind.LISTENER_TASK])
    interview = interview_get_for_update(locked.interview_id)
    _plan_item_notify(locked, interview, "interview_plan_verified", f"interview_plan_verified:{locked.pk}")
    listener = interview.listener
    # The plan's hold ends with its last item; another case's hold may still keep the status.
    released = holds_settle(listener=listener, actor=actor)
    mine = {hold.pk for hold in holds_of(interview)}
    if any(hold.pk in mine for hold in released) and listener.status == ListenerStatus.ACTIVE:
        notify(
            recipients=[listener.user],
            kind="listener.interview_plan_restored",
            template="interview_plan_restored",
            context={},
            link=_portal_link(interview),
            dedupe_key=f"interview_plan_restored:{interview.pk}",
        )
    return locked


@transaction.atomic
def plan_item_return(*, item: InterviewPlanItem, actor: User, note: str) -> InterviewPlanItem:
    """Staff send a submitted item back with a note saying what is missing: it is open again (its
    deadline stays open) and the listener is told."""
    _require_plan_reviewer(actor)
    if not note.strip():
        raise ValidationError({"note": [_("请说明需要倾听师补充或修改的内容。")]})
    locked = plan_item_get_for_update(item.pk)
    if locked.state != PlanItemState.SUBMITTED:
        raise ValidationError(_("只有已提交、尚未核实的改进计划项可以退回。"))
    locked.state, locked.review_note = PlanItemState.OPEN, note.strip()
    locked.save(update_fields=["state", "review_note"])
    interview = locked.interview
    _plan_item_notify(
        locked,
        interview,
        "interview_plan_returned",
        f"interview_plan_returned:{locked.pk}:{int(locked.submitted_at.timestamp()) if locked.submitted_at else 0}",
    )
    return locked


def reapplication_check(*, listener: ListenerProfile, when: datetime | None = None) -> None:
    """Raise ValidationError when a listener delisted by an interview applies before six months."""
    when = when or timezone.now()
    failed = delisting_interview(listener) or last_failed_interview(listener)
    if failed is not None and failed.eligible_to_reapply_at and when < failed.eligible_to_reapply_at:
        raise ValidationError(
            _("胜任力考核面试未通过，%(date)s 起方可重新申请。")
            % {"date": date_format(timezone.localtime(failed.eligible_to_reapply_at), "Y-m-d")}
        )


@transaction.atomic
def reapplication_submit(*, listener: ListenerProfile, actor: User) -> CompetencyInterview:
    """A listener delisted by a failed interview asks to practise again: once the six months are
    over a new competency interview is requested (or the open one returned, see interview_request)
    and the supervisors are told. Before the date nothing is written."""
    if listener.user_id != actor.pk:
        raise PermissionDenied(_("只有倾听师本人可以申请重新入驻。"))
    locked = listener_get_for_update(listener.pk)
    if delisting_interview(locked) is None:
        raise ValidationError(_("只有因胜任力考核面试未通过而被清退的倾听师可以在这里申请重新入驻。"))
    reapplication_check(listener=locked)
    interview = interview_request(listener=locked, reason=REAPPLICATION_REASON, actor=actor)
    notify(
        recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
        kind="staff.interview_reapplication",
        template="interview_reapplication",
        context={"number": interview.pk},
        link=_admin_link(interview),
        dedupe_key=f"interview_reapplication:{interview.pk}",
    )
    return interview
