"""Forms of the quality-audit pages. They only check input; the rules live in supervision.audits."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SCORE_CHOICES = [(i, str(i)) for i in range(1, 6)]


def _score(label, help_text):
    return forms.TypedChoiceField(
        label=label, choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect, help_text=help_text
    )


class AuditForm(forms.Form):
    score_boundaries = _score(_("专业边界"), _("1 = 明显越界，5 = 边界清晰。"))
    score_empathy = _score(_("共情与倾听"), _("1 = 缺乏共情，5 = 充分共情。"))
    score_risk_assessment = _score(_("风险评估"), _("1 = 未识别风险，5 = 风险评估到位。"))
    score_record_completeness = _score(_("记录完整性"), _("1 = 记录缺失，5 = 记录完整。"))
    comment = forms.CharField(label=_("抽检意见"), required=False, widget=forms.Textarea(attrs={"rows": 5}))


class AuditOpenCaseForm(forms.Form):
    summary = forms.CharField(
        label=_("发现的问题"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("将据此以“督导发现”为来源立伦理案件。"),
    )
