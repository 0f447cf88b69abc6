"""The append-only tables of this app refuse TRUNCATE (the function: core 0009_refuse_truncate)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("interviews", "0008_audit_trail"), ("core", "0009_refuse_truncate")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_truncate BEFORE TRUNCATE ON interviews_competencyinterviewevent "
            "FOR EACH STATEMENT EXECUTE FUNCTION hearken_refuse_truncate();",
            "DROP TRIGGER IF EXISTS hearken_refuse_truncate ON interviews_competencyinterviewevent;",
        ),
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_truncate BEFORE TRUNCATE ON interviews_interviewplanitemevent "
            "FOR EACH STATEMENT EXECUTE FUNCTION hearken_refuse_truncate();",
            "DROP TRIGGER IF EXISTS hearken_refuse_truncate ON interviews_interviewplanitemevent;",
        ),
    ]
