"""Append-only for the app role, whatever it sets.

The pgtrigger row triggers that refuse UPDATE and DELETE on the append-only tables step aside for
any session that sets ``pgtrigger.ignore`` (how retention blanks timeline notes), and any role may
set it. ``hearken_refuse_rewrite()`` is a second row trigger, outside pgtrigger, that no setting
lifts: a role that does not own the table may not delete a row, and may update one only to blank
the columns named as the trigger's arguments (retention's redaction), changing nothing else. The
owner passes (it could drop the trigger anyway); the app role owns nothing (manage.py grant_app_role).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION hearken_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    redactable text[] := coalesce(TG_ARGV, '{}'::text[]);
    col text;
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - redactable) = (to_jsonb(OLD) - redactable) THEN
        FOREACH col IN ARRAY redactable LOOP
            IF coalesce(to_jsonb(NEW) ->> col, '') <> '' THEN
                RAISE EXCEPTION 'Table "%" is append-only: column % may only be blanked.', TG_TABLE_NAME, col
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END LOOP;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'Table "%" is append-only: % is refused.', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0009_refuse_truncate")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS hearken_refuse_rewrite();"),
        migrations.RunSQL(
            "CREATE TRIGGER hearken_refuse_rewrite BEFORE UPDATE OR DELETE ON core_accesslog "
            "FOR EACH ROW EXECUTE FUNCTION hearken_refuse_rewrite();",
            "DROP TRIGGER IF EXISTS hearken_refuse_rewrite ON core_accesslog;",
        ),
    ]
