"""Forms of the listener portal. They only check input; the rules live in evaluations.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.models import ListenerResponse


class StatementForm(forms.Form):
    body = forms.CharField(
        label=_("您的陈述"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "请如实写下这次倾诉的经过、您当时的考虑，以及您对投诉内容的理解。可以先保存草稿，提交后将不能再修改。"
        ),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("您的回复"), widget=forms.Textarea(attrs={"rows": 4}))


class ResponseForm(forms.Form):
    response = forms.ChoiceField(
        label=_("您对处理决定的意见"),
        choices=[(ListenerResponse.AGREES, _("我同意这个处理决定")), (ListenerResponse.DISAGREES, _("我不同意"))],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    reason = forms.CharField(
        label=_("您的理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("不同意时请写明理由，专业组会认真阅读。"),
    )


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=_("申诉理由"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("每个处理决定只能申诉一次。申诉将由未参与原评估的专业组成员和督导复核。"),
    )


class TaskSubmitForm(forms.Form):
    evidence = forms.FileField(
        label=_("完成证明"),
        required=False,
        help_text=_("可上传图片、PDF 或音频文件，不超过 10 MB。"),
    )
    evidence_note = forms.CharField(label=_("完成说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
