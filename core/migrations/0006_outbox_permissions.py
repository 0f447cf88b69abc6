from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    """Supervisors see the outbox and its delivery log (core.view_outboxevent, core.view_webhookdelivery)."""

    dependencies = [("core", "0005_outboxevent_webhookdelivery")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
