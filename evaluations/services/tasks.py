"""Follow-up: the listener hands in each task, staff verify it, the last one closes the case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.policy import is_supervisor
from complaints.models import ComplaintState
from complaints.selectors import complaint_get_for_update
from complaints.services import (
    complaint_close,
    safe_filename,
    validate_evidence_file,
)
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run
from listeners.holds import holds_settle

from ..measures import (
    source_lock,
    source_tasks_done,
)
from ..models import (
    Decision,
    ListenerTask,
    TaskState,
)
from .assignment import reviewers_of

if TYPE_CHECKING:
    from accounts.models import User


# --- follow-up tasks ------------------------------------------------------------------------------


def _task_for_update(pk: int) -> ListenerTask:
    return (
        ListenerTask.objects.select_for_update(of=("self",))
        .select_related("listener", "decision__complaint")
        .get(pk=pk)
    )


TASK_REVIEWED = gettext_lazy("这个任务还没有提交，或已核实。")
TASK_FLOW: Workflow[ListenerTask] = Workflow(
    model=ListenerTask,
    lock=_task_for_update,
    refusals={"submit": gettext_lazy("这个任务已提交或已核实。"), "verify": TASK_REVIEWED, "send_back": TASK_REVIEWED},
)


@transaction.atomic
def task_submit(*, task: ListenerTask, actor: User, note: str, upload: UploadedFile | None = None) -> ListenerTask:
    def has_evidence(locked: ListenerTask) -> None:
        if not note.strip() and upload is None:
            raise ValidationError({"evidence_note": [_("请写下完成情况或上传证明。")]})
        if upload is not None:
            locked.evidence_type = validate_evidence_file(upload, field="evidence")

    def store(locked: ListenerTask) -> list[str]:
        if upload is not None:
            locked.evidence.save("evidence", upload, save=False)
            locked.evidence_name = safe_filename(upload.name or "")
        return ["evidence", "evidence_name", "evidence_type"]

    return transition_run(
        TASK_FLOW,
        task,
        "submit",
        actor=actor,
        allowed=lambda locked, user: user.pk == locked.listener.user_id,
        denied_message=_("只有本人可以提交任务完成情况。"),
        validate=has_evidence,
        prepare={"evidence_note": note.strip(), "submitted_at": timezone.now()},
        before_save=store,
    ).instance


def _may_verify(task: ListenerTask, user: User) -> bool:
    # A task from another source (an ethics case) is verified by supervisors.
    complaint = task.decision.complaint if task.decision is not None else None
    return is_supervisor(user) or (complaint is not None and user.pk in reviewers_of(complaint))


@transaction.atomic
def task_review(*, task: ListenerTask, actor: User, accepted: bool, note: str = "") -> ListenerTask:
    """Staff verify a task, or send it back. When the last task is verified the case closes and a
    temporary status (hidden, suspended) is lifted.

    The case (complaint or other source) is locked before the task, as every other writer does:
    two staff verifying the last two tasks at once then see each other's, and one closes the case."""
    parent = ListenerTask.objects.values("decision__complaint_id", "source_type_id", "source_id").get(pk=task.pk)
    if parent["decision__complaint_id"] is not None:
        complaint_get_for_update(parent["decision__complaint_id"])
    elif parent["source_type_id"] is not None:
        source_lock(parent["source_type_id"], parent["source_id"])

    def with_note(locked: ListenerTask) -> None:
        if not accepted and not note.strip():
            raise ValidationError({"review_note": [_("退回时请说明还需要什么。")]})

    def reviewed(move: Move[ListenerTask]) -> None:
        locked = move.instance
        notify(
            recipients=[locked.listener.user],
            kind="listener.task_reviewed",
            template="task_reviewed",
            context={"task": locked.get_kind_display(), "accepted": accepted, "note": locked.review_note},
            link=reverse("portal:tasks"),
        )
        if not accepted:
            return
        # Whatever hold this task's case placed may have ended with it.
        holds_settle(listener=locked.listener, actor=actor)
        if locked.decision is not None:
            _close_when_all_verified(locked.decision, actor)
        else:
            source_tasks_done(locked, actor)

    verified = {"verified_by": actor, "verified_at": timezone.now()} if accepted else {}
    return transition_run(
        TASK_FLOW,
        task,
        "verify" if accepted else "send_back",
        actor=actor,
        allowed=_may_verify,
        denied_message=_("只有本案评估人或督导可以核实任务。"),
        validate=with_note,
        prepare={"review_note": note.strip(), **verified},
        meet=[DeadlineKind.LISTENER_TASK] if accepted else [],
        effects=reviewed,
    ).instance


def _close_when_all_verified(decision: Decision, actor: User) -> None:
    if decision.tasks.filter(state__in=[TaskState.OPEN, TaskState.SUBMITTED]).exists():
        return
    complaint = complaint_get_for_update(decision.complaint_id)
    if complaint.state == ComplaintState.FOLLOW_UP:
        complaint_close(complaint=complaint, actor=actor, note=_("处理决定的各项任务已完成，案件结案。"))
