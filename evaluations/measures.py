"""What a graded decision does to a listener, whatever the case behind it.

A complaint's Decision and an ethics case (supervision) both carry measures from the one Measure
list; this module turns them into tasks with deadlines, a status change with its history, an
interview request and an alert when the law requires a report. Ethics cases live in a higher app,
so they reach this one through a generic ``source`` and a handler registered by model label that
is told when the source's last task is verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Role
from complaints.models import Complaint
from core.deadlines import deadline_open, due_for
from core.models import DeadlineKind
from core.notifications import notify
from interviews.models import OPEN_STATES, CompetencyInterview, InterviewState
from interviews.services import interview_request
from listeners.holds import hold_place
from listeners.models import HoldEnd, ListenerProfile, ListenerStatus

from .models import TASK_MEASURES, Decision, ListenerTask, Measure, TaskState

if TYPE_CHECKING:
    from accounts.models import User

# Status measures, most severe first: the listener gets the most severe one a decision carries.
STATUS_FOR_MEASURE = [
    (Measure.DELIST, ListenerStatus.DELISTED),
    (Measure.SUSPEND_ORDERS, ListenerStatus.SUSPENDED),
    (Measure.HIDE_PROFILE, ListenerStatus.HIDDEN),
    (Measure.RETURN_TO_INTERNSHIP, ListenerStatus.INTERNSHIP),
]
# Statuses a decision's hold lifts by itself once its tasks are verified and its interview is over.
RESTORABLE = {ListenerStatus.HIDDEN, ListenerStatus.SUSPENDED}
UNFINISHED_INTERVIEW = [*OPEN_STATES, InterviewState.HELD, InterviewState.SCORED]

TASK_DESCRIPTIONS = {
    Measure.FEEDBACK: gettext_lazy("阅读专业组的书面反馈，并提交一份书面反思。"),
    Measure.CONTINUED_LEARNING: gettext_lazy("完成与本案问题相关的继续学习，并提交学习证明。"),
    Measure.SUPERVISION_SESSIONS: gettext_lazy("接受至少 3 次个案督导，并提交督导师签字的记录。"),
    Measure.PERSONAL_THERAPY: gettext_lazy("完成至少 5 次个人体验（个人咨询），并提交证明。"),
}

TasksDoneHandler = Callable[[Any, "User"], None]
_TASKS_DONE: dict[str, TasksDoneHandler] = {}


def register_tasks_done_handler(model_label: str, handler: TasksDoneHandler) -> None:
    """``handler(source, actor)`` runs, in the verifying transaction, when the last open task of a
    source of this model (``app_label.modelname``) is verified."""
    _TASKS_DONE[model_label.lower()] = handler


def status_for(measures: Iterable[str]) -> str | None:
    chosen = set(measures)
    for measure, status in STATUS_FOR_MEASURE:
        if measure in chosen:
            return status
    return None


def hold_end_for(measures: Iterable[str], status: str) -> HoldEnd:
    """How a case's status measure ends: a delisting never (only the annulment of the very decision
    lifts it); hiding and suspension when the case's tasks are verified and its interview is over,
    or by a supervisor when the case gives nothing to do; a return to internship by a supervisor."""
    if status == ListenerStatus.DELISTED:
        return HoldEnd.NEVER
    chosen = set(measures)
    if status in RESTORABLE and (chosen & set(TASK_MEASURES) or Measure.COMPETENCY_INTERVIEW in chosen):
        return HoldEnd.CASE_DONE
    return HoldEnd.MANUAL


def interview_unfinished(listener_id: int, complaint_id: int | None) -> bool:
    """An interview a case asked for (by its complaint, or with none for an ethics case) is ahead."""
    of_case = Q(complaint_id=complaint_id) if complaint_id is not None else Q(complaint__isnull=True)
    return CompetencyInterview.objects.filter(of_case, listener_id=listener_id, state__in=UNFINISHED_INTERVIEW).exists()


def decision_hold_ended(decision: Decision) -> str | None:
    """A decision's hold ends once its tasks are verified and the interview it asked for is over."""
    if decision.tasks.filter(state__in=[TaskState.OPEN, TaskState.SUBMITTED]).exists():
        return None
    complaint = Complaint.objects.only("pk", "reference", "listener_id").get(pk=decision.complaint_id)
    if interview_unfinished(complaint.listener_id, complaint.pk):
        return None
    return _("处理决定 %(ref)s 的任务已全部完成。") % {"ref": complaint.reference}


