"""The evaluations app in the admin: the grading scheme (edited by supervisors, with its history)
and read-only views of decisions, evaluations, tasks, appeals and contact records.

Records of a case change only through evaluations.services, so everything but Grade is view
only. No page here shows a complainant's identity: cases appear by reference, and a
complainant who appeals appears by role, not by account name.
"""

from __future__ import annotations

from typing import Any

import pghistory
from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.admin import ReadOnlyAdmin as BaseReadOnlyAdmin

from .models import (
    Appeal,
    ContactRecord,
    Decision,
    Evaluation,
    Grade,
    ListenerTask,
    Measure,
    Party,
    Remedy,
)

IDENTITY = ("real_name", "id_number", "phone")


def _no_identity(path: str) -> list[str]:
    return [f"{path}__{name}" for name in IDENTITY]


def _labels(choices: Any, values: list[str]) -> str:
    return "、".join(str(choices(v).label) if v in choices.values else v for v in values) or "—"


# --- the grading scheme -----------------------------------------------------------------------


class GradeForm(forms.ModelForm):
    measures = forms.MultipleChoiceField(
        label=gettext_lazy("倾听师处理"), choices=Measure.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    remedies = forms.MultipleChoiceField(
        label=gettext_lazy("用户补救"), choices=Remedy.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Grade
        fields = ("level", "name", "meaning", "measures", "remedies", "requires_approval", "active")


HISTORY_FIELDS = ("level", "name", "meaning", "measures", "remedies", "requires_approval", "active")


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    """Supervisors edit the scheme; every version is kept by pghistory and shown on the change page."""

    form = GradeForm
    list_display = ("level", "name", "measures_display", "remedies_display", "requires_approval", "active")
    list_display_links = ("level", "name")
    list_filter = ("active", "requires_approval")
    ordering = ("level",)

    def get_fields(self, request, obj=None):
        fields = list(HISTORY_FIELDS)
        return [*fields, "history"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        return ("history",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        # Decisions point at grades: retire a grade by unticking "active".
        return False

    def save_model(self, request, obj, form, change):
        # The history row written by the trigger records who changed the scheme.
        with pghistory.context(user=request.user.pk, url=request.path):
            super().save_model(request, obj, form, change)

    @admin.display(description=gettext_lazy("倾听师处理"))
    def measures_display(self, obj: Grade) -> str:
        return _labels(Measure, obj.measures)

    @admin.display(description=gettext_lazy("用户补救"))
    def remedies_display(self, obj: Grade) -> str:
        return _labels(Remedy, obj.remedies)

    @admin.display(description=gettext_lazy("修改历史"))
    def history(self, obj: Grade) -> str:
        events = list(
            Grade.pgh_event_model.objects.filter(pgh_obj_id=obj.pk)  # type: ignore[attr-defined]
            .select_related("pgh_context")
            .order_by("pgh_created_at", "pgh_id")
        )
        if not events:
            return _("没有修改记录。")
        contexts = [e.pgh_context.metadata if e.pgh_context_id and e.pgh_context else {} for e in events]
        user_ids = [m["user"] for m in contexts if isinstance(m.get("user"), int)]
        names: dict[int, str] = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)}
        nobody = _("系统（数据迁移或脚本）")
        rows = []
        previous = None
        for event, metadata in zip(events, contexts, strict=True):
            who = names.get(metadata.get("user", 0), nobody)
            at = timezone.localtime(event.pgh_created_at).strftime("%Y-%m-%d %H:%M")
            rows.append((at, event.pgh_label, who, _describe_change(previous, event)))
            previous = event
        rows.reverse()  # newest first
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("时间"),
            _("操作"),
            _("修改人"),
            _("内容"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (at, {"insert": _("创建"), "update": _("修改")}.get(label, label), who, what)
                    for at, label, who, what in rows
                ),
            ),
        )


