from django.db import migrations

from core.defaults import policies_load


def load(apps, schema_editor):
    policies_load(apps)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_deadlinepolicy_holiday_deadline_notification")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
