"""Service errors as HTTP, for every API view (REST_FRAMEWORK's EXCEPTION_HANDLER).

ValidationError → 400 with the fields it names, PermissionDenied → 403 (DRF's own mapping),
any ``core.errors.Conflict`` (stale version, wrong state) → 409 with its message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from core.errors import Conflict


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def drf_detail(exc: DjangoValidationError, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A Django ValidationError as DRF's error body, field names renamed to the API's."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    rename = {"__all__": api_settings.NON_FIELD_ERRORS_KEY, **(rename or {})}
    return {rename.get(field, field): messages for field, messages in exc.message_dict.items()}


def api_exception(exc: Exception) -> Exception:
    """The DRF exception a service error answers as; others unchanged."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(drf_detail(exc))
    if isinstance(exc, Conflict):
        return ConflictError(str(exc))
    return exc


def service_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    return exception_handler(api_exception(exc), context)
