from django import forms
from django.utils.translation import gettext_lazy as _


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("您的回复"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
