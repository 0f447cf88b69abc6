"""The triage admin's forms: what a consultant types for each move on a complaint.

Forms validate input only; the admin views (complaints/admin_views.py) hand the cleaned data
to one service each.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Role
from listeners.models import ListeningSession

from .models import Category, Complaint, ConsentText, Demand, IntakeChannel
from .selectors import complaint_list_for

ON_BEHALF_CHANNELS = (IntakeChannel.PHONE, IntakeChannel.EMAIL, IntakeChannel.IN_PERSON)


def users_with_role(role: str) -> QuerySet:
    return User.objects.filter(groups__name=role, is_active=True).order_by("display_name", "email")


USER_CHOICE_FIELDS = ("id", "display_name", "email", "language", "is_active")


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
