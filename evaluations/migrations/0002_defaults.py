from django.db import migrations

from accounts.roles import roles_sync
from evaluations.defaults import grades_load


def load(apps, schema_editor):
    grades_load(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0001_initial"),
        ("complaints", "0004_alter_complaint_options_conflictdeclaration"),
        ("interviews", "0001_initial"),
        ("core", "0004_role_permissions"),
    ]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
