"""Which sign-in attempts django-axes counts together."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The email as sign-in matches it (trimmed, any letter case), so every spelling of one address
    shares one failure counter: ``Ann@X.org`` and `` ann@x.org`` are the same guesses."""
    field = settings.AXES_USERNAME_FORM_FIELD
    value = (credentials or getattr(request, "data", request.POST)).get(field)
    return value.strip().lower() if isinstance(value, str) else value
