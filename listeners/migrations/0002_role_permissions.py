from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("listeners", "0001_initial"), ("accounts", "0002_roles")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
