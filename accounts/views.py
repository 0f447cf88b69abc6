from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from . import otp
from .forms import RegistrationForm, TokenForm
from .services import user_register_complainant
from .typing import AuthedHttpRequest


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_register_complainant(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
            language=request.LANGUAGE_CODE,
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("注册成功。欢迎来到 Hearken。"))
        return redirect("portal:home")
    return render(request, "accounts/register.html", {"form": form})


@sensitive_post_parameters("otp_token")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: AuthedHttpRequest) -> HttpResponse:
    """Second step of a staff sign-in. A new session key is issued once it passes."""
    user = request.user
    if not otp.has_confirmed_device(user):
        return redirect(f"{request.path.replace('verify', 'setup')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.verify_any(user=user, token=form.cleaned_data["otp_token"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()
            return redirect(_next_url(request))
        form.add_error("otp_token", _("验证码不正确或已过期，请输入身份验证器中当前显示的数字。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


@sensitive_post_parameters("otp_token")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: AuthedHttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, confirm with a first code, keep the backup codes."""
    user = request.user
    if otp.has_confirmed_device(user) and not user.is_verified():  # type: ignore[attr-defined]
        return redirect("accounts:otp_verify")
    device = otp.totp_device_pending(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = otp.totp_confirm(device=device, token=form.cleaned_data["otp_token"])
        if codes is not None:
            otp_login(request, device)
            request.session.cycle_key()
            return render(request, "accounts/otp_backup_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("otp_token", _("验证码不正确。请确认手机时间准确，并输入当前显示的 6 位数字。"))
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "qr_svg": otp.qr_svg(device), "secret": _base32(device), "next": _next_url(request)},
    )


def _base32(device) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")
