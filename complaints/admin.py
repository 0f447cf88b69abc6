"""Triage in the admin: a thin edge over complaints.services.

Nothing here saves a Complaint directly. Every change (classification, assignment, each
transition, a note, a reveal of identity, an entry on a complainant's behalf) is one
service call; the admin validates input, calls it, and shows the outcome. ``state`` is
never a form field and identity is shown masked, except once, on the reveal page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, Q, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from core.admin import PolicyAdmin
from core.deadlines import overdue_subjects
from core.service_errors import add_service_errors as add_service_errors  # re-exported: the one adapter

from . import admin_views
from .admin_changelist import TriageChangeList
from .admin_forms import USER_CHOICE_FIELDS, ComplaintChangeForm, users_with_role
from .admin_views import IDENTITY_LABELS, reply_template_fill, transitions_for
from .models import Complaint, CrisisTerm, Demand, ReplyTemplate
from .selectors import attachments_for, complaint_list_for, timeline_for
from .services import REVEALABLE_FIELDS, ComplaintConflict, can_reveal_identity, complaint_assign, complaint_classify
from .triage_context import triage_context


def age_label(since: datetime, now: datetime | None = None) -> str:
    seconds = max(((now or timezone.now()) - since).total_seconds(), 0)
    if seconds < 3600:
        n = int(seconds // 60)
        return ngettext("%(n)d 分钟", "%(n)d 分钟", n) % {"n": n}
    if seconds < 24 * 3600:
        n = int(seconds // 3600)
        return ngettext("%(n)d 小时", "%(n)d 小时", n) % {"n": n}
    n = int(seconds // (24 * 3600))
    return ngettext("%(n)d 天", "%(n)d 天", n) % {"n": n}


# --- list filters ------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    """First response late, or any stage deadline breached and still unanswered."""

    title = gettext_lazy("超时")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("有超时事项")), ("no", _("没有超时事项"))]

    def queryset(self, request, queryset):
        overdue = Q(first_response_at__isnull=True, first_response_due__lt=timezone.now()) | Q(overdue=True)
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = gettext_lazy("分派")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("分派给我")), ("nobody", _("未分派顾问"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(Q(assigned_consultant=request.user) | Q(assigned_reviewer=request.user))
        if self.value() == "nobody":
            return queryset.filter(assigned_consultant__isnull=True)
        return queryset


# --- forms -----------------------------------------------------------------------


# --- the complaint admin -----------------------------------------------------------

# What the changelist's columns, its overdue mark and its bulk action read from each row.
LIST_COLUMNS = (
    "reference",
    "state",
    "category",
    "priority",
    "crisis",
    "submitted_at",
    "first_response_due",
    "first_response_at",
    "version",
    "listener__code",
    "listener__display_name",
    "assigned_consultant__display_name",
    "assigned_consultant__email",
)


@admin.register(Complaint)
class ComplaintAdmin(PolicyAdmin):
    form = ComplaintChangeForm
    list_display = (
        "reference",
        "state",
        "category",
        "priority",
        "crisis",
        "listener",
        "assigned_consultant",
        "age",
        "first_response_due_display",
    )
    list_display_links = ("reference",)
    list_filter = ("state", "category", "priority", "crisis", OverdueFilter, AssignedFilter)
    list_select_related = ("listener", "assigned_consultant")
    search_fields = ("reference", "=session__order_no")
    search_help_text = gettext_lazy("按投诉编号或订单号搜索")
    show_full_result_count = False
    actions = ["assign_to_consultant"]

    fieldsets_case = (
        (
            gettext_lazy("案件"),
            {
                "fields": (
                    "reference",
                    "state",
                    "session",
                    "listener",
                    "intake_channel",
                    "submitted_at",
                    "first_response_due_display",
                    "first_response_at",
                    "content",
                    "demands_display",
                    "demands_other",
                )
            },
        ),
        (
            gettext_lazy("知情同意"),
            {"fields": ("consent_text", "consent_method", "consent_at", "consent_recorded_by")},
        ),
    )
    fieldsets_handling = (
        gettext_lazy("分类与分派"),
        {"fields": ("category", "priority", "assigned_consultant", "assigned_reviewer")},
    )
    fieldsets_outcome = (
        (
            gettext_lazy("危机信号与重复"),
            {"fields": ("crisis", "crisis_terms_display", "duplicate_of", "merged_into", "merged_duplicates")},
        ),
        (gettext_lazy("处理结果"), {"fields": ("resolution", "rejection_reason")}),
    )
    always_readonly = (
        "reference",
        "state",
        "session",
        "listener",
        "intake_channel",
        "submitted_at",
        "first_response_due_display",
        "first_response_at",
        "content",
        "demands_display",
        "demands_other",
        "consent_text",
        "consent_method",
        "consent_at",
        "consent_recorded_by",
        "crisis",
        "crisis_terms_display",
        "duplicate_of",
        "merged_into",
        "merged_duplicates",
        "resolution",
        "rejection_reason",
    )

    # --- queryset and permissions ---

    def get_queryset(self, request):
        queryset = complaint_list_for(request.user).annotate(overdue=Exists(overdue_subjects(Complaint)))
        match = request.resolver_match
        if match is not None and match.url_name == "complaints_complaint_changelist":
            # Only the columns the list shows: no identity (nor a consultant's encrypted phone)
            # is fetched or decrypted, and no long text is carried for 100 rows.
            queryset = queryset.select_related(None).select_related(*self.list_select_related).only(*LIST_COLUMNS)
        return queryset

    def get_changelist(self, request, **kwargs):
        return TriageChangeList

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_assign_permission(self, request) -> bool:
        return request.user.has_perm("complaints.assign_complaint")

    # --- list columns ---

    @admin.display(description=gettext_lazy("已受理"), ordering="-submitted_at")
    def age(self, obj: Complaint) -> str:
        return age_label(obj.submitted_at)

    @admin.display(description=gettext_lazy("首次回应期限"), ordering="first_response_due")
    def first_response_due_display(self, obj: Complaint) -> str:
        due = date_format(timezone.localtime(obj.first_response_due), "SHORT_DATETIME_FORMAT")
        if obj.first_response_overdue or getattr(obj, "overdue", False):
            return format_html(
                '{} <strong class="overdue"><img src="{}" alt=""> {}</strong>',
                due,
                static("admin/img/icon-alert.svg"),
                _("已超时"),
            )
        return due

    # --- change page fields ---

    @admin.display(description=gettext_lazy("诉求"))
    def demands_display(self, obj: Complaint) -> str:
        labels = dict(Demand.choices)
        return "、".join(str(labels.get(d, d)) for d in obj.demands) or "-"

    @admin.display(description=gettext_lazy("命中词"))
    def crisis_terms_display(self, obj: Complaint) -> str:
        return "、".join(obj.crisis_terms) or "-"

    @admin.display(description=gettext_lazy("已合并到本案的重复投诉"))
    def merged_duplicates(self, obj: Complaint) -> str:
        duplicates = list(obj.merged.order_by("submitted_at").values_list("pk", "reference"))
        if not duplicates:
            return "-"
        return format_html_join(
            "、",
            '<a href="{}">{}</a>',
            ((reverse("admin:complaints_complaint_change", args=[pk]), ref) for pk, ref in duplicates),
        )

    def get_fieldsets(self, request, obj=None):
        handling_fields = list(self.fieldsets_handling[1]["fields"])
        if obj is not None and self.has_change_permission(request, obj):
            handling_fields.append("expected_version")
        return (
            *self.fieldsets_case,
            (self.fieldsets_handling[0], {"fields": handling_fields}),
            *self.fieldsets_outcome,
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.always_readonly)
        if not request.user.has_perm("complaints.triage_complaint"):
            readonly += ["category", "priority"]
        if not self.has_assign_permission(request):
            readonly += ["assigned_consultant", "assigned_reviewer"]
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        roles = {"assigned_consultant": Role.CONSULTANT, "assigned_reviewer": Role.REVIEWER}
        if db_field.name in roles:
            # What an option shows and an assignment's notice reads; not the encrypted phone.
            kwargs["queryset"] = users_with_role(roles[db_field.name]).only(*USER_CHOICE_FIELDS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Classification, then assignment, each through its service and checked against the version."""
        if not change:
            raise PermissionDenied  # the add page is add_view, which calls complaint_submit
        data, changed = form.cleaned_data, set(form.changed_data)
        version = data["expected_version"]
        if changed & {"category", "priority"}:
            complaint_classify(
                complaint=obj,
                actor=request.user,
                category=data.get("category", obj.category),
                priority=int(data.get("priority", obj.priority)),
                expected_version=version,
            )
            version = obj.version
        consultant = data.get("assigned_consultant") if "assigned_consultant" in changed else None
        reviewer = data.get("assigned_reviewer") if "assigned_reviewer" in changed else None
        if consultant is not None or reviewer is not None:
            complaint_assign(
                complaint=obj, actor=request.user, consultant=consultant, reviewer=reviewer, expected_version=version
            )

    def save_related(self, request, form, formsets, change):
        """Nothing to save: the services above wrote everything."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The triage panel at the top of the page; built only if the page is rendered.
        panel = SimpleLazyObject(lambda: triage_context(request.user, unquote(object_id)))
        extra_context = {**(extra_context or {}), "triage": panel}
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except ComplaintConflict as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return HttpResponseRedirect(request.path)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context.update(self.case_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def case_context(self, request: AuthedHttpRequest, obj: Complaint) -> dict[str, Any]:
        may_reveal = can_reveal_identity(request.user, obj)
        return {
            "identity": [
                {"field": f, "label": IDENTITY_LABELS[f], "masked": getattr(obj, f"masked_{f}")}
                for f in REVEALABLE_FIELDS
            ],
            "may_reveal": may_reveal,
            # The download view checks permission again before it streams a file.
            "attachments": [(a, reverse("complaints:attachment", args=[a.public_id])) for a in attachments_for(obj)],
            "timeline": timeline_for(obj, complainant_view=False),
            "complaint_transitions": transitions_for(request.user, obj),
            "may_add_note": request.user.is_case_staff and self.has_view_permission(request, obj),
            "first_response_overdue": obj.first_response_overdue and obj.is_open,
        }

    # --- custom views ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/reveal/<str:field>/",
                wrap(self.reveal_view),
                name="{}_{}_reveal".format(*info),
            ),
            path(
                "<path:object_id>/transition/<str:name>/",
                wrap(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            path("<path:object_id>/note/", wrap(self.note_view), name="{}_{}_note".format(*info)),
            *super().get_urls(),
        ]

    def reveal_view(self, request: AuthedHttpRequest, object_id: str, field: str) -> HttpResponse:
        return admin_views.reveal_view(self, request, object_id, field)

    def transition_view(self, request: AuthedHttpRequest, object_id: str, name: str) -> HttpResponse:
        return admin_views.transition_view(self, request, object_id, name)

    def note_view(self, request: AuthedHttpRequest, object_id: str) -> HttpResponse:
        return admin_views.note_view(self, request, object_id)

    # --- entering a complaint on a complainant's behalf ---

    def add_view(self, request, form_url="", extra_context=None):
        return admin_views.on_behalf_add_view(self, request)

    # --- bulk actions ---

    @admin.action(description=gettext_lazy("分派给咨询顾问…"), permissions=["assign"])
    def assign_to_consultant(self, request: AuthedHttpRequest, queryset: QuerySet[Complaint]) -> HttpResponse | None:
        return admin_views.bulk_assign(self, request, queryset)


# --- reference data ------------------------------------------------------------------


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "active")
    list_filter = ("active", "category")
    search_fields = ("title", "body")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["help_texts"] = {
            "body": _("可用占位符：{reference}（投诉编号）、{order_no}（订单号）、{listener}（倾听师）。"),
        }
        return super().get_form(request, obj, change, **kwargs)


@admin.register(CrisisTerm)
class CrisisTermAdmin(admin.ModelAdmin):
    list_display = ("phrase", "active")
    list_filter = ("active",)
    search_fields = ("phrase",)


__all__ = ["ComplaintAdmin", "CrisisTermAdmin", "ReplyTemplateAdmin", "reply_template_fill"]