def tasks_create(
    *,
    listener: ListenerProfile,
    kinds: Iterable[str],
    reference: str,
    decision: Decision | None = None,
    source: models.Model | None = None,
    case_link: str = "",
) -> list[ListenerTask]:
    """One task per measure the listener must carry out, each with its deadline row."""
    tasks = []
    for kind in kinds:
        if kind not in TASK_MEASURES:
            continue
        due, _remind = due_for(DeadlineKind.LISTENER_TASK, timezone.now())
        task = ListenerTask(
            decision=decision,
            listener=listener,
            kind=kind,
            description=str(TASK_DESCRIPTIONS[Measure(kind)]),
            due_at=due,
            case_reference=reference,
            case_link=case_link,
        )
        if source is not None:
            task.source = source
        task.save()
        deadline_open(
            subject=task,
            kind=DeadlineKind.LISTENER_TASK,
            label=f"{reference}/{task.pk}",
            link=reverse("portal:tasks"),
            owner=listener.user,
            due_at=due,
        )
        tasks.append(task)
    return tasks


def interview_and_report(
    *,
    listener: ListenerProfile,
    measures: Iterable[str],
    reference: str,
    link: str,
    actor: User,
    complaint: Complaint | None = None,
) -> None:
    """Request a competency interview and alert supervisors to a legal report, as the measures say."""
    chosen = set(measures)
    if Measure.COMPETENCY_INTERVIEW in chosen:
        interview_request(
            listener=listener,
            complaint=complaint,
            reason=_("处理决定 %(ref)s 要求进行胜任力考核面试。") % {"ref": reference},
            actor=actor,
        )
    if Measure.REPORT_TO_AUTHORITIES in chosen:
        notify(
            recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
            kind="decision.report_to_authorities",
            template="report_to_authorities",
            context={"reference": reference},
            link=link,
            urgent=True,
        )


def measures_apply(
    *,
    listener: ListenerProfile,
    measures: list[str],
    actor: User,
    reference: str,
    status_reason: str,
    source: models.Model,
    link: str,
    decision: Decision | None = None,
    complaint: Complaint | None = None,
    case_link: str = "",
) -> list[ListenerTask]:
    """Tasks, the hold of the most severe status measure (``source``'s own: it never lifts another
    case's), the interview request and the legal-report alert. Call inside the caller's transaction."""
    tasks = tasks_create(
        listener=listener,
        kinds=measures,
        reference=reference,
        decision=decision,
        source=None if decision is not None else source,
        case_link=case_link,
    )
    status = status_for(measures)
    if status is not None:
        hold_place(
            listener=listener,
            effect=status,
            ends=hold_end_for(measures, status),
            reason=status_reason,
            actor=actor,
            source=source,
        )
    interview_and_report(
        listener=listener, measures=measures, reference=reference, link=link, actor=actor, complaint=complaint
    )
    return tasks


def open_tasks_of(source: models.Model) -> models.QuerySet[ListenerTask]:
    return open_tasks_of_ids(ContentType.objects.get_for_model(source).pk, source.pk)


def tasks_of(source: models.Model) -> models.QuerySet[ListenerTask]:
    return ListenerTask.objects.filter(source_type=ContentType.objects.get_for_model(source), source_id=source.pk)


def source_lock(source_type_id: int, source_id: int | None) -> None:
    """Lock a task source's row (an ethics case) for the rest of the transaction."""
    model = ContentType.objects.get_for_id(source_type_id).model_class()
    if model is not None and source_id is not None:
        list(model._default_manager.select_for_update().filter(pk=source_id).values_list("pk", flat=True))


def source_tasks_done(task: ListenerTask, actor: User) -> None:
    """After ``task`` (not a complaint decision's) is verified: tell its source's handler once
    nothing of that source is left to do."""
    if task.source_type_id is None or open_tasks_of_ids(task.source_type_id, task.source_id).exists():
        return
    content_type = ContentType.objects.get_for_id(task.source_type_id)
    handler = _TASKS_DONE.get(f"{content_type.app_label}.{content_type.model}")
    source = task.source
    if handler is not None and source is not None:
        handler(source, actor)


def open_tasks_of_ids(source_type_id: int, source_id: int | None) -> models.QuerySet[ListenerTask]:
    return ListenerTask.objects.filter(
        source_type_id=source_type_id, source_id=source_id, state__in=[TaskState.OPEN, TaskState.SUBMITTED]
    )
