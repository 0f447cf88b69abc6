"""Forms of the supervision pages. They only check input; the rules live in supervision.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from core.service_errors import add_service_errors as add_service_errors  # re-exported: the one adapter
from evaluations.models import Grade, Measure

from .models import BreakCategory, EthicsSource, ReportKind


class ConfidentialityReportForm(forms.Form):
    category = forms.ChoiceField(label=_("情形"), choices=BreakCategory.choices, widget=forms.RadioSelect)
    session_order_no = forms.CharField(
        label=_("订单号（选填）"), required=False, max_length=40, help_text=_("如能确定是哪一次倾诉，请填写订单号。")
    )
    what_happened = forms.CharField(
        label=_("经过"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("请写下您在倾诉中了解到的情况：何人、何时、何地、正在或将要发生什么。只有督导可以看到这份报告。"),
    )


class OutcomeForm(forms.Form):
    authority_notified = forms.TypedChoiceField(
        label=_("是否已报告公安机关或有关部门"),
        choices=[("yes", _("已报告")), ("no", _("未报告"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    authority_name = forms.CharField(label=_("报告的部门"), required=False, max_length=120)
    authority_notified_at = forms.DateTimeField(
        label=_("报告时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("不填则记为现在。"),
    )
    authority_notified_by = forms.ModelChoiceField(
        label=_("由哪位督导报告"),
        queryset=User.objects.filter(groups__name=Role.SUPERVISOR, is_active=True).distinct(),
        required=False,
        help_text=_("不选则记为您本人。"),
    )
    outcome = forms.CharField(label=_("处理结果"), widget=forms.Textarea(attrs={"rows": 5}))


class ListenerReportForm(forms.Form):
    listener_code = forms.CharField(label=_("倾听师编号"), max_length=40)
    kind = forms.ChoiceField(label=_("举报类型"), choices=ReportKind.choices, widget=forms.RadioSelect)
    content = forms.CharField(
        label=_("举报内容"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("请写下您看到或经历的情况。举报不会生成投诉；如需就某次倾诉投诉，请使用投诉入口。"),
    )


class AnonymousReportForm(ListenerReportForm):
    contact = forms.CharField(
        label=_("联系方式（选填）"),
        required=False,
        max_length=200,
        help_text=_("如愿意让督导联系您了解情况，可留下邮箱或电话；不填也可以提交。"),
    )


class OpenCaseForm(forms.Form):
    summary = forms.CharField(label=_("案情摘要"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class VersionedForm(forms.Form):
    """Carries the case version the page showed, so a move on a stale page is refused (409-like)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class NoteForm(VersionedForm):
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class EvaluationForm(VersionedForm):
    evaluation_summary = forms.CharField(label=_("评估意见"), widget=forms.Textarea(attrs={"rows": 5}))
    grade = forms.ModelChoiceField(label=_("处理等级"), queryset=Grade.objects.filter(active=True))


class DecideForm(VersionedForm):
    grade = forms.ModelChoiceField(
        label=_("处理等级"),
        queryset=Grade.objects.filter(active=True),
        required=False,
        help_text=_("不选则沿用评估等级。"),
    )
    measures = forms.MultipleChoiceField(
        label=_("处理措施"),
        choices=Measure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不勾选则采用该等级的默认措施；与默认措施不同时须写明调整理由。"),
    )
    adjustment_reason = forms.CharField(label=_("调整理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    text_to_listener = forms.CharField(
        label=_("给倾听师的说明"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("倾听师会在站内通知和邮件中看到这段说明，请勿写入用户的身份信息。"),
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("查看用户身份会写入访问日志。只在调查确有需要时查看。"),
    )


class NewEthicsCaseForm(forms.Form):
    """A supervisor's own case; anomaly and anonymous-report cases are opened from their pages."""

    listener_code = forms.CharField(label=_("倾听师编号"), max_length=40)
    source = forms.ChoiceField(
        label=_("来源"),
        choices=[
            (EthicsSource.SUPERVISOR_OBSERVATION, EthicsSource.SUPERVISOR_OBSERVATION.label),
            (EthicsSource.RATING_MANIPULATION_REPORT, EthicsSource.RATING_MANIPULATION_REPORT.label),
            (EthicsSource.REAL_NAME_REPORT, EthicsSource.REAL_NAME_REPORT.label),
        ],
        widget=forms.RadioSelect,
    )
    summary = forms.CharField(
        label=_("案情摘要"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("写下发现了什么、何时、依据什么；不要写入用户的身份信息。"),
    )
