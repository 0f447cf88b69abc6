from django.http import HttpRequest

from .models import User


class AuthedHttpRequest(HttpRequest):
    """A request behind login_required: its user is a real account (for type checkers)."""

    user: User  # type: ignore[assignment]
