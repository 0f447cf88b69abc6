from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.roles import Role
from accounts.typing import AuthedHttpRequest
from listeners.models import ListenerProfile, ListeningSession

RECENT_SESSIONS = 10


@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    """Each role's landing page: what they can do here, and where."""
    user = request.user
    context: dict = {"is_staff_role": user.is_case_staff}
    if user.has_role(Role.COMPLAINANT):
        context["my_sessions"] = list(
            ListeningSession.objects.filter(complainant=user)
            .select_related("listener")
            .order_by("-started_at")[:RECENT_SESSIONS]
        )
    if user.has_role(Role.LISTENER):
        context["listener_profile"] = ListenerProfile.objects.filter(user=user).first()
    return render(request, "portal/home.html", context)
