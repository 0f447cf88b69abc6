from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, gettext_lazy

from core.admin import PolicyAdmin, ReadOnlyAdmin

from .holds import hold_lift, listener_set_status
from .models import HoldEnd, ListenerHold, ListenerProfile, ListenerStatus, ListenerStatusChange, ListeningSession


class HoldInline(admin.TabularInline):
    """What restricts the listener now and before: the status is the most severe active one."""

    model = ListenerHold
    fk_name = "listener"
    extra = 0
    can_delete = False
    fields = ("placed_at", "effect", "ends", "reason", "released_at", "released_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
    # The status is computed from holds (listeners.holds); a supervisor restricts by hand on the
    # holds page, so each change has a reason on record.
    readonly_fields = ("status",)
    inlines = [HoldInline, StatusChangeInline]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new listener starts in internship: a supervisor's hold, lifted on the holds page.
        obj.status = ListenerStatus.ACTIVE
        super().save_model(request, obj, form, change)
        listener_set_status(
            listener=obj, status=ListenerStatus.INTERNSHIP, reason=gettext("新入驻，实习期"), actor=request.user
        )


@admin.register(ListenerHold)
class ListenerHoldAdmin(PolicyAdmin):
    """Supervisors place a manual hold here (it replaces the listener's previous manual one) and
    lift holds that end by hand; every other hold is placed and released by its case."""

    list_display = ("listener", "effect", "ends", "placed_at", "released_at", "short_reason")
    list_filter = ("effect", "ends", ("released_at", admin.EmptyFieldListFilter))
    search_fields = ("listener__code", "listener__display_name", "reason")
    list_select_related = ("listener",)
    raw_id_fields = ("listener",)
    fields = ("listener", "effect", "reason")
    actions = ["lift_selected"]

    @admin.display(description=gettext_lazy("原因"))
    def short_reason(self, obj: ListenerHold) -> str:
        return obj.reason[:60]

    def get_readonly_fields(self, request, obj=None):
        return ("listener", "effect", "reason") if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        placed = listener_set_status(listener=obj.listener, status=obj.effect, reason=obj.reason, actor=request.user)
        saved = placed.holds.filter(released_at__isnull=True, source_type__isnull=True).first()
        obj.pk = saved.pk if saved is not None else None

    @admin.action(description=gettext_lazy("解除所选的手动限制"), permissions=["change"])
    def lift_selected(self, request, queryset) -> None:
        lifted = refused = 0
        for hold in queryset.filter(released_at__isnull=True):
            if hold.ends != HoldEnd.MANUAL:
                refused += 1
                continue
            try:
                lifted += hold_lift(hold=hold, reason=gettext("督导手动解除"), actor=request.user)
            except PermissionDenied:
                refused += 1
        if lifted:
            self.message_user(request, gettext("已解除 %(n)s 项限制。") % {"n": lifted}, messages.SUCCESS)
        if refused:
            self.message_user(
                request, gettext("%(n)s 项限制按规则解除，不能手动解除。") % {"n": refused}, messages.WARNING
            )


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
