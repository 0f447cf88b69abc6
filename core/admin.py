from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from . import access
from .models import AccessLog, Deadline, DeadlinePolicy, Holiday, Notification, OutboxEvent, WebhookDelivery


class PolicyAdmin(admin.ModelAdmin):
    """An admin whose rows are those the access policy lets the user see (``core.access``), and
    where someone else's object is a 404 on every page (change, history, delete, custom views),
    as in the API and the HTML pages — not the stock redirect that says it does not exist."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.is_registered(self.model):
            queryset = access.visible(request.user, queryset)
        return queryset

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


class ReadOnlyAdmin(PolicyAdmin):
    """Records written only by services (logs, deadlines, deliveries): nobody adds, edits or deletes
    them here, superusers included."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
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


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    """Supervisors set how long each stage may take; new deadlines follow the change."""

    list_display = ("kind", "duration", "remind_before", "business_hours", "escalate_to_supervisors", "raise_priority")
    list_editable = ("business_hours", "escalate_to_supervisors", "raise_priority")
    fields = ("kind", "duration", "remind_before", "business_hours", "escalate_to_supervisors", "raise_priority")

    def get_readonly_fields(self, request, obj=None):
        return ("kind",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name")
    date_hierarchy = "date"


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    """What is due and what breached; rows change only through the workflow and the sweep."""

    list_display = ("label", "kind", "state", "owner", "owner_role", "due_at", "reminded_at", "escalated_at")
    list_filter = ("state", "kind", ("due_at", admin.DateFieldListFilter))
    search_fields = ("=label", "owner__email")
    list_select_related = ("owner",)
    show_full_result_count = False
    ordering = ("due_at",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The delivery log: every notification, whether its email went out, and why not."""

    list_display = ("created_at", "recipient", "kind", "subject", "urgent", "email_sent_at", "email_failed_at")
    list_filter = (
        "kind",
        "urgent",
        ("email_sent_at", admin.EmptyFieldListFilter),
        ("email_failed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("recipient__email", "subject")
    list_select_related = ("recipient",)
    show_full_result_count = False
    readonly_fields = [f.name for f in Notification._meta.fields]


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = ("attempted_at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields
    ordering = ("-attempted_at", "-id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    """What Hearken told (or is telling) the main platform, and every delivery attempt.
    Read-only for everyone: events are written by services and changed only by delivery."""

    list_display = ("created_at", "kind", "event_id", "attempts", "delivered_at", "failed_at", "next_attempt_at")
    list_filter = (
        "kind",
        ("delivered_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("=event_id",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "event_id",
        "kind",
        "payload",
        "created_at",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "failed_at",
        "last_error",
    )
    readonly_fields = fields
    inlines = [WebhookDeliveryInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Every attempt across events, to see at a glance whether the platform is answering."""

    list_display = ("attempted_at", "event", "status_code", "duration_ms", "error")
    list_filter = ("status_code", ("attempted_at", admin.DateFieldListFilter))
    search_fields = ("=event__event_id",)
    list_select_related = ("event",)
    date_hierarchy = "attempted_at"
    show_full_result_count = False
    fields = ("event", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields
