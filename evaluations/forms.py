"""Forms of the review workspace. They check input; the rules live in evaluations.services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from core.service_errors import add_service_errors as add_service_errors  # re-exported: the one adapter

from .models import (
    AWARENESS_SCALE,
    ContactChannel,
    Evaluation,
    Facts,
    Grade,
    ListenerResponse,
    Measure,
    Outcome,
    Party,
    Reasonableness,
    Remedy,
)
from .services import EVALUATION_FIELDS

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _radios() -> forms.RadioSelect:
    return forms.RadioSelect(attrs={"class": "form-check-input"})


def _checkboxes() -> forms.CheckboxSelectMultiple:
    return forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


def _text(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class GradeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Grade) -> str:
        return gettext("%(level)s 级 · %(name)s") % {"level": obj.level, "name": obj.name}


class EvaluationForm(forms.Form):
    """One reviewer's scoring of the four dimensions. Nothing is required for a draft: the
    service says what is missing when the evaluation is submitted."""

    facts = forms.ChoiceField(label=_("投诉是否属实"), choices=Facts.choices, required=False, widget=_radios())
    facts_rationale = forms.CharField(label=_("事实判断的理由"), required=False, widget=_text())
    evidence_cited = forms.CharField(
        label=_("引用的证据"),
        required=False,
        widget=_text(2),
        help_text=_("写明出处，例如“通话录音第 12–20 分钟”“投诉人提供的截图 2”。"),
    )
    demand = forms.ChoiceField(
        label=_("诉求是否合理"), choices=Reasonableness.choices, required=False, widget=_radios()
    )
    demand_rationale = forms.CharField(label=_("诉求判断的理由"), required=False, widget=_text())
    finding_competence_gap = forms.BooleanField(label=_("专业胜任力不足"), required=False)
    finding_subjective_harm = forms.BooleanField(label=_("造成用户主观伤害"), required=False)
    finding_inducing_orders = forms.BooleanField(label=_("诱导下单"), required=False)
    finding_illegality = forms.BooleanField(label=_("涉嫌违法"), required=False)
    competence_rationale = forms.CharField(label=_("胜任力与伦理判断的理由"), required=False, widget=_text())
    awareness = forms.TypedChoiceField(
        label=_("倾诉中的觉察"),
        choices=AWARENESS_SCALE,
        coerce=int,
        empty_value=None,
        required=False,
        widget=_radios(),
    )
    reflection = forms.TypedChoiceField(
        label=_("处理过程中的反思"),
        choices=AWARENESS_SCALE,
        coerce=int,
        empty_value=None,
        required=False,
        widget=_radios(),
    )
    awareness_rationale = forms.CharField(label=_("觉察与反思评估的理由"), required=False, widget=_text())
    outcome = forms.ChoiceField(label=_("结论"), choices=Outcome.choices, required=False, widget=_radios())
    proposed_grade = GradeChoiceField(
        label=_("建议等级"),
        queryset=Grade.objects.filter(active=True).order_by("level"),
        required=False,
        empty_label=_("请选择"),
        help_text=_("结论 A 对应 0 级；结论 B 须提出 1 级及以上。"),
    )
    outcome_rationale = forms.CharField(label=_("结论理由"), required=False, widget=_text())

    FINDINGS = ["finding_competence_gap", "finding_subjective_harm", "finding_inducing_orders", "finding_illegality"]

    @classmethod
    def initial_from(cls, evaluation: Evaluation | None) -> dict[str, Any]:
        if evaluation is None:
            return {}
        return {name: getattr(evaluation, name) for name in EVALUATION_FIELDS}

    def scores(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in EVALUATION_FIELDS}


class ReconcileForm(EvaluationForm):
    disagreements = forms.CharField(
        label=_("评估人之间的分歧"),
        required=False,
        widget=_text(4),
        help_text=_("写明各评估人意见不同之处，以及最终评估如何取舍。没有分歧时可以留空。"),
    )


class DecisionForm(forms.Form):
    """The decision draft. The grade is chosen above the form (a GET re-render with its defaults)."""

    grade = forms.ModelChoiceField(
        queryset=Grade.objects.filter(active=True),
        widget=forms.HiddenInput,
        error_messages={"required": _("请先选择处理等级。"), "invalid_choice": _("请先选择处理等级。")},
    )
    measures = forms.MultipleChoiceField(
        label=_("倾听师处理措施"), choices=Measure.choices, required=False, widget=_checkboxes()
    )
    remedies = forms.MultipleChoiceField(
        label=_("用户补救"), choices=Remedy.choices, required=False, widget=_checkboxes()
    )
    refund_amount = forms.DecimalField(
        label=_("部分退款金额（元）"), required=False, max_digits=10, decimal_places=2, min_value=0
    )
    compensation_amount = forms.DecimalField(
        label=_("补偿金额（元）"), required=False, max_digits=10, decimal_places=2, min_value=0
    )
    adjustment_reason = forms.CharField(
        label=_("调整理由"),
        required=False,
        widget=_text(2),
        help_text=_("措施或补救与等级默认不同时必填。"),
    )
    text_to_complainant = forms.CharField(
        label=_("给投诉人的说明"),
        required=False,
        widget=_text(5),
        help_text=_("投诉人会收到这段文字。请用平实、尊重的语言说明调查结论和平台的处理。"),
    )
    text_to_listener = forms.CharField(
        label=_("给倾听师的说明"),
        required=False,
        widget=_text(5),
        help_text=_("倾听师会收到这段文字和需要完成的任务。不要写入投诉人的任何身份信息。"),
    )


class ListenerResponseForm(forms.Form):
    response = forms.ChoiceField(label=_("倾听师的意见"), choices=ListenerResponse.choices, widget=_radios())
    reason = forms.CharField(
        label=_("倾听师的理由"),
        required=False,
        widget=_text(3),
        help_text=_("倾听师不同意时必填：请如实记录其理由。"),
    )


class ContactRecordForm(forms.Form):
    party = forms.ChoiceField(label=_("沟通对象"), choices=Party.choices, widget=_radios())
    channel = forms.ChoiceField(label=_("沟通方式"), choices=ContactChannel.choices)
    contacted_at = forms.DateTimeField(
        label=_("沟通时间"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("留空表示现在。"),
    )
    summary = forms.CharField(label=_("沟通概要"), widget=_text(3))
    # With the complainant
    expectations = forms.CharField(label=_("期望与失望"), required=False, widget=_text(2))
    conflict_points = forms.CharField(label=_("冲突点"), required=False, widget=_text(2))
    evidence_notes = forms.CharField(label=_("证据"), required=False, widget=_text(2))
    confirmed_demands = forms.CharField(label=_("确认的诉求"), required=False, widget=_text(2))
    # With the listener
    consent_disclosed = forms.BooleanField(label=_("已告知倾听师：投诉人签署了实名投诉知情同意书"), required=False)
    listener_account = forms.CharField(label=_("倾听师的陈述"), required=False, widget=_text(2))
    listener_understanding = forms.CharField(label=_("倾听师对投诉的理解"), required=False, widget=_text(2))
    listener_view_of_demands = forms.CharField(label=_("倾听师对诉求的看法"), required=False, widget=_text(2))
    file = forms.FileField(
        label=_("附件（可选）"), required=False, help_text=_("录音、聊天记录截图或 PDF，不超过 10 MB。")
    )

    COMPLAINANT_FIELDS = ["expectations", "conflict_points", "evidence_notes", "confirmed_demands"]
    LISTENER_FIELDS = ["consent_disclosed", "listener_account", "listener_understanding", "listener_view_of_demands"]

    def clean_contacted_at(self):
        value = self.cleaned_data["contacted_at"]
        if value is not None and value > timezone.now() + timedelta(minutes=5):
            raise ValidationError(_("沟通时间不能晚于现在。"))
        return value

    def record(self) -> dict[str, Any]:
        """The fields for the party spoken with; the other party's section is ignored."""
        data = self.cleaned_data
        own = self.COMPLAINANT_FIELDS if data["party"] == Party.COMPLAINANT else self.LISTENER_FIELDS
        return {
            "party": data["party"],
            "channel": data["channel"],
            "summary": data["summary"],
            "contacted_at": data["contacted_at"],
            "upload": data.get("file"),
            **{name: data[name] for name in own},
        }


