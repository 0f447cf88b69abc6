"""Forms of the supervisors' pages: approving decisions, assigning and resolving appeals.

They only validate input; the services in evaluations.services decide and refuse.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.service_errors import add_service_errors as add_service_errors  # re-exported: the one adapter

from .models import AppealState, Grade, Measure, Remedy


class SendBackForm(forms.Form):
    reason = forms.CharField(
        label=_("退回理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("会告诉起草决定的主审，请写明需要修改什么。"),
        error_messages={"required": _("请写明退回的理由。")},
    )


class AppealAssignForm(forms.Form):
    """The reviewer to take the appeal. Choices are built once per page and shared by every row."""

    reviewer = forms.TypedChoiceField(
        label=_("复核专业组成员"),
        coerce=int,
        error_messages={"required": _("请选择复核的专业组成员。")},
    )

    def __init__(self, *args: Any, reviewer_choices: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reviewer = self.fields["reviewer"]
        assert isinstance(reviewer, forms.ChoiceField)
        reviewer.choices = [("", _("请选择")), *reviewer_choices]

    def clean_reviewer(self) -> User:
        found = User.objects.filter(pk=self.cleaned_data["reviewer"], is_active=True).first()
        if found is None:
            raise ValidationError(_("请选择复核的专业组成员。"))
        return found


RESOLUTIONS = [
    (AppealState.CONFIRMED.value, AppealState.CONFIRMED.label),
    (AppealState.CHANGED.value, AppealState.CHANGED.label),
    (AppealState.ANNULLED.value, AppealState.ANNULLED.label),
]


class AppealResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("复核结论"),
        choices=RESOLUTIONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择复核结论。")},
    )
    grade = forms.ModelChoiceField(
        label=_("变更后的等级"),
        queryset=Grade.objects.filter(active=True).order_by("level"),
        required=False,
        empty_label=_("不变"),
        help_text=_("仅在“变更决定”时使用；留空表示等级不变。"),
    )
    use_grade_defaults = forms.BooleanField(
        label=_("按该等级的默认处理措施与补救"),
        required=False,
        initial=True,
        help_text=_("取消勾选后，按下面勾选的处理措施与补救执行。"),
    )
    measures = forms.MultipleChoiceField(
        label=_("倾听师处理"), choices=Measure.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    remedies = forms.MultipleChoiceField(
        label=_("用户补救"), choices=Remedy.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    outcome_note = forms.CharField(
        label=_("复核理由"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("会告诉申请人。"),
        error_messages={"required": _("请写明复核理由。")},
    )

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments of appeal_resolve for what was chosen."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {"outcome": data["outcome"], "note": data["outcome_note"]}
        if data["outcome"] == AppealState.CHANGED:
            arguments["grade"] = data["grade"]
            if not data["use_grade_defaults"]:
                arguments["measures"] = list(data["measures"])
                arguments["remedies"] = list(data["remedies"])
        return arguments
