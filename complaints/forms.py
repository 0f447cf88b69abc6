from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import normalize_id_number, normalize_phone, validate_id_number, validate_mobile_phone
from listeners.models import ListeningSession

from .models import Category, ConsentText, Demand
from .services import MAX_ATTACHMENTS

CATEGORY_HINTS = {
    Category.CALL_QUALITY: _("声音断续、掉线、无法接通等"),
    Category.ORDER_ANOMALY: _("扣费、时长、预约与实际不符等"),
    Category.PROFESSIONAL_COMPETENCE: _("倾听师的回应让您受到伤害、没有被理解等"),
    Category.ETHICS: _("越界、诱导下单、泄露隐私、私下联系等"),
    Category.OTHER: _("以上都不符合"),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ListeningSession) -> str:
        return f"{obj.order_no} · {obj.get_channel_display()} · {obj.started_at:%Y-%m-%d %H:%M} · {obj.listener.display_name}"


class ComplaintForm(forms.Form):
    """The intake form. Identity fields are validated here and again by the service."""

    session = SessionChoiceField(
        label=_("选择被投诉的倾诉订单"),
        queryset=ListeningSession.objects.none(),
        required=False,
        empty_label=_("请选择"),
    )
    order_no = forms.CharField(
        label=_("或者填写订单号"), max_length=40, required=False, help_text=_("订单号可以在主平台的订单详情中找到。")
    )
    category = forms.ChoiceField(
        label=_("您遇到的问题属于"),
        choices=Category.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    content = forms.CharField(
        label=_("发生了什么"),
        widget=forms.Textarea(attrs={"rows": 7}),
        max_length=10000,
        help_text=_("请尽量写下时间、对方说过的话和您当时的感受。写多少都可以。"),
    )
    demands = forms.MultipleChoiceField(
        label=_("您希望平台怎么处理"),
        choices=Demand.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    demands_other = forms.CharField(
        label=_("其他诉求或补充说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    real_name = forms.CharField(label=_("真实姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=22, help_text=_("18 位第二代身份证号。"))
    phone = forms.CharField(label=_("手机号"), max_length=20)
    consent = forms.BooleanField(
        label=_("我已阅读并同意上面的《实名投诉知情同意书》"),
        required=True,
        error_messages={"required": _("实名投诉需要您同意知情同意书。不同意也没关系，但平台将无法受理实名投诉。")},
    )
    consent_version = forms.CharField(widget=forms.HiddenInput)
    evidence = MultipleFileField(
        label=_("证据文件（可选）"),
        required=False,
        help_text=_("截图、聊天记录、PDF 或录音，最多 5 个，每个不超过 10 MB。"),
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, user, consent_text: ConsentText, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.consent_text = consent_text
        cast(forms.ModelChoiceField, self.fields["session"]).queryset = (
            ListeningSession.objects.filter(complainant=user).select_related("listener").order_by("-started_at")
        )
        self.fields["consent_version"].initial = consent_text.version
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            (v, f"{label}（{CATEGORY_HINTS[Category(v)]}）") for v, label in Category.choices
        ]

    def clean_id_number(self) -> str:
        value = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(value)
        return value

    def clean_phone(self) -> str:
        value = normalize_phone(self.cleaned_data["phone"])
        validate_mobile_phone(value)
        return value

    def clean_evidence(self):
        files = self.cleaned_data.get("evidence") or []
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(_("最多上传 %(n)s 个文件。") % {"n": MAX_ATTACHMENTS})
        return files

    def clean_consent_version(self) -> str:
        if self.cleaned_data["consent_version"] != self.consent_text.version:
            raise forms.ValidationError(_("知情同意书刚刚更新了，请重新阅读后再勾选同意。"))
        return self.cleaned_data["consent_version"]

    def clean(self):
        cleaned = super().clean()
        session, order_no = cleaned.get("session"), (cleaned.get("order_no") or "").strip()
        if session is None and order_no:
            session = cast(forms.ModelChoiceField, self.fields["session"]).queryset.filter(order_no=order_no).first()
            if session is None:
                self.add_error("order_no", _("没有找到属于您账户的这个订单号，请核对，或从上面的列表中选择。"))
        elif session is None and "session" not in self.errors:
            self.add_error("session", _("请选择要投诉的订单，或填写订单号。"))
        cleaned["session"] = session
        if Demand.OTHER in (cleaned.get("demands") or []) and not (cleaned.get("demands_other") or "").strip():
            self.add_error("demands_other", _("您选择了“其他”诉求，请简单写一下。"))
        return cleaned


class AddInfoForm(forms.Form):
    text = forms.CharField(
        label=_("补充说明"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10000
    )
    evidence = MultipleFileField(label=_("补充证据（可选）"), required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（可选）"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    confirm = forms.BooleanField(label=_("我确认撤回这件投诉"), required=True)


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("您对这次投诉处理的满意程度"),
        choices=[
            (5, _("5 分 · 非常满意")),
            (4, _("4 分 · 满意")),
            (3, _("3 分 · 一般")),
            (2, _("2 分 · 不满意")),
            (1, _("1 分 · 非常不满意")),
        ],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    comment = forms.CharField(
        label=_("想对我们说的话（可选）"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
