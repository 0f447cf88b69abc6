"""The append-only tables of this app refuse TRUNCATE (the function: core 0009_refuse_truncate)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("supervision", "0010_audit_trail"), ("core", "0009_refuse_truncate")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_truncate BEFORE TRUNCATE ON supervision_ethicscaseevent "
            "FOR EACH STATEMENT EXECUTE FUNCTION hearken_refuse_truncate();",
            "DROP TRIGGER IF EXISTS hearken_refuse_truncate ON supervision_ethicscaseevent;",
        ),
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_truncate BEFORE TRUNCATE ON supervision_confidentialitybreakreportevent "
            "FOR EACH STATEMENT EXECUTE FUNCTION hearken_refuse_truncate();",
            "DROP TRIGGER IF EXISTS hearken_refuse_truncate ON supervision_confidentialitybreakreportevent;",
        ),
    ]
