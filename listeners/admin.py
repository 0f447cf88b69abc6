from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy

from core.admin import ReadOnlyAdmin

from .models import ListenerProfile, ListenerStatusChange, ListeningSession


class StatusChangeInline(admin.TabularInline):
    model = ListenerStatusChange
    fk_name = "listener"
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "reason", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(ListenerProfile)
class ListenerProfileAdmin(admin.ModelAdmin):
    list_display = ("code", "display_name", "status", "certificate_verified", "joined_on")
    list_filter = ("status", "certificate_verified")
    search_fields = ("code", "display_name", "user__email")
    raw_id_fields = ("user", "supervisor")
    # Status changes go through listener_set_status so each one has a reason on record.
    readonly_fields = ("status",)
    inlines = [StatusChangeInline]


@admin.register(ListeningSession)
class ListeningSessionAdmin(admin.ModelAdmin):
    list_display = ("order_no", "listener", "channel", "started_at", "duration_minutes", "amount", "rating")
    list_filter = ("channel", "rating", ("started_at", admin.DateFieldListFilter))
    search_fields = ("order_no", "listener__code", "listener__display_name")
    list_select_related = ("listener",)
    raw_id_fields = ("listener",)
    # Who the user is stays out of the session pages: an investigation sees metadata first and
    # reveals a person only with a logged reason (ethics case page, complaint reveal).
    exclude = ("complainant",)
    readonly_fields = ("user_ref",)
    date_hierarchy = "started_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        # Sessions come from the main platform (API or CSV import), never typed in.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("用户"))
    def user_ref(self, obj: ListeningSession) -> str:
        return gettext("用户 #%(id)s") % {"id": obj.complainant_id}


@admin.register(ListenerStatusChange)
class ListenerStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("listener", "from_status", "to_status", "actor", "created_at")
    list_filter = ("to_status",)
    search_fields = ("listener__code", "listener__display_name", "reason")
    list_select_related = ("listener", "actor")
