"""Forms of the listener's interview pages. They only check input; the rules live in interviews.services."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interviews.models import InterviewSlot, MaterialKind
from interviews.selectors import slots_open


class SlotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: InterviewSlot) -> str:
        start, end = timezone.localtime(obj.starts_at), timezone.localtime(obj.ends_at)
        return f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}"


class BookForm(forms.Form):
    slot = SlotChoiceField(
        label=_("面试时段"),
        queryset=InterviewSlot.objects.none(),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        empty_label=None,
        error_messages={"invalid_choice": _("该时段已不可预约，请选择其他时段。")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["slot"]).queryset = slots_open(after=timezone.now()).order_by(
            "starts_at", "id"
        )


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=MaterialKind.choices)
    file = forms.FileField(
        label=_("文件"),
        help_text=_("可上传 PDF、图片或音频文件，不超过 10 MB。"),
    )


class PlanSubmitForm(forms.Form):
    """A note, a proof file, or both; plan_item_submit says when neither came."""

    note = forms.CharField(
        label=_("完成说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("请写明完成的时间、内容和相关记录，工作人员会据此核实。"),
    )
    evidence = forms.FileField(
        label=_("完成证明"),
        required=False,
        help_text=_("可上传 PDF、图片或音频文件，不超过 10 MB。"),
    )
