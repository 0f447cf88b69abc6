"""Interviews in the admin for supervisors and reviewers: a thin edge over interviews.services.

State, scores and materials are read-only here; slots are published, panels set and plan items
verified through their services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import STAFF_ROLES, Role

from .models import (
    OPEN_STATES,
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewScore,
    InterviewSlot,
    ScoringArea,
    ScoringItem,
)
from .services import panel_set, plan_item_verify, slot_publish


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlotInline(ReadOnlyInline):
    model = InterviewSlot
    fields = ["starts_at", "ends_at", "published_by"]
    readonly_fields = ["starts_at", "ends_at", "published_by"]


class MaterialInline(ReadOnlyInline):
    model = InterviewMaterial
    fields = ["kind", "file_name", "content_type", "uploaded_at"]
    readonly_fields = ["kind", "file_name", "content_type", "uploaded_at"]


class ScoreInline(ReadOnlyInline):
    model = InterviewScore
    fields = ["item", "score", "comment"]
    readonly_fields = ["item", "score", "comment"]


class PlanItemInline(ReadOnlyInline):
    model = InterviewPlanItem
    fields = ["kind", "state", "due_at", "completion_note", "verified_by", "verified_at"]
    readonly_fields = ["kind", "state", "due_at", "completion_note", "verified_by", "verified_at"]


def _staff() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=[r.value for r in STAFF_ROLES]).distinct()


class PanelForm(forms.Form):
    main_interviewer = forms.ModelChoiceField(
        label=gettext_lazy("主面试官"),
        queryset=User.objects.filter(
            is_active=True, groups__name__in=[Role.REVIEWER.value, Role.SUPERVISOR.value]
        ).distinct(),
    )
    observers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("观察员"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["observers"].queryset = _staff()  # type: ignore[attr-defined]


@admin.register(CompetencyInterview)
class CompetencyInterviewAdmin(admin.ModelAdmin):
    list_display = ["listener", "state", "slot_time", "main_interviewer", "total_score", "band", "created_at"]
    list_filter = ["state", "band"]
    search_fields = ["listener__code", "listener__display_name", "meeting_number"]
    list_select_related = ["listener", "main_interviewer", "slot"]
    inlines = [SlotInline, MaterialInline, ScoreInline, PlanItemInline]
    readonly_fields = [
        "listener",
        "complaint",
        "reason",
        "requested_by",
        "state",
        "created_at",
        "meeting_number",
        "main_interviewer",
        "observer_names",
        "panel_link",
        "held_started_at",
        "held_ended_at",
        "total_score",
        "feedback",
        "scored_by",
        "scored_at",
        "band",
        "interim_status",
        "result_sent_at",
        "eligible_to_reapply_at",
    ]
    exclude = ["observers"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Interviews are opened by a decision's measure or by interview_request.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CompetencyInterview]:
        return super().get_queryset(request).prefetch_related("observers")

    @admin.display(description=gettext_lazy("面试时段"))
    def slot_time(self, obj: CompetencyInterview) -> str:
        slot = getattr(obj, "slot", None)
        return str(slot) if slot else "—"

    @admin.display(description=gettext_lazy("观察员"))
    def observer_names(self, obj: CompetencyInterview) -> str:
        return "、".join(str(u) for u in obj.observers.all()) or "—"

    @admin.display(description=gettext_lazy("面试小组"))
    def panel_link(self, obj: CompetencyInterview) -> str:
        if obj.state not in OPEN_STATES:
            return "—"
        url = reverse("admin:interviews_competencyinterview_panel", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("设置面试小组"))

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/panel/",
                self.admin_site.admin_view(self.panel_view),
                name="interviews_competencyinterview_panel",
            ),
            *super().get_urls(),
        ]

    def panel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        interview = self.get_object(request, unquote(object_id))
        if interview is None:
            raise Http404
        user = request.user
        assert isinstance(user, User)
        if not (user.is_superuser or user.has_role(Role.SUPERVISOR)):
            raise PermissionDenied
        initial = {"main_interviewer": interview.main_interviewer, "observers": list(interview.observers.all())}
        form = PanelForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                panel_set(
                    interview=interview,
                    main_interviewer=form.cleaned_data["main_interviewer"],
                    observers=form.cleaned_data["observers"],
                    actor=user,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("面试小组已保存。"))
                return HttpResponseRedirect(reverse("admin:interviews_competencyinterview_change", args=[interview.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "interview": interview,
            "form": form,
            "title": _("设置面试小组"),
        }
        return TemplateResponse(request, "admin/interviews/competencyinterview/panel.html", context)


class SlotForm(forms.ModelForm):
    class Meta:
        model = InterviewSlot
        fields = ["starts_at", "ends_at"]


@admin.register(InterviewSlot)
class InterviewSlotAdmin(admin.ModelAdmin):
    form = SlotForm
    list_display = ["__str__", "published_by", "interview"]
    list_filter = [("interview", admin.EmptyFieldListFilter)]
    list_select_related = ["published_by", "interview__listener"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["starts_at", "ends_at", "published_by", "interview"] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.interview_id is None

    def save_model(self, request: HttpRequest, obj: InterviewSlot, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        user = request.user
        assert isinstance(user, User)
        try:
            saved = slot_publish(starts_at=obj.starts_at, ends_at=obj.ends_at, actor=user)
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.pk = saved.pk


@admin.register(InterviewPlanItem)
class InterviewPlanItemAdmin(admin.ModelAdmin):
    list_display = ["interview", "kind", "state", "due_at", "verified_by"]
    list_filter = ["state", "kind"]
    readonly_fields = [f.name for f in InterviewPlanItem._meta.fields]
    actions = ["verify"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("核实所选改进计划项"))
    def verify(self, request: HttpRequest, queryset: QuerySet[InterviewPlanItem]) -> None:
        user = request.user
        assert isinstance(user, User)
        done = 0
        for item in queryset.filter(~Q(state="verified")):
            plan_item_verify(item=item, actor=user)
            done += 1
        messages.success(request, _("已核实 %(n)d 项。") % {"n": done})


class ScoringItemInline(admin.TabularInline):
    model = ScoringItem
    extra = 0
    fields = ["code", "name", "weight", "max_score", "position"]


@admin.register(ScoringArea)
class ScoringAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "weight", "position"]
    inlines = [ScoringItemInline]
