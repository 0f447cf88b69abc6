from django.db import migrations

from accounts.roles import INTEGRATION_GROUP, grant


def grant_permissions(apps, schema_editor):
    grant(apps, INTEGRATION_GROUP, ["listeners.import_listeningsession"])
    view = ["listeners.view_listenerprofile", "listeners.view_listeningsession", "listeners.view_listenerstatuschange"]
    for role in ("consultant", "reviewer"):
        grant(apps, role, view)
    grant(apps, "supervisor", [*view, "listeners.change_listenerprofile", "listeners.add_listenerprofile"])


class Migration(migrations.Migration):
    dependencies = [("listeners", "0001_initial"), ("accounts", "0002_roles")]
    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
