"""The access policy's registry: for each model, which rows a user may see and act on.

Each app registers its own models in ``AppConfig.ready`` (``access.register(Complaint, ...)``), so
the rule for a model lives next to the model and no lower app imports a higher one. Every edge —
admin querysets and object pages, API querysets, HTML pages, downloads, exports, notification
links — asks here, and someone else's object is a 404 (its existence is not theirs to learn).

The role questions themselves ("is this user a supervisor") live in ``accounts.policy``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Rule:
    visible: Callable[[Any, QuerySet], QuerySet]
    can_act: Callable[[Any, Any], bool] | None = None


_rules: dict[str, Rule] = {}


def register(
    model: type[Model],
    *,
    visible: Callable[[Any, QuerySet], QuerySet],
    can_act: Callable[[Any, Any], bool] | None = None,
) -> None:
    """``visible(user, queryset)`` narrows ``queryset`` to the rows ``user`` may see;
    ``can_act(user, obj)`` says whether they may change it (default: whether they may see it)."""
    _rules[model._meta.label_lower] = Rule(visible, can_act)


def is_registered(model: type[Model]) -> bool:
    return model._meta.label_lower in _rules


def _rule(model: type[Model]) -> Rule:
    try:
        return _rules[model._meta.label_lower]
    except KeyError:
        raise LookupError(f"no access rule for {model._meta.label_lower}") from None


def visible(user: Any, queryset: QuerySet[M] | type[M]) -> QuerySet[M]:
    """The rows of ``queryset`` (or of a model's default manager) that ``user`` may see."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    if user is None or not user.is_authenticated:
        return queryset.none()
    return _rule(queryset.model).visible(user, queryset)


def can_view(user: Any, obj: Model) -> bool:
    if obj is None or obj.pk is None:
        return False
    return visible(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def can_act(user: Any, obj: Model) -> bool:
    rule = _rule(type(obj))
    if not can_view(user, obj):
        return False
    return rule.can_act(user, obj) if rule.can_act is not None else True


def get_visible_or_404(user: Any, queryset: QuerySet[M] | type[M], **lookup: Any) -> M:
    """The object, if ``user`` may see it; a 404 otherwise, whether it exists or not."""
    try:
        return visible(user, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError) as exc:
        raise Http404 from exc
