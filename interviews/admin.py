"""Interviews in the admin for supervisors and reviewers: a thin edge over interviews.services.

State, scores and materials are read-only here; slots are published, panels set, interviews moved
along (open scheduling, held, no-show, scored, result sent) and plan items verified through their
services, each from its own page. A page's button shows on the change page only to someone the
service would let act, and only in a state the service accepts; anyone else gets a 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.policy import is_supervisor as _is_supervisor
from core.admin import PolicyAdmin

from .models import (
    OPEN_STATES,
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewScore,
    InterviewSlot,
    PlanItemState,
    ScoringArea,
    ScoringItem,
)
from .plan_review_views import PlanItemReviewPages
from .services import plan_item_verify, slot_publish, slot_times_check
from .staff_views import STAFF_ACTIONS, InterviewStaffPages


def _plan_evidence_link(item: InterviewPlanItem) -> str:
    if not item.evidence_name:
        return "—"
    url = reverse("admin:interviews_competencyinterview_plan_evidence", args=[item.interview_id, item.pk])
    return format_html('<a href="{}">{}</a>', url, item.evidence_name)


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
    fields = ["kind", "file_link", "content_type", "uploaded_at"]
    readonly_fields = ["kind", "file_link", "content_type", "uploaded_at"]

    @admin.display(description=gettext_lazy("文件"))
    def file_link(self, obj: InterviewMaterial) -> str:
        url = reverse("admin:interviews_competencyinterview_material", args=[obj.interview_id, obj.pk])
        return format_html('<a href="{}" data-testid="material-link">{}</a>', url, obj.file_name)


class ScoreInline(ReadOnlyInline):
    model = InterviewScore
    fields = ["item", "score", "comment"]
    readonly_fields = ["item", "score", "comment"]


class PlanItemInline(ReadOnlyInline):
    model = InterviewPlanItem
    fields = ["kind", "state", "due_at", "completion_note", "evidence_link", "verified_by", "verified_at"]
    readonly_fields = ["kind", "state", "due_at", "completion_note", "evidence_link", "verified_by", "verified_at"]

    @admin.display(description=gettext_lazy("完成证明"))
    def evidence_link(self, obj: InterviewPlanItem) -> str:
        return _plan_evidence_link(obj)


@admin.register(CompetencyInterview)
class CompetencyInterviewAdmin(PolicyAdmin):
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
        "staff_actions",
        "held_started_at",
        "held_ended_at",
        "total_score",
        "feedback",
        "scored_by",
        "scored_at",
        "band",
        "interim_status",
        "result_sent_at",
        "total_shown",
        "eligible_to_reapply_at",
        "cancel_reason",
    ]
    exclude = ["observers"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A decision's measure opens most interviews; a supervisor opens others through add_view.
        user = request.user
        return isinstance(user, User) and _is_supervisor(user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CompetencyInterview]:
        return super().get_queryset(request).prefetch_related("observers")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # The readonly displays below only get the object: they read who is looking from it.
            obj._viewer = request.user
        return obj

    @admin.display(description=gettext_lazy("面试时段"))
    def slot_time(self, obj: CompetencyInterview) -> str:
        slot = getattr(obj, "slot", None)
        return str(slot) if slot else "—"

    @admin.display(description=gettext_lazy("观察员"))
    def observer_names(self, obj: CompetencyInterview) -> str:
        return "、".join(str(u) for u in obj.observers.all()) or "—"

    @admin.display(description=gettext_lazy("面试小组"))
    def panel_link(self, obj: CompetencyInterview) -> str:
        viewer = getattr(obj, "_viewer", None)
        if obj.state not in OPEN_STATES or not (isinstance(viewer, User) and _is_supervisor(viewer)):
            return "—"
        url = reverse("admin:interviews_competencyinterview_panel", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("设置面试小组"))

    @admin.display(description=gettext_lazy("操作"))
    def staff_actions(self, obj: CompetencyInterview) -> str:
        viewer = getattr(obj, "_viewer", None)
        if not isinstance(viewer, User):
            return "—"
        links = [
            (reverse(f"admin:interviews_competencyinterview_{name}", args=[obj.pk]), name, label)
            for name, label, states, allowed in STAFF_ACTIONS
            if obj.state in states and allowed(viewer, obj)
        ]
        if not links:
            return "—"
        return format_html_join(" ", '<a class="button" href="{}" data-action="{}">{}</a>', links)

    def get_urls(self) -> list:
        return [*InterviewStaffPages(self).urls(), *super().get_urls()]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """ "为倾听师安排面试": a supervisor opens an interview outside a decision."""
        return InterviewStaffPages(self).request_view(request)


class SlotForm(forms.ModelForm):
    class Meta:
        model = InterviewSlot
        fields = ["starts_at", "ends_at"]

    def clean(self) -> dict[str, Any]:
        """slot_publish's rules, so a bad time is shown next to its field rather than refused."""
        data = super().clean() or self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if self.instance.pk is None and starts_at and ends_at:
            try:
                slot_times_check(starts_at=starts_at, ends_at=ends_at)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


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
        # SlotForm.clean has checked the times; the service checks them again and who may publish.
        saved = slot_publish(starts_at=obj.starts_at, ends_at=obj.ends_at, actor=user)
        obj.pk = saved.pk


