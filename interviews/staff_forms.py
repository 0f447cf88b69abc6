"""The forms of the interview staff pages (interviews/staff_views.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import STAFF_ROLES, Role
from listeners.models import ListenerProfile, ListenerStatus

from .models import INTERIM_STATUSES, ScoringArea, ScoringItem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _plain(number: Decimal) -> str:
    """10.00 as 10 and 7.50 as 7.5, for labels."""
    whole = number.to_integral_value()
    return str(whole) if number == whole else str(number.normalize())


def _staff() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=[r.value for r in STAFF_ROLES]).distinct()


class PanelForm(forms.Form):
    main_interviewer = forms.ModelChoiceField(
        label=gettext_lazy("主面试官"),
        queryset=User.objects.filter(
            is_active=True, groups__name__in=[Role.REVIEWER.value, Role.SUPERVISOR.value]
        ).distinct(),
    )
    observers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("观察员"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["observers"].queryset = _staff()  # type: ignore[attr-defined]


class RequestForm(forms.Form):
    listener_code = forms.CharField(label=gettext_lazy("倾听师编号"), max_length=40)
    reason = forms.CharField(
        label=gettext_lazy("原因"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("倾听师会在门户中看到这段原因。"),
    )

    def clean_listener_code(self) -> ListenerProfile:
        code = self.cleaned_data["listener_code"].strip()
        listener = ListenerProfile.objects.filter(code=code).first()
        if listener is None:
            raise forms.ValidationError(_("没有编号为 %(code)s 的倾听师。") % {"code": code})
        return listener


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消原因"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("记录在面试中，并告知倾听师。"),
    )


class VerifyForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("核实意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("可选，倾听师会看到。"),
    )


class SendBackForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("退回意见"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=gettext_lazy("请写明需要倾听师补充或修改的内容，倾听师会看到。"),
    )


class ConfirmForm(forms.Form):
    """Nothing to fill in: the POST itself is the confirmation."""


def _local_datetime_field(label: StrOrPromise) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class HoldForm(forms.Form):
    started_at = _local_datetime_field(gettext_lazy("面试开始"))
    ended_at = _local_datetime_field(gettext_lazy("面试结束"))


class ScoreForm(forms.Form):
    """A score and a comment for every rubric item (``score_<code>``, ``comment_<code>``), and the
    written feedback. The ranges come from the rubric; interview_score checks them again."""

    feedback = forms.CharField(
        label=gettext_lazy("给倾听师的总体反馈"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=gettext_lazy("倾听师会在结果通知和门户中看到这段反馈。"),
    )

    def __init__(self, *args: Any, items: list[ScoringItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"score_{item.code}"] = forms.DecimalField(
                label=gettext_lazy("得分（0–%(max)s）") % {"max": _plain(item.max_score)},
                min_value=Decimal(0),
                max_value=item.max_score,
                max_digits=5,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "any"}),
            )
            self.fields[f"comment_{item.code}"] = forms.CharField(
                label=gettext_lazy("评语"), widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
            )

    def areas(self) -> list[tuple[ScoringArea, list[tuple[ScoringItem, forms.BoundField, forms.BoundField]]]]:
        """Items grouped under their area, in rubric order, for the template."""
        grouped: dict[int, tuple[ScoringArea, list]] = {}
        for item in self.items:
            _area, rows = grouped.setdefault(item.area_id, (item.area, []))
            rows.append((item, self[f"score_{item.code}"], self[f"comment_{item.code}"]))
        return list(grouped.values())

    def scores(self) -> dict[str, tuple[Decimal, str]]:
        data = self.cleaned_data
        return {i.code: (data[f"score_{i.code}"], data[f"comment_{i.code}"]) for i in self.items}

    def field_for(self, key: str) -> str | None:
        """Where a service error keyed by item code, ``feedback`` or ``__all__`` belongs."""
        if key in self.fields:
            return key
        if f"score_{key}" in self.fields:
            return f"score_{key}"
        return None


class SendResultForm(forms.Form):
    show_total = forms.BooleanField(label=gettext_lazy("在结果中告诉倾听师总分"), required=False)
    interim_status = forms.ChoiceField(
        label=gettext_lazy("改进期间的状态"),
        choices=[],
        help_text=gettext_lazy("60–70 分：改进计划全部核实前倾听师的状态。只有督导可以选择隐藏以外的状态。"),
    )

    def __init__(self, *args: Any, conditional: bool, supervisor: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["show_total"].initial = settings.INTERVIEW_RESULT_SHOWS_TOTAL
        if not conditional:
            del self.fields["interim_status"]
            return
        statuses = INTERIM_STATUSES if supervisor else [ListenerStatus.HIDDEN]
        field = self.fields["interim_status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.value, s.label) for s in statuses]
        field.initial = ListenerStatus.HIDDEN.value
