"""Ethics."""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from evaluations.models import Grade, ListenerResponse, Measure
from listeners.models import ListenerProfile

from .anomalies import AnomalyRule
from .common import _is_supervisor


class EthicsSource(models.TextChoices):
    ANOMALY = "anomaly", _("异常订单模式")
    RATING_MANIPULATION_REPORT = "rating_manipulation_report", _("诱导改评举报")
    REAL_NAME_REPORT = "real_name_report", _("实名举报")
    ANONYMOUS_REPORT = "anonymous_report", _("匿名举报")
    SUPERVISOR_OBSERVATION = "supervisor_observation", _("督导发现")


class EthicsCaseState(models.TextChoices):
    OPENED = "opened", _("已立案")
    INVESTIGATING = "investigating", _("调查中")
    EVALUATED = "evaluated", _("已评估")
    DECIDED = "decided", _("已作出决定")
    CLOSED = "closed", _("已结案")


E = EthicsCaseState


class EthicsCase(ConcurrentTransitionMixin, models.Model):
    """An ethics investigation about one listener, graded with the evaluations grading scheme."""

    source = models.CharField(_("来源"), max_length=32, choices=EthicsSource.choices)
    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="ethics_cases", verbose_name=_("倾听师")
    )
    # The other party of an anomaly between one listener and one user; never shown to the listener.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("相关用户"),
    )
    summary = models.TextField(_("案情摘要"))
    state = FSMField(_("状态"), max_length=20, choices=EthicsCaseState.choices, default=E.OPENED, protected=True)
    evaluation_summary = models.TextField(_("评估意见"), blank=True)
    grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("处理等级")
    )
    # The decision, with the measures of the shared grading scheme: applied through
    # evaluations.measures, so tasks, status changes and interviews work as for a complaint.
    measures = ArrayField(
        models.CharField(max_length=32, choices=Measure.choices), default=list, blank=True, verbose_name=_("处理措施")
    )
    adjustment_reason = models.TextField(_("调整理由"), blank=True)
    text_to_listener = models.TextField(_("给倾听师的说明"), blank=True)
    # Database defaults too: the anomaly scan inserts cases in SQL without naming these columns.
    listener_response = models.CharField(
        _("倾听师的意见"),
        max_length=16,
        choices=ListenerResponse.choices,
        default=ListenerResponse.PENDING,
        db_default=ListenerResponse.PENDING,
    )
    listener_response_reason = models.TextField(_("倾听师的理由"), blank=True, default="", db_default="")
    listener_responded_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    anomaly_rule = models.ForeignKey(
        AnomalyRule, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("异常规则")
    )
    window_start = models.DateTimeField(_("统计窗口开始"), null=True, blank=True)
    # The key of the AnomalyFinding that opened the case ("<rule>:<listener>:<user or ->:<window
    # start>", or "<rule>:<listener>:report:<report id>" for a rating swing). Later findings of the
    # same pattern are added to the open case as notes; none is recorded twice.
    anomaly_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False)

    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("立案人"),
    )
    opened_at = models.DateTimeField(_("立案时间"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("伦理案件")
        verbose_name_plural = _("伦理案件")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["state", "-opened_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"LL-{self.pk:06d}" if self.pk else "LL-"

    # --- conditions ---------------------------------------------------------
    def has_evaluation(self) -> bool:
        return bool(self.evaluation_summary.strip())

    def has_grade(self) -> bool:
        return self.grade_id is not None

    def has_no_open_tasks(self) -> bool:
        """A decided case closes when its last task is verified; by hand only once none is left,
        so tasks, deadlines and a temporary status are never stranded on a closed case."""
        if self.state != E.DECIDED:
            return True
        from evaluations.measures import open_tasks_of

        return not open_tasks_of(self).exists()

    # --- transitions: declarative, no side effects --------------------------
    @transition(field=state, source=E.OPENED, target=E.INVESTIGATING, permission=_is_supervisor)
    def start_investigating(self) -> None:
        pass

    @transition(
        field=state, source=E.INVESTIGATING, target=E.EVALUATED, permission=_is_supervisor, conditions=[has_evaluation]
    )
    def evaluate(self) -> None:
        pass

    @transition(field=state, source=E.EVALUATED, target=E.DECIDED, permission=_is_supervisor, conditions=[has_grade])
    def decide(self) -> None:
        pass

    @transition(
        field=state,
        source=[E.OPENED, E.DECIDED],
        target=E.CLOSED,
        permission=_is_supervisor,
        conditions=[has_no_open_tasks],
    )
    def close(self) -> None:
        pass


class EthicsCaseEvent(models.Model):
    """Append-only history of an ethics case."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("立案")
        TRANSITION = "transition", _("状态变更")
        NOTE = "note", _("备注")

    case = models.ForeignKey(EthicsCase, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    from_state = models.CharField(_("原状态"), max_length=20, choices=EthicsCaseState.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=EthicsCaseState.choices, blank=True)
    transition = models.CharField(_("操作"), max_length=32, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("伦理案件记录")
        verbose_name_plural = _("伦理案件记录")
        ordering = ["created_at", "id"]
        triggers = [pgtrigger.Protect(name="ethics_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"
