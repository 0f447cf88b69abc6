from django.db import migrations

from accounts.roles import INTEGRATION_GROUP, grant

ROLES = ["complainant", "consultant", "reviewer", "listener", "supervisor", INTEGRATION_GROUP]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    grant(apps, "supervisor", ["accounts.view_user", "accounts.change_user", "accounts.add_user"])
    for role in ("consultant", "reviewer"):
        grant(apps, role, ["accounts.view_user"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
