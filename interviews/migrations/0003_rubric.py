from django.db import migrations

from interviews.defaults import rubric_load


def load(apps, schema_editor):
    rubric_load(apps)


class Migration(migrations.Migration):
    dependencies = [("interviews", "0002_interviewmaterial_interviewplanitem_interviewscore_and_more")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
