import pghistory
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ListenerStatus(models.TextChoices):
    INTERNSHIP = "internship", _("实习")
    ACTIVE = "active", _("正常接单")
    HIDDEN = "hidden", _("已隐藏")
    SUSPENDED = "suspended", _("暂停接单")
    DELISTED = "delisted", _("已清退")


@pghistory.track()
class ListenerProfile(models.Model):
    """A practitioner on the main platform. Status changes only through listener_set_status."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listener_profile", verbose_name=_("账户")
    )
    code = models.CharField(
        _("倾听师编号"), max_length=40, unique=True, help_text=_("主平台上的编号，导入订单时用它对应。")
    )
    display_name = models.CharField(_("显示名称"), max_length=80)
    status = models.CharField(
        _("状态"), max_length=16, choices=ListenerStatus.choices, default=ListenerStatus.INTERNSHIP
    )
    certificate_number = models.CharField(_("资质证书编号"), max_length=64, blank=True)
    certificate_verified = models.BooleanField(_("资质已核验"), default=False)
    joined_on = models.DateField(_("入驻日期"), default=timezone.localdate)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_listeners",
        verbose_name=_("个人督导"),
    )

    class Meta:
        verbose_name = _("倾听师")
        verbose_name_plural = _("倾听师")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"


# Most severe first: a listener's status is the first of these that an active hold has, else active.
SEVERITY = [ListenerStatus.DELISTED, ListenerStatus.SUSPENDED, ListenerStatus.HIDDEN, ListenerStatus.INTERNSHIP]


class HoldEnd(models.TextChoices):
    """What ends a hold. The services of the app that placed it decide when that has happened."""

    CASE_DONE = "case_done", _("本案任务全部核实且所要求的面试结束")
    PLAN_VERIFIED = "plan_verified", _("改进计划全部核实")
    INTERVIEW_PASSED = "interview_passed", _("重新申请后面试合格")
    MANUAL = "manual", _("督导解除")
    NEVER = "never", _("不解除（仅撤销原决定时解除）")


class ListenerHold(models.Model):
    """One thing that restricts a listener: a decision, ethics decision, interview result or a
    supervisor's manual change. The listener's status is computed from the active holds
    (``listeners.holds``), never written by hand, so one case can never undo another's."""

    listener = models.ForeignKey(ListenerProfile, on_delete=models.CASCADE, related_name="holds")
    effect = models.CharField(
        _("限制"),
        max_length=16,
        choices=[(s.value, s.label) for s in SEVERITY],  # never "active"
    )
    ends = models.CharField(_("解除条件"), max_length=20, choices=HoldEnd.choices)
    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    reason = models.TextField(_("原因"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField(_("生效时间"), default=timezone.now)
    released_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_reason = models.TextField(_("解除原因"), blank=True)

    class Meta:
        verbose_name = _("限制措施")
        verbose_name_plural = _("限制措施")
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["listener", "released_at"])]
        constraints = [
            # One active hold per source (a manual change is the source-less one).
            models.UniqueConstraint(
                fields=["listener", "source_type", "source_id"],
                condition=models.Q(released_at__isnull=True),
                nulls_distinct=False,
                name="listener_hold_one_active_per_source",
            ),
            models.CheckConstraint(condition=~models.Q(effect="active"), name="listener_hold_effect_restricts"),
        ]

    def __str__(self) -> str:
        return f"{self.listener_id}: {self.effect} ({self.ends})"

    @property
    def active(self) -> bool:
        return self.released_at is None

    def severity(self) -> int:
        """Smaller is more severe."""
        return SEVERITY.index(ListenerStatus(self.effect))


class ListenerStatusChange(models.Model):
    """Append-only history: why a listener's status is what it is."""

    listener = models.ForeignKey(ListenerProfile, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("原状态"), max_length=16, choices=ListenerStatus.choices)
    to_status = models.CharField(_("新状态"), max_length=16, choices=ListenerStatus.choices)
    reason = models.TextField(_("原因"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    # The decision or interview that caused the change, when there is one.
    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    # The hold that decides the new status (None when the listener became active).
    hold = models.ForeignKey(
        "ListenerHold",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("决定状态的限制"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.listener_id}: {self.from_status} → {self.to_status}"


class Channel(models.TextChoices):
    VOICE = "voice", _("语音")
    TEXT = "text", _("文字")


class ListeningSession(models.Model):
    """One paid session on the main platform; imported, never edited here by hand."""

    order_no = models.CharField(_("订单号"), max_length=40, unique=True)
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listening_sessions", verbose_name=_("用户")
    )
    listener = models.ForeignKey(
        ListenerProfile, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("倾听师")
    )
    channel = models.CharField(_("形式"), max_length=8, choices=Channel.choices)
    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    duration_minutes = models.PositiveIntegerField(_("时长（分钟）"))
    amount = models.DecimalField(_("金额（元）"), max_digits=10, decimal_places=2)
    rating = models.PositiveSmallIntegerField(
        _("评分"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    imported_at = models.DateTimeField(_("导入时间"), auto_now=True)

    class Meta:
        verbose_name = _("倾诉订单")
        verbose_name_plural = _("倾诉订单")
        ordering = ["-started_at"]
        permissions = [("import_listeningsession", _("可从主平台导入倾诉订单"))]
        indexes = [models.Index(fields=["listener", "started_at"]), models.Index(fields=["complainant", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="listening_session_rating_1_5",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="listening_session_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return self.order_no
