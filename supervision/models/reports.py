"""Reports."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from listeners.models import ListenerProfile

from .ethics import EthicsCase


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
