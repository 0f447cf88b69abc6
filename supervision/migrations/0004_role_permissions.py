from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("supervision", "0003_qualityaudit")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
