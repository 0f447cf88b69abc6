"""A covering index for the supervision dashboard: a period's complaints are counted by state,
category, channel, score, listener, month and first response from the index alone (an
index-only scan of ~9 MB instead of the ~60 MB table at 100,000 complaints)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0004_alter_complaint_options_conflictdeclaration"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="complaint",
            index=models.Index(
                fields=["submitted_at"],
                include=[
                    "state",
                    "category",
                    "intake_channel",
                    "satisfaction_score",
                    "listener",
                    "first_response_at",
                    "first_response_due",
                ],
                name="complaint_dashboard_idx",
            ),
        ),
    ]
