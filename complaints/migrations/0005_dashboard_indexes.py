"""Indexes for the supervision dashboard: a covering index from which a period's complaints are
counted by state, category, channel, score and first response alone (an index-only scan of
~9 MB instead of the ~60 MB table at 100,000 complaints), and (listener, submitted_at) for each
listener's complaints in a period (the funnel plot)."""

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
        migrations.AddIndex(
            model_name="complaint",
            index=models.Index(fields=["listener", "submitted_at"], name="complaint_listener_period_idx"),
        ),
    ]
