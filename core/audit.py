"""Writing the access log: one call per reveal of sensitive data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.http import HttpRequest

from .models import AccessLog

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # settings.AUTH_USER_MODEL to django-stubs


def access_log_write(
    *,
    actor: User,
    obj: models.Model,
    field: str,
    reason: str,
    case_reference: str = "",
    action: str = "reveal",
    request: HttpRequest | None = None,
) -> AccessLog:
    if not reason.strip():
        raise ValueError("a reveal needs a reason")
    return AccessLog.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        case_reference=case_reference,
        field=field,
        reason=reason.strip(),
        ip_address=request.META.get("REMOTE_ADDR") if request is not None else None,
    )