class InformationRequestForm(forms.Form):
    party = forms.ChoiceField(label=_("询问对象"), choices=Party.choices, widget=_radios())
    question = forms.CharField(
        label=_("问题"),
        widget=_text(3),
        help_text=_("对方会在自己的页面上看到并回复，期限 3 天。问倾听师时不要透露投诉人的身份。"),
    )


class ReviewerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_short_name()


class AddReviewerForm(forms.Form):
    reviewer = ReviewerChoiceField(
        label=_("增加评估人"), queryset=get_user_model().objects.none(), empty_label=_("请选择")
    )

    def __init__(self, *args, exclude: set[int] = frozenset(), **kwargs):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["reviewer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            get_user_model()
            .objects.filter(groups__name=Role.REVIEWER, is_active=True)
            .exclude(pk__in=exclude)
            .order_by("display_name", "email")
        )


class ConflictForm(forms.Form):
    reason = forms.CharField(
        label=_("利益冲突的原因"),
        widget=_text(2),
        help_text=_("例如与倾听师或投诉人相识、曾是其督导。声明后您将回避本案。"),
    )


class TaskReviewForm(forms.Form):
    review_note = forms.CharField(
        label=_("核实意见"),
        required=False,
        widget=_text(2),
        help_text=_("退回时必填：说明还需要补充什么。"),
    )
