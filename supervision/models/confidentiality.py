"""Confidentiality."""

import pghistory
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.crypto import EncryptedTextField
from listeners.models import ListenerProfile

from .common import _is_supervisor


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
