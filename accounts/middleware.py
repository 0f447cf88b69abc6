import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

_SEEN_KEY = "_staff_seen"
_TOUCH_EVERY = 60

# Paths a staff member may reach before passing the second factor.
_OPEN_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/otp/",
    "/accounts/password_reset/",
    "/accounts/reset/",
    "/i18n/",
    "/static/",
    "/healthz",
)


class StaffSecondFactorMiddleware:
    """Case staff see nothing until they pass TOTP, and their sessions expire when idle.

    Runs after django_otp's OTPMiddleware, which sets ``user.is_verified``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_case_staff:
            # Slide the idle expiry, but write the session at most once a minute, not on every request.
            now = int(time.time())
            if now - request.session.get(_SEEN_KEY, 0) >= _TOUCH_EVERY:
                request.session[_SEEN_KEY] = now
                request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
            if not user.is_verified() and not request.path.startswith(_OPEN_PREFIXES):
                from django_otp import devices_for_user

                has_device = any(True for _ in devices_for_user(user, confirmed=True))
                target = "accounts:otp_verify" if has_device else "accounts:otp_setup"
                if request.path.startswith("/api/"):
                    return HttpResponse(status=403, content="second factor required")
                return redirect(f"{_reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _reverse(name: str) -> str:
    from django.urls import reverse

    return reverse(name)
