"""Creating accounts and changing roles: the only code that writes users and their groups."""

from django.contrib.auth.models import Group
from django.db import transaction

from .models import User
from .roles import STAFF_ROLES, Role


@transaction.atomic
def user_assign_role(*, user: User, role: Role | str) -> User:
    """Add a role; a staff role also opens the admin (behind the second factor)."""
    group, _ = Group.objects.get_or_create(name=str(role))
    user.groups.add(group)
    if role in STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_role_names", None)
    return user


@transaction.atomic
def user_remove_role(*, user: User, role: Role | str) -> User:
    user.groups.remove(*Group.objects.filter(name=str(role)))
    user.__dict__.pop("_role_names", None)
    if user.is_staff and not user.is_superuser and not (user.role_names & {r.value for r in STAFF_ROLES}):
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_register_complainant(*, email: str, password: str, display_name: str = "", language: str = "") -> User:
    """Self-service sign-up: complainants only. Staff and listeners are created by supervisors."""
    user = User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name,
        language=language or User.Language.ZH_HANS,
    )
    return user_assign_role(user=user, role=Role.COMPLAINANT)
