"""The append-only tables of this app refuse TRUNCATE (the function: core 0009_refuse_truncate)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complaints", "0005_dashboard_indexes"), ("core", "0009_refuse_truncate")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_truncate BEFORE TRUNCATE ON complaints_timelineevent "
            "FOR EACH STATEMENT EXECUTE FUNCTION hearken_refuse_truncate();",
            "DROP TRIGGER IF EXISTS hearken_refuse_truncate ON complaints_timelineevent;",
        ),
    ]
