from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial"), ("interviews", "0004_role_permissions")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