@admin.register(InterviewPlanItem)
class InterviewPlanItemAdmin(PolicyAdmin):
    list_display = ["interview", "kind", "state", "due_at", "verified_by"]
    list_filter = ["state", "kind"]
    # The evidence file is served only by the permission-checked view, never by its storage URL.
    readonly_fields = [
        *(f.name for f in InterviewPlanItem._meta.fields if f.name not in ("evidence", "evidence_type")),
        "evidence_link",
    ]
    exclude = ["evidence", "evidence_type"]
    actions = ["verify"]

    @admin.display(description=gettext_lazy("完成证明"))
    def evidence_link(self, obj: InterviewPlanItem) -> str:
        return _plan_evidence_link(obj)

    @admin.display(description=gettext_lazy("核实"))
    def review_links(self, obj: InterviewPlanItem) -> str:
        if obj.state != PlanItemState.SUBMITTED:
            return "—"
        links = [
            (reverse(f"admin:interviews_interviewplanitem_{name}", args=[obj.pk]), name, label)
            for name, label in (("verify", _("核实")), ("send_back", _("退回补充")))
        ]
        return format_html_join(" ", '<a class="button" href="{}" data-action="{}">{}</a>', links)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "review_links"]

    def get_urls(self) -> list:
        return [*PlanItemReviewPages(self).urls(), *super().get_urls()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("核实所选改进计划项"))
    def verify(self, request: HttpRequest, queryset: QuerySet[InterviewPlanItem]) -> None:
        user = request.user
        assert isinstance(user, User)
        done = skipped = 0
        for item in queryset.filter(~Q(state=PlanItemState.VERIFIED)):
            try:
                plan_item_verify(item=item, actor=user)
            except ValidationError:
                skipped += 1
            else:
                done += 1
        messages.success(request, _("已核实 %(n)d 项。") % {"n": done})
        if skipped:
            messages.warning(request, _("%(n)d 项倾听师尚未提交，未核实。") % {"n": skipped})


class ScoringItemForm(forms.ModelForm):
    class Meta:
        model = ScoringItem
        fields = ["code", "name", "weight", "max_score", "position"]

    def clean_max_score(self) -> Decimal:
        value = self.cleaned_data["max_score"]
        if value is not None and value <= 0:
            raise forms.ValidationError(_("满分须大于 0。"))
        return value


class ScoringItemFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        weight = sum((f.cleaned_data.get("weight") or Decimal(0) for f in kept), Decimal(0))
        area = self.instance
        if area.weight > 0 and weight <= 0:
            raise forms.ValidationError(_("权重大于 0 的维度至少需要一个权重大于 0 的细项。"))


class ScoringItemInline(admin.TabularInline):
    model = ScoringItem
    form = ScoringItemForm
    formset = ScoringItemFormSet
    extra = 0
    fields = ["code", "name", "weight", "max_score", "position"]


class AreaWeightsFormSet(forms.BaseModelFormSet):
    """The changelist edits every area's weight at once, so the weights can be moved between
    areas; the new weights (with those of areas not on the page) must add up to 100."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        on_page = {f.instance.pk: f.cleaned_data.get("weight") or Decimal(0) for f in self.forms if f.cleaned_data}
        others = ScoringArea.objects.exclude(pk__in=on_page).values_list("weight", flat=True)
        total = sum(on_page.values(), Decimal(0)) + sum(others, Decimal(0))
        if total != 100:
            raise forms.ValidationError(_("各评分维度的权重之和须为 100，现为 %(sum)s。") % {"sum": total.normalize()})


@admin.register(ScoringArea)
class ScoringAreaAdmin(admin.ModelAdmin):
    """Weights are edited on the list (all areas at once, adding up to 100); an area's page edits
    its name and items."""

    list_display = ["name", "weight", "position"]
    list_editable = ["weight"]
    inlines = [ScoringItemInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["weight"] if obj is not None else []

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        return super().get_changelist_formset(request, formset=AreaWeightsFormSet, **kwargs)
