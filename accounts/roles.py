"""The five roles of Hearken. Each is a Django group; a user may hold several."""

from collections.abc import Iterable, Mapping

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMPLAINANT = "complainant", _("投诉人")
    CONSULTANT = "consultant", _("咨询顾问")
    REVIEWER = "reviewer", _("专业组")
    LISTENER = "listener", _("倾听师")
    SUPERVISOR = "supervisor", _("督导")


# Roles that work on cases: admin access, and a second factor at every sign-in.
STAFF_ROLES = frozenset({Role.CONSULTANT, Role.REVIEWER, Role.SUPERVISOR})

# The account the main platform uses to push listening sessions; not a person's role.
INTEGRATION_GROUP = "platform-integration"


# What each role may do in the admin and API, as "app_label.codename". Each app grants its own
# permissions from its AppConfig.ready() through roles_register, so accounts never names a higher
# app's permissions; accounts grants its own and core's (core sits below accounts and knows no roles).
GROUP_NAMES: tuple[str, ...] = (*Role.values, INTEGRATION_GROUP)
_GRANTS: dict[str, dict[str, frozenset[str]]] = {}


def roles_register(app_label: str, grants: Mapping[str, Iterable[str]]) -> None:
    """Grant app ``app_label``'s permissions to roles; called from its AppConfig.ready().

    Replaces what the app granted before, so calling it twice is harmless. A permission must be
    the app's own ("<app_label>.<codename>"; accounts also grants core's), and a role one of
    GROUP_NAMES: anything else is a mistake in the app and raises ValueError.
    """
    own = {app_label, "core"} if app_label == "accounts" else {app_label}
    for role, perms in grants.items():
        if role not in GROUP_NAMES:
            raise ValueError(f"{app_label} grants permissions to an unknown role {role!r}")
        strangers = [perm for perm in perms if perm.split(".")[0] not in own]
        if strangers:
            raise ValueError(f"{app_label} may grant only its own permissions, not {strangers}")
    _GRANTS[app_label] = {str(role): frozenset(perms) for role, perms in grants.items()}


def role_permissions() -> dict[str, frozenset[str]]:
    """Every group and the permissions the apps grant it, gathered."""
    gathered: dict[str, set[str]] = {name: set() for name in GROUP_NAMES}
    for grants in _GRANTS.values():
        for role, perms in grants.items():
            gathered[role] |= perms
    return {role: frozenset(perms) for role, perms in gathered.items()}


# accounts' own grants and core's, registered by AccountsConfig.ready().
ACCOUNTS_ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CONSULTANT: [
        "accounts.view_user",
        "core.view_deadline",
    ],
    Role.REVIEWER: [
        "accounts.view_user",
    ],
    Role.SUPERVISOR: [
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
        "core.add_holiday",
        "core.change_deadlinepolicy",
        "core.change_holiday",
        "core.delete_holiday",
        "core.view_accesslog",
        "core.view_deadline",
        "core.view_deadlinepolicy",
        "core.view_holiday",
        "core.view_notification",
        "core.view_outboxevent",
        "core.view_webhookdelivery",
    ],
}


def roles_sync(apps=None) -> None:
    """Create the role groups and give them exactly what the apps grant (role_permissions()). Idempotent.

    Data migrations call it with their historical ``apps`` (each app's latest data
    migration, so its permissions exist by then); ``manage.py sync_roles`` calls it live.
    Permissions of apps not migrated yet are skipped and granted by their own migration.
    """
    from django.apps import apps as live_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or live_apps
    for app_config in apps.get_app_configs():
        if apps is not live_apps:
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        if apps is not live_apps:
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)
