"""What each app's records hold in free text, declared by the app that owns them.

Retention (supervision) blanks the free text written by or about the parties once a case is due
for anonymisation and keeps the statistics. Each app registers its own models' free-text fields
from its AppConfig.ready(), as it registers its breach handlers, so a new text field is declared
next to its model's app and retention never spells another app's columns.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

_FREE_TEXT: dict[str, tuple[str, ...]] = {}


def free_text_register(model: type[models.Model], fields: Iterable[str]) -> None:
    """Declare ``fields`` of ``model`` as free text; replaces an earlier declaration for the model.

    Raises FieldDoesNotExist for a name the model does not have, and ValueError for a field that
    is not text (retention writes a placeholder into each).
    """
    names = tuple(fields)
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, models.CharField | models.TextField):
            raise ValueError(f"{model._meta.label}.{name} is not a text field")
    _FREE_TEXT[model._meta.label] = names


def free_text_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The free-text fields ``model``'s app declared; LookupError if it declared none."""
    try:
        return _FREE_TEXT[model._meta.label]
    except KeyError:
        raise LookupError(f"{model._meta.label} declares no free text for retention") from None


def free_text_declared() -> dict[str, tuple[str, ...]]:
    """Every declaration, by model label ("complaints.Complaint")."""
    return dict(_FREE_TEXT)
