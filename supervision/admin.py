from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AnomalyRule, EthicsCase, EthicsCaseEvent, ListenerReport, QualityAudit


@admin.register(AnomalyRule)
class AnomalyRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "window", "threshold", "min_count", "active", "description"]
    list_filter = ["kind", "active"]


class EthicsCaseEventInline(admin.TabularInline):
    model = EthicsCaseEvent
    fields = ("created_at", "kind", "actor", "from_state", "to_state", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EthicsCase)
class EthicsCaseAdmin(ReadOnlyAdmin):
    """Read-only: cases move only through the supervision services."""

    list_display = ["reference", "source", "listener", "state", "grade", "opened_at"]
    list_filter = ["state", "source"]
    search_fields = ["listener__code"]
    list_select_related = ["listener", "grade"]
    exclude = ["user"]
    inlines = [EthicsCaseEventInline]


@admin.register(ListenerReport)
class ListenerReportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "listener_code", "anonymous", "ethics_case", "created_at"]
    list_filter = ["kind", "anonymous"]
    exclude = ["contact", "reporter", "content"]


# ConfidentialityBreakReport is deliberately not in the admin: its own pages log every view.


@admin.register(QualityAudit)
class QualityAuditAdmin(ReadOnlyAdmin):
    """Read-only: audits are drawn by supervision.audits and scored on the audit page, where a
    completed audit is final; nobody rewrites one here."""

    list_display = ("month", "listener", "session", "reviewer", "completed_at", "ethics_case")
    list_filter = ("month", ("completed_at", admin.EmptyFieldListFilter))
    search_fields = ("listener__code", "session__order_no")
    list_select_related = ("listener", "session", "reviewer", "ethics_case")
