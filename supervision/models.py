"""Ethics cases, anomaly rules, confidentiality-break reports and reports about listeners.

State moves only through supervision.services; transitions here are declarative.
"""

from datetime import timedelta

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.policy import is_supervisor
from core.crypto import EncryptedTextField
from evaluations.models import Grade, ListenerResponse, Measure
from listeners.models import ListenerProfile, ListeningSession


def _is_supervisor(instance, user) -> bool:
    """The transitions' ``permission=``: accounts.policy decides who is a supervisor."""
    return is_supervisor(user)


# --- ethics cases --------------------------------------------------------------------------


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


class AnomalyKind(models.TextChoices):
    PAIR_SESSIONS_7D = "pair_sessions_7d", _("同一倾听师与同一用户 7 天内订单次数")
    PAIR_HOURS_DAY = "pair_hours_day", _("同一倾听师与同一用户单日倾诉时长（小时）")
    LISTENER_DAILY_HOURS = "listener_daily_hours", _("倾听师单日倾诉总时长（小时）")
    RATING_SWING_AFTER_REPORT = "rating_swing_after_report", _("被举报诱导改评后的平均评分上升（星）")


def validate_positive_window(value: timedelta) -> None:
    if value is not None and value <= timedelta(0):
        raise ValidationError(_("统计窗口必须大于零，例如 7 天（7 00:00:00）或 1 天（1 00:00:00）。"), code="window")


class AnomalyRule(models.Model):
    """A threshold as data: a finding is a group of sessions in one window whose total exceeds it,
    or, for a rating swing, a rise of the mean rating in the window after a rating-manipulation
    report over the window before it, each side with at least ``min_count`` rated sessions."""

    kind = models.CharField(_("类型"), max_length=32, choices=AnomalyKind.choices)
    window = models.DurationField(
        _("统计窗口"),
        help_text=_("按固定时间段统计，例如 7 天或 1 天；评分波动规则为举报前、后各统计多长时间。"),
        validators=[validate_positive_window],
    )
    threshold = models.DecimalField(
        _("阈值"), max_digits=8, decimal_places=2, help_text=_("超过此值即视为异常：次数、小时数或评分上升的星数。")
    )
    min_count = models.PositiveIntegerField(
        _("最少评分订单数"),
        default=5,
        help_text=_("仅用于评分波动：举报前后的统计窗口内各自至少要有这么多条已评分的订单，才作比较。"),
    )
    active = models.BooleanField(_("启用"), default=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("异常检测规则")
        verbose_name_plural = _("异常检测规则")
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gt=0), name="anomaly_rule_threshold_positive"),
            # A zero or negative window makes date_bin() fail: the scan would find nothing for this rule.
            models.CheckConstraint(
                condition=models.Q(window__gt=timedelta(0)),
                name="anomaly_rule_window_positive",
                violation_error_message=_("统计窗口必须大于零。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} > {self.threshold}"


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


class AnomalyFinding(models.Model):
    """One finding of the anomaly scan, recorded once (unique ``key``: rule, listener, user or report,
    window). It opened its case, or was added to the case still open for the same pattern as a note."""

    key = models.CharField(max_length=120, unique=True)
    rule = models.ForeignKey(AnomalyRule, on_delete=models.PROTECT, related_name="findings", verbose_name=_("异常规则"))
    case = models.ForeignKey(
        "EthicsCase", on_delete=models.PROTECT, related_name="findings", verbose_name=_("伦理案件")
    )
    window_start = models.DateTimeField(_("统计窗口开始"))
    summary = models.TextField(_("发现"))
    found_at = models.DateTimeField(_("发现时间"), default=timezone.now)

    class Meta:
        verbose_name = _("异常检测发现")
        verbose_name_plural = _("异常检测发现")
        ordering = ["found_at", "pk"]

    def __str__(self) -> str:
        return self.key


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


# --- reports about listeners -------------------------------------------------------------


class ReportKind(models.TextChoices):
    RATING_MANIPULATION = "rating_manipulation", _("诱导或要求修改评价")
    VENTING_ON_USERS = "venting_on_users", _("向用户宣泄情绪")
    OTHER = "other", _("其他违反职业伦理的行为")


class ListenerReport(models.Model):
    """A report about a listener, real-name (signed in) or anonymous. Never starts a complaint;
    a supervisor may open an ethics case from it."""

    kind = models.CharField(_("举报类型"), max_length=32, choices=ReportKind.choices)
    listener_code = models.CharField(_("倾听师编号"), max_length=40)
    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="reports", verbose_name=_("倾听师")
    )
    content = models.TextField(_("举报内容"))
    anonymous = models.BooleanField(_("匿名"), default=False)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("举报人"),
    )
    contact = EncryptedTextField(_("联系方式（选填）"), blank=True)
    ethics_case = models.ForeignKey(
        EthicsCase, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name=_("伦理案件")
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("倾听师举报")
        verbose_name_plural = _("倾听师举报")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anonymous=True, reporter__isnull=True)
                | models.Q(anonymous=False, reporter__isnull=False),
                name="listener_report_real_name_has_reporter",
            )
        ]

    def __str__(self) -> str:
        return f"JB-{self.pk:06d}" if self.pk else "JB-"


# --- confidentiality-break reports --------------------------------------------------------


