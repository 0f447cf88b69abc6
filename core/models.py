import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
