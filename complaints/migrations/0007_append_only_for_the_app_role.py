"""The append-only tables of this app stay so for the app role, whatever it sets (the function:
core 0010_append_only_for_the_app_role)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("complaints", "0006_refuse_truncate"), ("core", "0010_append_only_for_the_app_role")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_rewrite BEFORE UPDATE OR DELETE ON complaints_timelineevent "
            "FOR EACH ROW EXECUTE FUNCTION hearken_refuse_rewrite('note');",
            "DROP TRIGGER IF EXISTS hearken_refuse_rewrite ON complaints_timelineevent;",
        ),
    ]
