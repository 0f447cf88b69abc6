"""Competency interviews: scheduling, materials, panel, holding, scoring and the result.

Every function here locks the interview row, checks who is acting and what the rules allow,
calls the declarative transition, saves with ``update_fields`` and writes what must follow
(deadlines, listener status history, notifications) in the same transaction.

One module a step of the workflow; everything public is importable from here as before.
"""

from .booking import (
    interview_book,
    interview_open_scheduling,
    interview_request,
    material_upload,
    slot_publish,
    slot_times_check,
)
from .common import (
    CASE_REPORT_LEAD,
    CENT,
    CONDITIONAL_FROM,
    HOLD_TOLERANCE,
    INTERVIEW_FLOW,
    MAX_MINUTES,
    MIN_MINUTES,
    PANEL_LEAD_ONLY,
    PASS_FROM,
    PLAN_DESCRIPTIONS,
    PLAN_DUE_AFTER,
    REAPPLICATION_REASON,
    REAPPLY_AFTER_MONTHS,
    RESULT_WITHIN,
    add_months,
    case_report_lead,
    lead_hours,
    source_text,
)
from .panel import interview_cancel, interview_hold, interview_mark_no_show, interview_release_slot, panel_set
from .plan import plan_item_return, plan_item_submit, plan_item_verify, reapplication_check, reapplication_submit
from .result import (
    band_for,
    interview_hold_ended,
    interview_score,
    interview_send_result,
    rubric_check,
    rubric_problems,
    total_for,
)

__all__ = [
    "CASE_REPORT_LEAD",
    "CENT",
    "CONDITIONAL_FROM",
    "HOLD_TOLERANCE",
    "INTERVIEW_FLOW",
    "MAX_MINUTES",
    "MIN_MINUTES",
    "PANEL_LEAD_ONLY",
    "PASS_FROM",
    "PLAN_DESCRIPTIONS",
    "PLAN_DUE_AFTER",
    "REAPPLICATION_REASON",
    "REAPPLY_AFTER_MONTHS",
    "RESULT_WITHIN",
    "add_months",
    "band_for",
    "case_report_lead",
    "interview_book",
    "interview_cancel",
    "interview_hold",
    "interview_hold_ended",
    "interview_mark_no_show",
    "interview_open_scheduling",
    "interview_release_slot",
    "interview_request",
    "interview_score",
    "interview_send_result",
    "lead_hours",
    "material_upload",
    "panel_set",
    "plan_item_return",
    "plan_item_submit",
    "plan_item_verify",
    "reapplication_check",
    "reapplication_submit",
    "rubric_check",
    "rubric_problems",
    "slot_publish",
    "slot_times_check",
    "source_text",
    "total_for",
]
