from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the log is append-only (a trigger forbids
    updates and deletes) and only supervisors hold ``core.view_accesslog``."""

    list_display = ("created_at", "actor", "case_reference", "field", "action", "short_reason", "ip_address")
    list_filter = ("action", "field", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=case_reference", "actor__email", "actor__display_name")
    search_help_text = _("按案件编号（完整）、查看人邮箱或姓名搜索")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "case_reference",
        "field",
        "reason",
        "ip_address",
    )
    readonly_fields = fields

    @admin.display(description=_("理由"))
    def short_reason(self, obj: AccessLog) -> str:
        return obj.reason if len(obj.reason) <= 60 else obj.reason[:60] + "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
