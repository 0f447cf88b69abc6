"""The competency interview's deadlines, with their default policies."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from core.deadline_kinds import deadline_kind_register

INTERVIEW_RESULT = deadline_kind_register(
    "interview_result", _("面试结果"), duration=timedelta(days=7), remind_before=timedelta(days=1)
)
# Counted back from the interview: the report is due this long before the slot.
CASE_REPORT = deadline_kind_register(
    "case_report", _("个案报告"), duration=timedelta(days=2), remind_before=timedelta(days=1)
)
