"""Anomalies."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
