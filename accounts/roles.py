"""The five roles of Hearken. Each is a Django group; a user may hold several."""

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


def grant(apps, role: str, perms: list[str]) -> None:
    """Give a role group model permissions ("app_label.codename") from a data migration.

    Each app's own data migration calls this for its models, so the lower app that owns
    the roles never has to know about the apps above it.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=role)
    for perm in perms:
        app_label, codename = perm.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
