from django.db import migrations

from accounts.roles import roles_sync


def sync(apps, schema_editor):
    roles_sync(apps)


class Migration(migrations.Migration):
    """Reviewers publish interview slots (interviews.services.slot_publish lets them)."""

    dependencies = [
        ("interviews", "0006_interview_cancel_reason"),
        ("accounts", "0002_roles"),
        ("core", "0008_deadline_listener_statement"),
        ("listeners", "0002_role_permissions"),
        ("complaints", "0005_dashboard_indexes"),
        ("evaluations", "0007_listenerstatement_due_at"),
        ("supervision", "0008_anomaly_findings"),
    ]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
