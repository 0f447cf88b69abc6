from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_deadline_policies"), ("complaints", "0003_complaint_satisfaction_at_and_more")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
