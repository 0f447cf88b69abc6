from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("interviews", "0003_rubric"), ("evaluations", "0005_contactrecord_file_contactrecord_file_name_and_more"), ("core", "0006_outbox_permissions")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
