"""How a service error reaches a person, in one place for every edge.

A service raises ``ValidationError`` (with a message_dict when it can name the field),
``PermissionDenied`` or a ``core.errors.Conflict``. Pages and the admin put the error next to
the field it names or above the form (``add_service_errors``) or show it as a message
(``service_error_message``); the API answers 400, 403 or 409 (``core.api_errors``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError

from core.errors import Conflict

if TYPE_CHECKING:
    from django import forms

SERVICE_ERRORS = (ValidationError, PermissionDenied, Conflict)


def add_service_errors(
    form: forms.Form, exc: ValidationError | PermissionDenied | Conflict, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's error next to the form field it names (renamed by ``field_map`` when the
    form calls it otherwise), or above the form when it names none the form has."""
    if not isinstance(exc, ValidationError):
        form.add_error(None, service_error_message(exc))
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        target = (field_map or {}).get(name, name)
        form.add_error(target if target in form.fields and target != NON_FIELD_ERRORS else None, errors)


def service_error_message(exc: Exception) -> str:
    """The error as one line for a page's or the admin's message."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
