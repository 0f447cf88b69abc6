"""Triage in the admin: a thin edge over complaints.services.

Nothing here saves a Complaint directly. Every change (classification, assignment, each
transition, a note, a reveal of identity, an entry on a complainant's behalf) is one
service call; the admin validates input, calls it, and shows the outcome. ``state`` is
never a form field and identity is shown masked, except once, on the reveal page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value, quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, Q, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from core.admin import PolicyAdmin
from core.deadlines import overdue_subjects
from core.service_errors import add_service_errors as add_service_errors  # re-exported: the one adapter
from listeners.models import ListeningSession

from .models import (
    Category,
    Complaint,
    ConsentMethod,
    ConsentText,
    CrisisTerm,
    Demand,
    IntakeChannel,
    ReplyTemplate,
)
from .selectors import attachments_for, complaint_list_for, timeline_for
from .services import (
    REVEALABLE_FIELDS,
    ComplaintConflict,
    can_reveal_identity,
    complaint_add_note,
    complaint_archive,
    complaint_assign,
    complaint_classify,
    complaint_close,
    complaint_escalate,
    complaint_merge,
    complaint_reject,
    complaint_resolve,
    complaint_start_triage,
    complaint_submit,
    identity_reveal,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

IDENTITY_LABELS = {
    "real_name": gettext_lazy("真实姓名"),
    "id_number": gettext_lazy("身份证号"),
    "phone": gettext_lazy("手机号"),
}
ON_BEHALF_CHANNELS = (IntakeChannel.PHONE, IntakeChannel.EMAIL, IntakeChannel.IN_PERSON)


def users_with_role(role: str) -> QuerySet:
    return User.objects.filter(groups__name=role, is_active=True).order_by("display_name", "email")


USER_CHOICE_FIELDS = ("id", "display_name", "email", "language", "is_active")


def reply_template_fill(template: ReplyTemplate, complaint: Complaint) -> str:
    return template.render(complaint)


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


class ComplaintChangeForm(forms.ModelForm):
    """Classification and assignment only; saved through complaint_classify and complaint_assign."""

    expected_version = forms.IntegerField(label=gettext_lazy("版本"), widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Complaint
        fields = ("category", "priority", "assigned_consultant", "assigned_reviewer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version
        for name in ("assigned_consultant", "assigned_reviewer"):
            if name in self.fields:
                self.fields[name].help_text = _("留空表示不变；分派只能改给另一人，不能清空。")


class VersionedForm(forms.Form):
    """Carries the version of the case the page was rendered from: a stale page is refused."""

    version = forms.IntegerField(label=gettext_lazy("版本"), widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, complaint: Complaint, user: User, **kwargs: Any) -> None:
        self.complaint = complaint
        self.user = user
        super().__init__(*args, **kwargs)


class NoteForm(VersionedForm):
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("选填；会写入处理记录。"),
    )


class ResolveForm(VersionedForm):
    resolution = forms.CharField(
        label=gettext_lazy("处理结果"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("会发送给投诉人，请用对方能看懂的话写。"),
        error_messages={"required": gettext_lazy("请填写处理结果，它会发送给投诉人。")},
    )


class RejectForm(VersionedForm):
    reason = forms.CharField(
        label=gettext_lazy("不予受理的理由"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("会发送给投诉人。"),
        error_messages={"required": gettext_lazy("不予受理必须写明理由，它会发送给投诉人。")},
    )


class EscalateForm(VersionedForm):
    reviewer = forms.ModelChoiceField(
        label=gettext_lazy("负责专业组成员"),
        queryset=User.objects.none(),
        error_messages={"required": gettext_lazy("转专业组前请指定一位专业组成员。")},
    )
    note = forms.CharField(
        label=gettext_lazy("转交说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("选填；投诉人可以看到。留空时使用默认说明。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reviewer"]).queryset = users_with_role(Role.REVIEWER)


class MergeForm(VersionedForm):
    target_reference = forms.CharField(
        label=gettext_lazy("合并到（保留案件的投诉编号）"),
        max_length=20,
        help_text=gettext_lazy("例如 TS-2026-000123。本案关闭，证据和处理记录显示在保留案件中。"),
    )

    def clean_target_reference(self) -> str:
        reference = self.cleaned_data["target_reference"].strip().upper()
        target = complaint_list_for(self.user).filter(reference=reference).first()
        if target is None:
            raise ValidationError(_("没有找到编号为 %(ref)s 的案件。") % {"ref": reference})
        self.cleaned_data["into"] = target
        return reference


class AddNoteForm(VersionedForm):
    note = forms.CharField(label=gettext_lazy("处理记录"), widget=forms.Textarea(attrs={"rows": 6}))
    visible = forms.BooleanField(
        label=gettext_lazy("投诉人可见"),
        required=False,
        help_text=gettext_lazy("勾选后投诉人能在自己的账户里看到，并计为首次回应。"),
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("查看理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("理由会与您的姓名、时间一起记入敏感信息访问记录。"),
        error_messages={"required": gettext_lazy("请写明查看的理由（至少 4 个字）。")},
    )


class BulkAssignForm(forms.Form):
    consultant = forms.ModelChoiceField(label=gettext_lazy("咨询顾问"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["consultant"]).queryset = users_with_role(Role.CONSULTANT)


class OnBehalfComplaintForm(forms.Form):
    """A complaint taken by phone, email or in person; the complainant's consent is verbal."""

    complainant = forms.ModelChoiceField(label=gettext_lazy("投诉人账户"), queryset=User.objects.none())
    session = forms.ModelChoiceField(
        label=gettext_lazy("倾诉订单"),
        queryset=ListeningSession.objects.select_related("listener"),
        help_text=gettext_lazy("必须是该投诉人自己的订单。"),
    )
    intake_channel = forms.ChoiceField(
        label=gettext_lazy("投诉渠道"), choices=[(c.value, c.label) for c in ON_BEHALF_CHANNELS]
    )
    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=Category.choices, initial=Category.OTHER)
    content = forms.CharField(label=gettext_lazy("投诉内容"), widget=forms.Textarea(attrs={"rows": 8}))
    demands = forms.MultipleChoiceField(
        label=gettext_lazy("诉求"), choices=Demand.choices, widget=forms.CheckboxSelectMultiple
    )
    demands_other = forms.CharField(
        label=gettext_lazy("其他诉求"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    real_name = forms.CharField(label=gettext_lazy("真实姓名"), max_length=64)
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=32)
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=32)
    consent_version = forms.CharField(widget=forms.HiddenInput)
    consent_given = forms.BooleanField(
        label=gettext_lazy("投诉人已口头同意实名投诉知情同意书（当前版本）"),
        label_suffix="",
        error_messages={"required": gettext_lazy("请先向投诉人宣读知情同意书并取得其口头同意。")},
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, admin_site: admin.AdminSite, consent: ConsentText, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent = consent
        cast(forms.ModelChoiceField, self.fields["complainant"]).queryset = users_with_role(Role.COMPLAINANT)
        for name in ("complainant", "session"):
            field = cast(forms.ModelChoiceField, self.fields[name])
            field.widget = AutocompleteSelect(Complaint._meta.get_field(name), admin_site)
            field.widget.choices = field.choices
        for name in ("real_name", "id_number", "phone"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["consent_version"].initial = consent.version
        self.fields["submission_key"].initial = uuid.uuid4()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        complainant, session = data.get("complainant"), data.get("session")
        if complainant is not None and session is not None and session.complainant_id != complainant.pk:
            self.add_error("session", _("这个订单不属于所选的投诉人。"))
        if Demand.OTHER in data.get("demands", []) and not data.get("demands_other", "").strip():
            self.add_error("demands_other", _("选择了“其他”诉求，请写明具体内容。"))
        if data.get("consent_version") and data["consent_version"] != self.consent.version:
            self.add_error("consent_given", _("知情同意书刚刚更新了版本，请向投诉人宣读当前版本后再勾选。"))
        return data


# --- transitions the admin offers ----------------------------------------------------


@dataclass(frozen=True)
class TransitionAction:
    name: str
    label: StrOrPromise
    form_class: type[VersionedForm]
    run: Callable[[Complaint, Any, dict, int], Complaint]
    done: StrOrPromise
    # Where a service names a field differently from the form.
    field_map: dict[str, str] | None = None


ADMIN_TRANSITIONS: dict[str, TransitionAction] = {
    action.name: action
    for action in (
        TransitionAction(
            "start_triage",
            gettext_lazy("开始初步处理"),
            NoteForm,
            lambda c, u, d, v: complaint_start_triage(complaint=c, actor=u, note=d["note"], expected_version=v),
            gettext_lazy("已开始初步处理 %(ref)s。"),
        ),
        TransitionAction(
            "resolve_directly",
            gettext_lazy("直接处理完毕"),
            ResolveForm,
            lambda c, u, d, v: complaint_resolve(complaint=c, actor=u, resolution=d["resolution"], expected_version=v),
            gettext_lazy("%(ref)s 已处理完毕，处理结果已发送给投诉人。"),
        ),
        TransitionAction(
            "reject",
            gettext_lazy("不予受理"),
            RejectForm,
            lambda c, u, d, v: complaint_reject(complaint=c, actor=u, reason=d["reason"], expected_version=v),
            gettext_lazy("%(ref)s 已不予受理，理由已发送给投诉人。"),
        ),
        TransitionAction(
            "escalate",
            gettext_lazy("转专业组调查"),
            EscalateForm,
            lambda c, u, d, v: complaint_escalate(
                complaint=c, actor=u, reviewer=d["reviewer"], note=d["note"], expected_version=v
            ),
            gettext_lazy("%(ref)s 已转交专业组。"),
        ),
        TransitionAction(
            "merge",
            gettext_lazy("作为重复投诉合并"),
            MergeForm,
            lambda c, u, d, v: complaint_merge(duplicate=c, into=d["into"], actor=u, expected_version=v),
            gettext_lazy("%(ref)s 已合并到保留案件。"),
            {"into": "target_reference"},
        ),
        TransitionAction(
            "close",
            gettext_lazy("结案"),
            NoteForm,
            lambda c, u, d, v: complaint_close(complaint=c, actor=u, note=d["note"], expected_version=v),
            gettext_lazy("%(ref)s 已结案。"),
        ),
        TransitionAction(
            "archive",
            gettext_lazy("归档"),
            NoteForm,
            lambda c, u, d, v: complaint_archive(complaint=c, actor=u, note=d["note"], expected_version=v),
            gettext_lazy("%(ref)s 已归档。"),
        ),
    )
}


def _fsm_meta(name: str):
    return getattr(getattr(Complaint, name, None), "_django_fsm", None)


def may_ever_make(user: User, complaint: Complaint, name: str) -> bool:
    """The user holds the transition's permission, whatever the case's state now."""
    meta = _fsm_meta(name)
    return meta is not None and any(t.has_perm(complaint, user) for t in meta.transitions.values())


def is_open_now(complaint: Complaint, name: str) -> bool:
    meta = _fsm_meta(name)
    return meta is not None and meta.has_transition(complaint.state)


def transitions_for(user: User, complaint: Complaint) -> list[TransitionAction]:
    """The admin's transitions this user may make on the case in its current state.

    Not ``get_available_user_state_transitions``: that one also checks the transitions'
    conditions (a resolution, a reason, a reviewer), which are what the transition's form
    asks for, so resolve, reject and escalate would never get a button.
    """
    state = complaint.state
    return [
        action
        for name, action in ADMIN_TRANSITIONS.items()
        if is_open_now(complaint, name) and _fsm_meta(name).has_transition_perm(complaint, state, user)
    ]


# --- the changelist's rows ----------------------------------------------------------

_PK_MARK = "0ROWPK0"
Cell = Callable[[Any], str]


class TriageChangeList(ChangeList):
    """The admin's changelist with its rows rendered by cell makers set up once per page.

    Django's ``items_for_result`` looks up each cell's field, display and empty value again for
    every cell (1,100 cells on a page of 100, most of the page's CPU). The makers below give the
    same HTML (tests/complaints/test_admin.py compares them with Django's); a column they do not
    know, a popup or an editable list falls back to Django's own rendering.
    """

    @cached_property
    def triage_table(self) -> dict[str, Any]:
        headers = list(admin_list.result_headers(self))
        makers = self.cell_makers()
        # Every cell is already HTML: Django's format_html, or a maker that escapes each value.
        if makers is None:
            rows = [mark_safe("".join(row)) for row in admin_list.results(self)]  # noqa: S308
        else:
            rows = [mark_safe("".join([make(obj) for make in makers])) for obj in self.result_list]  # noqa: S308
        return {
            "result_hidden_fields": list(admin_list.result_hidden_fields(self)),
            "result_headers": headers,
            "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
            "results": rows,
        }

    def cell_makers(self) -> list[Cell] | None:
        if getattr(self, "formset", None) is not None or self.is_popup or self.to_field or not self.list_display_links:
            return None
        makers: list[Cell] = []
        first_link = True
        for name in self.list_display:
            if name == "action_checkbox":
                makers.append(self._checkbox_cell())
                continue
            value_and_classes = self._value_maker(name)
            if value_and_classes is None:
                return None
            value, classes = value_and_classes
            if name in self.list_display_links:
                makers.append(self._link_cell(value, classes, "th" if first_link else "td"))
                first_link = False
            else:
                makers.append(self._plain_cell(value, classes))
        return makers

    def _checkbox_cell(self) -> Cell:
        label = escape(_("Select this object for an action - {}")).replace("{}", "{1}")
        cell = (
            f'<td class="action-checkbox"><input type="checkbox" name="{helpers.ACTION_CHECKBOX_NAME}" '
            f'value="{{0}}" class="action-select" aria-label="{label}"></td>'
        )
        return lambda obj: cell.format(escape(obj.pk), escape(obj))

    def _plain_cell(self, value: Callable[[Any], tuple[str, str]], classes: str) -> Cell:
        def make(obj: Any) -> str:
            html, extra = value(obj)
            return f'<td class="{classes}{extra}">{html}</td>'

        return make

    def _link_cell(self, value: Callable[[Any], tuple[str, str]], classes: str, tag: str) -> Cell:
        url = self.url_for_result(self.model(**{self.pk_attname: _PK_MARK}))
        url = escape(add_preserved_filters({"preserved_filters": self.preserved_filters, "opts": self.opts}, url))

        def make(obj: Any) -> str:
            html, extra = value(obj)
            href = url.replace(_PK_MARK, escape(quote(getattr(obj, self.pk_attname))), 1)
            return f'<{tag} class="{classes}{extra}"><a href="{href}">{html}</a></{tag}>'

        return make

    def _value_maker(self, name: Any) -> tuple[Callable[[Any], tuple[str, str]], str] | None:
        """(obj -> (escaped HTML, extra classes), the column's classes), as items_for_result makes them."""
        empty = self.model_admin.get_empty_value_display()
        if not isinstance(name, str):
            return None
        try:
            field = self.lookup_opts.get_field(name)
        except FieldDoesNotExist:
            method = getattr(self.model_admin, name, None)
            if not callable(method):
                return None
            empty = getattr(method, "empty_value_display", empty)
            boolean = getattr(method, "boolean", False)

            def from_method(obj: Any) -> tuple[str, str]:
                result = method(obj)
                if isinstance(result, str) and result.strip() == "":
                    result = ""
                extra = " nowrap" if isinstance(result, (date, time)) else ""
                return conditional_escape(display_for_value(result, empty, boolean)), extra

            return from_method, f"field-{name}"
        if not isinstance(field, models.Field) or field.auto_created or field.many_to_many:
            return None
        attname = field.attname
        classes = f"field-{name}"
        if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
            classes += " nowrap"
        if field.flatchoices:
            labels = {value: conditional_escape(label) for value, label in field.flatchoices}
            return (lambda obj: (labels.get(_blank_to_empty(getattr(obj, attname)), empty), "")), classes
        if isinstance(field, models.BooleanField):
            icons = {value: display_for_value(value, empty, boolean=True) for value in (True, False, None)}
            return (lambda obj: (icons[getattr(obj, attname)], "")), classes
        if isinstance(field, models.ForeignKey):
            return (lambda obj: (empty if getattr(obj, attname) is None else escape(getattr(obj, name)), "")), classes
        if type(field) in (models.CharField, models.TextField):

            def text(obj: Any) -> tuple[str, str]:
                value = _blank_to_empty(getattr(obj, attname))
                return (empty if value in field.empty_values else escape(value)), ""

            return text, classes
        return None


def _blank_to_empty(value: Any) -> Any:
    return "" if isinstance(value, str) and value.strip() == "" else value


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

    def _complaint_or_404(self, request: AuthedHttpRequest, object_id: str) -> Complaint:
        complaint = self.get_object(request, unquote(object_id))
        if complaint is None:
            raise Http404(_("没有找到这个案件。"))
        if not self.has_view_permission(request, complaint):
            raise PermissionDenied
        return complaint

    def _change_url(self, complaint: Complaint) -> str:
        return reverse("admin:complaints_complaint_change", args=[complaint.pk])

    def _render(self, request: AuthedHttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
        base = {**self.admin_site.each_context(request), "opts": self.opts}
        return TemplateResponse(request, f"admin/complaints/complaint/{template}", {**base, **context})

    def transition_view(self, request: AuthedHttpRequest, object_id: str, name: str) -> HttpResponse:
        action = ADMIN_TRANSITIONS.get(name)
        if action is None:
            raise Http404(_("没有这个操作。"))
        complaint = self._complaint_or_404(request, object_id)
        if not may_ever_make(request.user, complaint, name):
            raise PermissionDenied
        if not is_open_now(complaint, name):
            messages.error(
                request,
                _("当前状态（%(state)s）下不能进行这个操作。") % {"state": complaint.get_state_display()},
            )
            return HttpResponseRedirect(self._change_url(complaint))

        form_kwargs: dict[str, Any] = {"complaint": complaint, "user": request.user}
        if request.method == "POST":
            form = action.form_class(request.POST, **form_kwargs)
            if form.is_valid():
                try:
                    action.run(complaint, request.user, form.cleaned_data, form.cleaned_data["version"])
                except ComplaintConflict as exc:
                    messages.error(request, str(exc))
                    complaint = self._complaint_or_404(request, object_id)
                    if not is_open_now(complaint, name):
                        return HttpResponseRedirect(self._change_url(complaint))
                    # Keep what was typed; the page now shows the case as it is.
                    data = request.POST.copy()
                    data["version"] = str(complaint.version)
                    form = action.form_class(data, **{**form_kwargs, "complaint": complaint})
                except ValidationError as exc:
                    add_service_errors(form, exc, action.field_map)
                else:
                    messages.success(request, action.done % {"ref": complaint.reference})
                    return HttpResponseRedirect(self._change_url(complaint))
        else:
            form = action.form_class(initial=self._transition_initial(request, complaint, name), **form_kwargs)

        reply_templates = []
        if name == "resolve_directly":
            # Those for the case's category first; the consultant may still pick any.
            reply_templates = sorted(
                ReplyTemplate.objects.filter(active=True), key=lambda t: t.category != complaint.category
            )
        return self._render(
            request,
            "transition.html",
            {
                "title": f"{action.label} · {complaint.reference}",
                "action": action,
                "complaint": complaint,
                "original": complaint,
                "form": form,
                "media": self.media + form.media,
                "reply_templates": reply_templates,
                "chosen_template": request.GET.get("template", ""),
                "recent_events": list(timeline_for(complaint, complainant_view=False))[-5:],
            },
        )

    def _transition_initial(self, request: AuthedHttpRequest, complaint: Complaint, name: str) -> dict[str, Any]:
        version = request.GET.get("version", "")
        initial: dict[str, Any] = {"version": int(version) if version.isdigit() else complaint.version}
        if name == "resolve_directly":
            template_id = request.GET.get("template", "")
            template = (
                ReplyTemplate.objects.filter(pk=int(template_id), active=True).first()
                if template_id.isdigit()
                else None
            )
            initial["resolution"] = reply_template_fill(template, complaint) if template else complaint.resolution
        elif name == "escalate":
            initial["reviewer"] = complaint.assigned_reviewer_id
        elif name == "merge" and complaint.duplicate_of is not None:
            initial["target_reference"] = complaint.duplicate_of.reference
        return initial

    def note_view(self, request: AuthedHttpRequest, object_id: str) -> HttpResponse:
        complaint = self._complaint_or_404(request, object_id)
        if not request.user.is_case_staff:
            raise PermissionDenied
        form_kwargs: dict[str, Any] = {"complaint": complaint, "user": request.user}
        if request.method == "POST":
            form = AddNoteForm(request.POST, **form_kwargs)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    complaint_add_note(
                        complaint=complaint,
                        actor=request.user,
                        note=data["note"],
                        visible=data["visible"],
                        expected_version=data["version"],
                    )
                except ComplaintConflict as exc:
                    messages.error(request, str(exc))
                    complaint = self._complaint_or_404(request, object_id)
                    fresh = request.POST.copy()
                    fresh["version"] = str(complaint.version)
                    form = AddNoteForm(fresh, **{**form_kwargs, "complaint": complaint})
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("处理记录已添加。"))
                    return HttpResponseRedirect(self._change_url(complaint))
        else:
            form = AddNoteForm(initial={"version": complaint.version}, **form_kwargs)
        return self._render(
            request,
            "note.html",
            {
                "title": _("添加处理记录 · %(ref)s") % {"ref": complaint.reference},
                "complaint": complaint,
                "original": complaint,
                "form": form,
            },
        )

    def reveal_view(self, request: AuthedHttpRequest, object_id: str, field: str) -> HttpResponse:
        """Ask why, log it, and show the clear value on this response only (never in a URL or the session)."""
        if field not in REVEALABLE_FIELDS:
            raise Http404(_("不能查看这个字段。"))
        complaint = self._complaint_or_404(request, object_id)
        if not can_reveal_identity(request.user, complaint):
            raise PermissionDenied
        revealed = None
        if request.method == "POST":
            form = RevealForm(request.POST)
            if form.is_valid():
                try:
                    revealed = identity_reveal(
                        complaint=complaint,
                        actor=request.user,
                        field=field,
                        reason=form.cleaned_data["reason"],
                        request=request,
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
        else:
            form = RevealForm()
        response = self._render(
            request,
            "reveal.html",
            {
                "title": _("查看%(label)s · %(ref)s") % {"label": IDENTITY_LABELS[field], "ref": complaint.reference},
                "complaint": complaint,
                "original": complaint,
                "field_label": IDENTITY_LABELS[field],
                "masked": getattr(complaint, f"masked_{field}"),
                "revealed": revealed,
                "form": form,
            },
        )
        response["Cache-Control"] = "no-store, private"
        return response

    # --- entering a complaint on a complainant's behalf ---

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        consent = ConsentText.objects.filter(is_current=True).first()
        if consent is None:
            messages.error(request, _("还没有发布当前版本的知情同意书，暂时不能登记投诉。"))
            return HttpResponseRedirect(reverse("admin:complaints_complaint_changelist"))
        form_kwargs = {"admin_site": self.admin_site, "consent": consent}
        if request.method == "POST":
            form = OnBehalfComplaintForm(request.POST, **form_kwargs)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    complaint = complaint_submit(
                        complainant=data["complainant"],
                        session=data["session"],
                        content=data["content"],
                        demands=data["demands"],
                        demands_other=data["demands_other"],
                        real_name=data["real_name"],
                        id_number=data["id_number"],
                        phone=data["phone"],
                        category=data["category"],
                        consent_text=consent,
                        consent_method=ConsentMethod.VERBAL,
                        consent_recorded_by=request.user,
                        intake_channel=data["intake_channel"],
                        submission_key=data["submission_key"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc, {"consent": "consent_given", "files": "content"})
                else:
                    self.log_addition(request, complaint, [{"added": {}}])
                    done = _("已代投诉人登记投诉 %(ref)s；投诉人可以在自己的账户里看到它。")
                    messages.success(request, done % {"ref": complaint.reference})
                    return HttpResponseRedirect(self._change_url(complaint))
        else:
            form = OnBehalfComplaintForm(**form_kwargs)
        return self._render(
            request,
            "add_on_behalf.html",
            {
                "title": _("代投诉人登记投诉"),
                "form": form,
                "consent": consent,
                "media": self.media + form.media,
                "add": True,
            },
        )

    # --- bulk actions ---

    @admin.action(description=gettext_lazy("分派给咨询顾问…"), permissions=["assign"])
    def assign_to_consultant(self, request: AuthedHttpRequest, queryset: QuerySet[Complaint]) -> HttpResponse | None:
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            consultant = form.cleaned_data["consultant"]
            done, skipped = 0, []
            for complaint in queryset:
                try:
                    complaint_assign(complaint=complaint, actor=request.user, consultant=consultant)
                except (ComplaintConflict, ValidationError):
                    skipped.append(complaint.reference)
                else:
                    done += 1
            self.message_user(
                request,
                ngettext("已将 %(n)d 件投诉分派给 %(name)s。", "已将 %(n)d 件投诉分派给 %(name)s。", done)
                % {"n": done, "name": consultant.get_short_name()},
                messages.SUCCESS,
            )
            if skipped:
                self.message_user(
                    request,
                    _("以下案件刚被其他人修改过，未分派：%(refs)s") % {"refs": "、".join(skipped)},
                    messages.WARNING,
                )
            return None
        return self._render(
            request,
            "bulk_assign.html",
            {
                "title": _("分派给咨询顾问"),
                "form": form,
                "queryset": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


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