def _field_value(name: str, value: Any) -> str:
    if name == "measures":
        return _labels(Measure, value)
    if name == "remedies":
        return _labels(Remedy, value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _describe_change(previous: Any, event: Any) -> str:
    """What this version changed, field by field; the whole grade for the first version."""
    parts = []
    for name in HISTORY_FIELDS:
        label = str(getattr(Grade._meta.get_field(name), "verbose_name", name))
        new = getattr(event, name)
        if previous is None:
            parts.append(f"{label}：{_field_value(name, new)}")
        elif getattr(previous, name) != new:
            parts.append(f"{label}：{_field_value(name, getattr(previous, name))} → {_field_value(name, new)}")
    return "；".join(parts) or _("无字段变化")


# --- read-only records ---------------------------------------------------------------------------


def shown(name: str, label: Any, *, ordering: str | None = None) -> Any:
    """A field under a Chinese label: the models leave some verbose names in English."""

    def value(model_admin: admin.ModelAdmin, obj: Any) -> Any:
        return getattr(obj, name)

    value.__name__ = f"{name}_shown"
    return admin.display(description=label, ordering=ordering or name)(value)


@admin.display(description=gettext_lazy("投诉编号"), ordering="complaint__reference")
def case_reference(obj: Any) -> str:
    return obj.complaint.reference


def dated(name: str, title: Any) -> tuple[str, type[admin.DateFieldListFilter]]:
    """A date filter with a Chinese title (see ``shown``)."""

    class Dated(admin.DateFieldListFilter):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return name, Dated


class ReadOnlyAdmin(BaseReadOnlyAdmin):
    """The record as it is: written by the services, looked at here."""

    show_full_result_count = False

    # Fields under Chinese labels, by name, for the admins below.
    created = shown("created_at", gettext_lazy("创建时间"))
    updated = shown("updated_at", gettext_lazy("更新时间"))
    reviewer_name = shown("reviewer", gettext_lazy("评估人"))
    drafted_by = shown("decided_by", gettext_lazy("起草人"))
    approver = shown("approved_by", gettext_lazy("批准人"))
    approved = shown("approved_at", gettext_lazy("批准时间"))
    notified = shown("notified_at", gettext_lazy("送达时间"))
    listener_name = shown("listener", gettext_lazy("倾听师"))
    task_submitted = shown("submitted_at", gettext_lazy("提交时间"))
    verifier = shown("verified_by", gettext_lazy("核实人"))
    verified = shown("verified_at", gettext_lazy("核实时间"))
    evidence_file = shown("evidence_name", gettext_lazy("证明文件"))
    filed = shown("created_at", gettext_lazy("提出时间"))
    resolved = shown("resolved_at", gettext_lazy("复核完成时间"))
    recorder = shown("recorded_by", gettext_lazy("记录人"))

    @admin.display(description=gettext_lazy("投诉"))
    def case_link(self, obj: Any) -> str:
        url = reverse("admin:complaints_complaint_change", args=[obj.complaint_id])
        return format_html('<a href="{}">{}</a>', url, obj.complaint.reference)


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (case_reference, "grade", "state", "drafted_by", "approver", "created", "notified")
    list_filter = ("state", "grade", "listener_response", dated("created_at", gettext_lazy("创建时间")))
    list_select_related = ("complaint", "grade", "decided_by", "approved_by")
    search_fields = ("=complaint__reference",)
    search_help_text = gettext_lazy("按投诉编号（完整）搜索")
    fields = (
        "case_link",
        "final_evaluation",
        "grade",
        "measures_display",
        "remedies_display",
        "refund_amount",
        "compensation_amount",
        "adjustment_reason",
        "text_to_complainant",
        "text_to_listener",
        "state",
        "drafted_by",
        "approver",
        "approved",
        "returned_reason",
        "notified",
        "listener_response",
        "listener_response_reason",
        "created",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*_no_identity("complaint"))

    @admin.display(description=gettext_lazy("最终评估"))
    def final_evaluation(self, obj: Decision) -> str:
        url = reverse("admin:evaluations_evaluation_change", args=[obj.evaluation_id])
        return format_html('<a href="{}">{}</a>', url, _("主审 %(who)s 的最终评估") % {"who": obj.evaluation.reviewer})

    @admin.display(description=gettext_lazy("倾听师处理"))
    def measures_display(self, obj: Decision) -> str:
        return _labels(Measure, obj.measures)

    @admin.display(description=gettext_lazy("用户补救"))
    def remedies_display(self, obj: Decision) -> str:
        return _labels(Remedy, obj.remedies)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    """A reviewer sees others' scores on a case only once their own is submitted (the rule of
    evaluations.services.evaluations_visible_to); supervisors see every evaluation."""

    list_display = (
        case_reference,
        "reviewer_name",
        "is_final",
        "facts",
        "demand",
        "outcome",
        "proposed_grade",
        "submitted_at",
    )
    list_filter = (
        "is_final",
        "outcome",
        "facts",
        "demand",
        "proposed_grade",
        ("submitted_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("complaint", "reviewer", "proposed_grade")
    search_fields = ("=complaint__reference",)
    search_help_text = gettext_lazy("按投诉编号（完整）搜索")
    fields = (
        "case_link",
        "reviewer_name",
        "is_final",
        "facts",
        "facts_rationale",
        "evidence_cited",
        "demand",
        "demand_rationale",
        "finding_competence_gap",
        "finding_subjective_harm",
        "finding_inducing_orders",
        "finding_illegality",
        "competence_rationale",
        "awareness",
        "reflection",
        "awareness_rationale",
        "outcome",
        "proposed_grade",
        "outcome_rationale",
        "disagreements",
        "submitted_at",
        "created",
        "updated",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # Whose evaluations a reviewer sees is the access policy's (evaluations.selectors).
        return super().get_queryset(request).defer(*_no_identity("complaint"))


@admin.register(ListenerTask)
class ListenerTaskAdmin(ReadOnlyAdmin):
    list_display = ("case", "listener_name", "kind", "state", "due_at", "task_submitted", "verifier", "verified")
    list_filter = ("state", "kind", ("due_at", admin.DateFieldListFilter))
    list_select_related = ("listener", "verified_by")
    search_fields = ("=case_reference", "listener__code")
    search_help_text = gettext_lazy("按案件编号（完整）或倾听师编号搜索")
    # The evidence file is served only by pages that check permission, never by its storage URL.
    fields = (
        "case",
        "listener_name",
        "kind",
        "description",
        "due_at",
        "state",
        "evidence_file",
        "evidence_note",
        "task_submitted",
        "verifier",
        "verified",
        "review_note",
        "created",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("案件编号"), ordering="case_reference")
    def case(self, obj: ListenerTask) -> str:
        return obj.case_reference


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = (
        "case",
        "party",
        "appellant_display",
        "state",
        "reviewer",
        "supervisor",
        "filed",
        "resolved",
    )
    list_filter = ("state", "party", dated("created_at", gettext_lazy("提出时间")))
    list_select_related = ("decision__complaint__listener", "decision__grade", "reviewer", "supervisor")
    search_fields = ("=decision__complaint__reference",)
    search_help_text = gettext_lazy("按投诉编号（完整）搜索")
    fields = (
        "case",
        "decision_display",
        "party",
        "appellant_display",
        "reason",
        "state",
        "reviewer",
        "supervisor",
        "outcome_note",
        "filed",
        "resolved",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*_no_identity("decision__complaint"))

    @admin.display(description=gettext_lazy("投诉编号"), ordering="decision__complaint__reference")
    def case(self, obj: Appeal) -> str:
        return obj.decision.complaint.reference

    @admin.display(description=gettext_lazy("原处理决定"))
    def decision_display(self, obj: Appeal) -> str:
        url = reverse("admin:evaluations_decision_change", args=[obj.decision_id])
        grade = obj.decision.grade
        return format_html(
            '<a href="{}">{}</a>', url, _("%(level)s 级 · %(name)s") % {"level": grade.level, "name": grade.name}
        )

    @admin.display(description=gettext_lazy("申请人"))
    def appellant_display(self, obj: Appeal) -> str:
        # A complainant's account name may be their real name: they appear by role only.
        if obj.party == Party.LISTENER:
            return str(obj.decision.complaint.listener)
        return str(Party.COMPLAINANT.label)


@admin.register(ContactRecord)
class ContactRecordAdmin(ReadOnlyAdmin):
    list_display = (case_reference, "party", "channel", "contacted_at", "recorder", "consent_disclosed")
    list_filter = ("party", "channel", "consent_disclosed", ("contacted_at", admin.DateFieldListFilter))
    list_select_related = ("complaint", "recorded_by")
    search_fields = ("=complaint__reference",)
    search_help_text = gettext_lazy("按投诉编号（完整）搜索")
    fields = (
        "case_link",
        "party",
        "channel",
        "contacted_at",
        "recorder",
        "summary",
        "expectations",
        "conflict_points",
        "evidence_notes",
        "confirmed_demands",
        "consent_disclosed",
        "listener_account",
        "listener_understanding",
        "listener_view_of_demands",
        "created",
    )
    readonly_fields = fields

    def get_queryset(self, request: Any) -> QuerySet[ContactRecord]:
        return super().get_queryset(request).defer(*_no_identity("complaint"))
