from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from .models import User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("邮箱"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        "invalid_login": _("邮箱或密码不正确。请注意密码区分大小写。"),
        "inactive": _("这个账户已停用。如有疑问，请联系平台。"),
    }


class RegistrationForm(forms.Form):
    email = forms.EmailField(label=_("邮箱"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    display_name = forms.CharField(
        label=_("怎么称呼您"), max_length=80, required=False, help_text=_("可以是昵称，不必是真实姓名。")
    )
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("再次输入密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("这个邮箱已有账户。如果您从未设置过密码，请使用“忘记密码”为它设置密码。"), code="exists"
            )
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            probe = User(email=cleaned.get("email", ""), display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class AccountPasswordResetForm(PasswordResetForm):
    """Also reaches accounts imported from the main platform that never had a password,
    so their owner can claim them through their own mailbox."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True)


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("验证码"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("身份验证器应用中显示的 6 位数字，或一个备用码。"),
    )
