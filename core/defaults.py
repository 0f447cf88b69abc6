"""Default deadline policies (DOMAIN §2). Loaded by a data migration; idempotent."""

from datetime import timedelta

# (kind, duration, remind before, escalate to supervisors, raise priority)
DEFAULT_POLICIES = [
    ("first_response", timedelta(hours=24), timedelta(hours=4), True, True),
    ("triage", timedelta(hours=24), timedelta(hours=4), True, True),
    ("investigation", timedelta(days=7), timedelta(days=1), True, True),
    ("decision", timedelta(days=3), timedelta(hours=12), True, True),
    ("interview_result", timedelta(days=7), timedelta(days=1), True, False),
    # Counted back from the interview: the report is due this long before the slot.
    ("case_report", timedelta(days=2), timedelta(days=1), True, False),
    ("listener_task", timedelta(days=14), timedelta(days=2), True, False),
    # The listener's account of a complaint, asked for during the investigation.
    ("listener_statement", timedelta(days=3), timedelta(days=1), True, False),
    # Invitation an hour after closing, one reminder seven days later, then nothing.
    ("satisfaction_survey", timedelta(days=7, hours=1), timedelta(days=7), False, False),
    # A confidentiality-break report: a supervisor acknowledges it within the hour, day or night.
    ("break_ack", timedelta(hours=1), timedelta(minutes=30), True, False),
]


def policies_load(apps=None) -> None:
    """Create missing policies; never overwrite what supervisors edited."""
    from django.apps import apps as live_apps

    DeadlinePolicy = (apps or live_apps).get_model("core", "DeadlinePolicy")
    for kind, duration, remind, escalate, raise_priority in DEFAULT_POLICIES:
        DeadlinePolicy.objects.get_or_create(
            kind=kind,
            defaults={
                "duration": duration,
                "remind_before": remind,
                "escalate_to_supervisors": escalate,
                "raise_priority": raise_priority,
            },
        )
