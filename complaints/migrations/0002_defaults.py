from django.db import migrations

from accounts.roles import roles_sync
from complaints.defaults import defaults_load


def load(apps, schema_editor):
    defaults_load(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial"), ("core", "0001_initial"), ("listeners", "0002_role_permissions")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
