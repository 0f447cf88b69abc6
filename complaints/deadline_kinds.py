"""The complaint's deadlines (DOMAIN §2), with their default policies."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from core.deadline_kinds import deadline_kind_register

FIRST_RESPONSE = deadline_kind_register(
    "first_response", _("首次回应"), duration=timedelta(hours=24), remind_before=timedelta(hours=4), raise_priority=True
)
TRIAGE = deadline_kind_register(
    "triage", _("初步处理"), duration=timedelta(hours=24), remind_before=timedelta(hours=4), raise_priority=True
)
INVESTIGATION = deadline_kind_register(
    "investigation", _("调查"), duration=timedelta(days=7), remind_before=timedelta(days=1), raise_priority=True
)
DECISION = deadline_kind_register(
    "decision", _("处理决定"), duration=timedelta(days=3), remind_before=timedelta(hours=12), raise_priority=True
)
# The listener's account of a complaint, asked for during the investigation (a withdrawal cancels it).
LISTENER_STATEMENT = deadline_kind_register(
    "listener_statement", _("倾听师陈述"), duration=timedelta(days=3), remind_before=timedelta(days=1)
)
# Invitation an hour after closing, one reminder seven days later, then nothing.
SATISFACTION_SURVEY = deadline_kind_register(
    "satisfaction_survey",
    _("满意度回访"),
    duration=timedelta(days=7, hours=1),
    remind_before=timedelta(days=7),
    escalate_to_supervisors=False,
    reminder_template="survey_invitation",
    breach_template="survey_reminder",
    breach_urgent=False,
)
