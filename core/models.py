import uuid

import pgtrigger
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .deadline_kinds import DeadlineKind as DeadlineKind  # re-exported: answered from the apps' declarations
from .deadline_kinds import deadline_kind_choices


class AccessLog(models.Model):
    """Append-only record of every reveal of sensitive data: who, what, which case, why."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("查看人"))
    action = models.CharField(_("操作"), max_length=32, default="reveal")
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=64)
    case_reference = models.CharField(_("案件编号"), max_length=32, blank=True, db_index=True)
    field = models.CharField(_("字段"), max_length=64)
    reason = models.TextField(_("理由"))
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("敏感信息访问记录")
        verbose_name_plural = _("敏感信息访问记录")
        ordering = ["-created_at"]
        triggers = [pgtrigger.Protect(name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.object_type}:{self.object_id}.{self.field}"


class DeadlinePolicy(models.Model):
    """How long each kind of obligation may take, when to remind, whom to escalate to.
    Edited by supervisors in the admin; nothing about deadlines is hard-coded."""

    kind = models.CharField(_("类型"), max_length=32, choices=deadline_kind_choices, unique=True)
    duration = models.DurationField(_("时限"))
    remind_before = models.DurationField(_("提前提醒"))
    escalate_to_supervisors = models.BooleanField(_("超时通知督导"), default=True)
    raise_priority = models.BooleanField(_("超时提高案件优先级"), default=True)
    business_hours = models.BooleanField(
        _("按工作时间计算"), default=False, help_text=_("工作日 9:00–18:00，节假日表中的日期除外。")
    )

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class Holiday(models.Model):
    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=40)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Deadline(models.Model):
    """One obligation with a due time. PostgreSQL holds the truth; the sweep acts on it."""

    class State(models.TextChoices):
        OPEN = "open", _("进行中")
        MET = "met", _("已按时完成")
        BREACHED = "breached", _("已超时")
        CANCELLED = "cancelled", _("已取消")

    subject_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    subject_id = models.PositiveBigIntegerField()
    label = models.CharField(_("事项"), max_length=64, help_text=_("例如投诉编号。"))
    link = models.CharField(_("链接"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=32, choices=deadline_kind_choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deadlines",
        verbose_name=_("负责人"),
    )
    owner_role = models.CharField(_("负责团队"), max_length=32, blank=True, help_text=_("没有负责人时提醒整个团队。"))
    starts_at = models.DateTimeField(_("开始"))
    due_at = models.DateTimeField(_("期限"), db_index=True)
    remind_at = models.DateTimeField(_("提醒时间"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.OPEN)
    reminded_at = models.DateTimeField(_("已提醒"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("已上报"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完成或取消时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["remind_at"], name="deadline_reminder_due", condition=models.Q(state="open", reminded_at=None)
            ),
            models.Index(fields=["due_at"], name="deadline_open_due", condition=models.Q(state="open")),
            models.Index(fields=["subject_type", "subject_id", "kind"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind"],
                condition=models.Q(state="open"),
                name="one_open_deadline_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.get_kind_display()} {self.due_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """A message to one person: shown in-app, and mailed by a Celery task that records the outcome."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("收件人")
    )
    kind = models.CharField(_("类型"), max_length=48)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=200, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    # A retry or a second worker creating "the same" notification is a no-op.
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读"), null=True, blank=True)
    email_queued_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(_("邮件已发送"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_failed_at = models.DateTimeField(_("邮件发送失败"), null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(
                fields=["email_queued_at"],
                name="notification_email_pending",
                condition=models.Q(email_sent_at=None, email_failed_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class OutboxEvent(models.Model):
    """A fact the main platform must act on (a listener's new status, an approved money remedy).

    Written in the same transaction as the change it reports, so it exists if and only if the
    change does; a Celery task then delivers it as a signed webhook and records the outcome here.
    """

    event_id = models.UUIDField(_("事件编号"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=64, db_index=True)
    # Plain data about listeners and money only: it leaves Hearken, so no complainant identity.
    payload = models.JSONField(_("内容"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    failed_at = models.DateTimeField(_("放弃时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        verbose_name = _("主平台事件")
        verbose_name_plural = _("主平台事件")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_event_pending",
                condition=models.Q(delivered_at=None, failed_at=None),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class WebhookDelivery(models.Model):
    """One attempt to deliver an outbox event: what the main platform answered, or why not."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("事件"))
    attempted_at = models.DateTimeField(_("尝试时间"), default=timezone.now, db_index=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP 状态码"), null=True, blank=True)
    response_excerpt = models.TextField(_("响应摘录"), blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("Webhook 投递记录")
        verbose_name_plural = _("Webhook 投递记录")
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.status_code or self.error[:40]}"
