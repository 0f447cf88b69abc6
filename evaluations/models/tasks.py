"""Tasks."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from listeners.models import ListenerProfile

from .decision import Decision
from .grading import Measure


def task_evidence_path(instance: "ListenerTask", filename: str) -> str:
    return f"tasks/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class TaskState(models.TextChoices):
    OPEN = "open", _("待完成")
    SUBMITTED = "submitted", _("已提交，待核实")
    VERIFIED = "verified", _("已核实")
    CANCELLED = "cancelled", _("已取消")


class ListenerTask(models.Model):
    """Something a decision asks the listener to do, with evidence of completion verified by staff."""

    # A complaint's decision, or another source (an ethics case) named generically below, so
    # higher apps reuse tasks without this app knowing them.
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks")
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    source = GenericForeignKey("source_type", "source_id")
    case_reference = models.CharField(_("案件编号"), max_length=32, blank=True)
    case_link = models.CharField(max_length=200, blank=True, editable=False)
    listener = models.ForeignKey(ListenerProfile, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(_("类型"), max_length=32, choices=Measure.choices)
    description = models.TextField(_("要求"))
    due_at = models.DateTimeField(_("期限"))
    # An FSM field so the runner moves it like every case; not protected, because an appeal's
    # rework cancels the tasks it drops in bulk (one UPDATE, as before).
    state = FSMField(_("状态"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN)
    evidence = models.FileField(upload_to=task_evidence_path, blank=True, max_length=200)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    evidence_note = models.TextField(_("完成说明"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("核实意见"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("倾听师任务")
        verbose_name_plural = _("倾听师任务")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["source_type", "source_id"], name="listenertask_source")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__isnull=False)
                | models.Q(source_type__isnull=False, source_id__isnull=False),
                name="listener_task_has_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.listener_id}"

    @property
    def description_display(self) -> str:
        """The description in the reader's language when it is still the standard one of its kind
        (stored in the source language when the task was created); edited text as written."""
        from django.utils.translation import override

        from ..measures import TASK_DESCRIPTIONS

        standard = TASK_DESCRIPTIONS.get(Measure(self.kind)) if self.kind in Measure.values else None
        if standard is None:
            return self.description
        with override(settings.LANGUAGE_CODE):
            source = str(standard)
        return str(standard) if self.description == source else self.description

    # --- transitions: declarative, no side effects (evaluations.services moves them) ---
    @transition(field=state, source=TaskState.OPEN, target=TaskState.SUBMITTED)
    def submit(self) -> None:
        pass

    @transition(field=state, source=TaskState.SUBMITTED, target=TaskState.VERIFIED)
    def verify(self) -> None:
        pass

    @transition(field=state, source=TaskState.SUBMITTED, target=TaskState.OPEN)
    def send_back(self) -> None:
        pass

    @transition(field=state, source=[TaskState.OPEN, TaskState.SUBMITTED], target=TaskState.CANCELLED)
    def cancel(self) -> None:
        pass
