from django.db import migrations

from supervision.defaults import anomaly_rules_load


def load(apps, schema_editor):
    anomaly_rules_load(apps)


class Migration(migrations.Migration):
    dependencies = [("supervision", "0005_anomaly_rating_swing")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
