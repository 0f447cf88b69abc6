"""Supervision's deadline, with its default policy."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from core.deadline_kinds import deadline_kind_register

# A confidentiality-break report: a supervisor acknowledges it within the hour, day or night.
BREAK_ACK = deadline_kind_register(
    "break_ack", _("突破保密报告确认"), duration=timedelta(hours=1), remind_before=timedelta(minutes=30)
)
