"""Who a user is when they act: the one answer to "is this user a supervisor" and its kin.

A superuser reads and acts as a supervisor (they hold every permission anyway), and like every
case-staff account still passes the second factor before seeing anything (the middleware asks
``User.is_case_staff``, which counts superusers). Object questions ("may this user see this
complaint") are answered by ``core.access``, where each app registers its models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .roles import Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import User


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_supervisor(user: Any) -> bool:
    """Supervisors and superusers."""
    return _signed_in(user) and (user.is_superuser or user.has_role(Role.SUPERVISOR))


def is_reviewer(user: Any) -> bool:
    """Members of the professional group (not supervisors unless they also hold the role)."""
    return _signed_in(user) and user.has_role(Role.REVIEWER)


def is_consultant(user: Any) -> bool:
    return _signed_in(user) and user.has_role(Role.CONSULTANT)


def is_review_staff(user: Any) -> bool:
    """Reviewers and supervisors: the people the review workspace is for."""
    return is_reviewer(user) or is_supervisor(user)


def is_listener(user: Any) -> bool:
    return _signed_in(user) and user.has_role(Role.LISTENER)


def is_complainant(user: Any) -> bool:
    return _signed_in(user) and user.has_role(Role.COMPLAINANT)


# The order in which roles decide: a supervisor who is also a reviewer acts as a supervisor.
_ACTING_ORDER = (Role.SUPERVISOR, Role.REVIEWER, Role.CONSULTANT, Role.LISTENER, Role.COMPLAINANT)


def acting_role(user: Any) -> Role | None:
    """The role in which ``user`` acts on case pages: the widest they hold (superuser: supervisor)."""
    if not _signed_in(user):
        return None
    if user.is_superuser:
        return Role.SUPERVISOR
    return next((role for role in _ACTING_ORDER if user.has_role(role)), None)


def supervisors() -> QuerySet[User]:
    """Active supervisor accounts: the people notified of what needs a supervisor."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True)
