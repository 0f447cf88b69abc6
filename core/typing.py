from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    # django-stubs resolves this alias to settings.AUTH_USER_MODEL, so core names no app above it.
    from django.contrib.auth.models import _User as User


class AuthedHttpRequest(HttpRequest):
    """A request behind login_required: its user is a real account (for type checkers)."""

    user: User  # type: ignore[assignment]