class BreakCategory(models.TextChoices):
    HARM_TO_OTHERS = "harm_to_others", _("正在或计划伤害他人、危害公共安全")
    SERIOUS_PAST_HARM = "serious_past_harm", _("过去已造成严重伤害")
    CHILD_ABUSE = "child_abuse", _("对未满 14 周岁儿童的侵害")


class BreakReportState(models.TextChoices):
    FILED = "filed", _("已报告")
    ACKNOWLEDGED = "acknowledged", _("督导已确认")
    CONCLUDED = "concluded", _("已记录处理结果")


B = BreakReportState


# Its moves (acknowledged, outcome, authority told) on an append-only event table; the encrypted
# account itself is not copied there.
@pghistory.track(
    fields=[
        "state",
        "acknowledged_at",
        "acknowledged_by",
        "authority_notified",
        "authority_name",
        "authority_notified_at",
        "authority_notified_by",
        "outcome_recorded_at",
        "outcome_recorded_by",
    ],
    append_only=True,
    model_name="ConfidentialityBreakReportEvent",
)
class ConfidentialityBreakReport(ConcurrentTransitionMixin, models.Model):
    """A listener reports an illegal act learned in a session (突破保密). Supervisors only;
    every view of it is written to the access log."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("报告人")
    )
    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="confidentiality_reports", verbose_name=_("倾听师")
    )
    category = models.CharField(_("情形"), max_length=32, choices=BreakCategory.choices)
    session_order_no = models.CharField(_("订单号（选填）"), max_length=40, blank=True)
    what_happened = EncryptedTextField(_("经过"))
    state = FSMField(_("状态"), max_length=20, choices=BreakReportState.choices, default=B.FILED, protected=True)
    filed_at = models.DateTimeField(_("报告时间"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认督导"),
    )
    authority_notified = models.BooleanField(_("已报告公安或有关部门"), null=True, blank=True)
    authority_name = models.CharField(_("报告的部门"), max_length=120, blank=True)
    authority_notified_at = models.DateTimeField(_("报告时间"), null=True, blank=True)
    authority_notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("报告人（督导）"),
    )
    outcome = EncryptedTextField(_("处理结果"), blank=True)
    outcome_recorded_at = models.DateTimeField(_("结果记录时间"), null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("结果记录人"),
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("突破保密报告")
        verbose_name_plural = _("突破保密报告")
        ordering = ["-filed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(authority_notified=True)
                | models.Q(authority_notified_at__isnull=False, authority_notified_by__isnull=False),
                name="break_report_authority_when_and_who",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"BM-{self.pk:06d}" if self.pk else "BM-"

    def has_outcome(self) -> bool:
        return self.authority_notified is not None and bool(self.outcome.strip())

    @transition(field=state, source=B.FILED, target=B.ACKNOWLEDGED, permission=_is_supervisor)
    def acknowledge(self) -> None:
        pass

    @transition(
        field=state,
        source=[B.FILED, B.ACKNOWLEDGED],
        target=B.CONCLUDED,
        permission=_is_supervisor,
        conditions=[has_outcome],
    )
    def conclude(self) -> None:
        pass


# --- quality audits of sessions (录音抽检) ----------------------------------------------------


def _score_field(label):
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )


AUDIT_SCORE_FIELDS = ("score_boundaries", "score_empathy", "score_risk_assessment", "score_record_completeness")


class QualityAudit(models.Model):
    """One session drawn at random for a supervisor's quality review in a month (seed 002 §五,
    seed 003 录音抽检). Drawn by supervision.audits; scored on a 1–5 rubric; may open an ethics case."""

    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="quality_audits", verbose_name=_("倾听师")
    )
    session = models.ForeignKey(
        ListeningSession, on_delete=models.PROTECT, related_name="quality_audits", verbose_name=_("倾诉订单")
    )
    # The first day of the month the session was drawn for.
    month = models.DateField(_("抽检月份"), db_index=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("抽检督导"),
    )
    score_boundaries = _score_field(_("专业边界"))
    score_empathy = _score_field(_("共情与倾听"))
    score_risk_assessment = _score_field(_("风险评估"))
    score_record_completeness = _score_field(_("记录完整性"))
    comment = models.TextField(_("抽检意见"), blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    ethics_case = models.ForeignKey(
        EthicsCase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quality_audits",
        verbose_name=_("伦理案件"),
    )
    created_at = models.DateTimeField(_("抽取时间"), default=timezone.now)

    class Meta:
        verbose_name = _("录音抽检")
        verbose_name_plural = _("录音抽检")
        ordering = ["-month", "completed_at", "pk"]
        indexes = [models.Index(fields=["month", "listener"])]
        constraints = [
            models.UniqueConstraint(fields=["session", "month"], name="quality_audit_one_per_session_month"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__isnull": True}) | models.Q(**{f"{f}__gte": 1, f"{f}__lte": 5}),
                    name=f"quality_audit_{f}_1_5",
                )
                for f in AUDIT_SCORE_FIELDS
            ],
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(
                    reviewer__isnull=False,
                    score_boundaries__isnull=False,
                    score_empathy__isnull=False,
                    score_risk_assessment__isnull=False,
                    score_record_completeness__isnull=False,
                ),
                name="quality_audit_completed_has_scores",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"CJ-{self.pk:06d}" if self.pk else "CJ-"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None
