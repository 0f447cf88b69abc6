"""The append-only tables refuse TRUNCATE, which skips the row triggers that refuse UPDATE and DELETE.

``hearken_refuse_truncate()`` is the statement trigger's function; each app adds the trigger to its own
append-only tables in a migration of its own. The one way through is for the tables' owner (who could
drop the trigger anyway) to ``SET LOCAL hearken.allow_truncate = 'on'``, as the test suite's flush does:
the app role that web and workers connect as owns nothing and has no TRUNCATE privilege, so a setting
it can change opens nothing for it.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION hearken_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('hearken.allow_truncate', true), '') = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'Table "%" is append-only: TRUNCATE is refused.', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0008_deadline_listener_statement")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS hearken_refuse_truncate();"),
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_truncate BEFORE TRUNCATE ON core_accesslog "
            "FOR EACH STATEMENT EXECUTE FUNCTION hearken_refuse_truncate();",
            "DROP TRIGGER IF EXISTS hearken_refuse_truncate ON core_accesslog;",
        ),
    ]
