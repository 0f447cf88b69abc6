from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class HearkenAdminSite(OTPAdminSite):
    """django-otp's admin site, with one sign-in page for everyone: the site's own,
    which sends staff on to the second factor before they come back here."""

    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("login"))
