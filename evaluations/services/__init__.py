"""Investigation, evaluation, decision, follow-up and appeal: every write of the evaluations app.

Each public function is atomic: a decision's notification creates its tasks, deadlines, status
changes and interview request in one transaction, so a failure in the middle leaves nothing behind.

One module a step of the workflow; everything public is importable from here as before.
"""

from .appeal import APPEAL_FLOW, OUTCOME_MOVES, appeal_assign, appeal_file, appeal_resolve
from .assignment import is_lead, reviewer_assign, reviewer_step_aside, reviewers_of
from .common import COMPLAINANT_REOPEN_DAYS, INFORMATION_REQUEST_DAYS, LISTENER_APPEAL_DAYS
from .decision import (
    DECISION_FLOW,
    decision_approve,
    decision_draft,
    decision_notify,
    decision_record_listener_response,
    decision_send_back,
    decision_submit,
)
from .evaluation import (
    EVALUATION_FIELDS,
    REQUIRED_ON_SUBMIT,
    evaluation_reconcile,
    evaluation_save,
    evaluations_visible_to,
)
from .investigation import (
    contact_record_add,
    information_request_answer,
    information_request_create,
    statement_request,
    statement_save,
)
from .review_requests import (
    REVIEW_REQUEST_FLOW,
    review_request_assign,
    review_request_file,
    review_request_resolve,
)
from .tasks import TASK_FLOW, TASK_REVIEWED, task_review, task_submit

__all__ = [
    "APPEAL_FLOW",
    "COMPLAINANT_REOPEN_DAYS",
    "DECISION_FLOW",
    "EVALUATION_FIELDS",
    "INFORMATION_REQUEST_DAYS",
    "LISTENER_APPEAL_DAYS",
    "OUTCOME_MOVES",
    "REQUIRED_ON_SUBMIT",
    "REVIEW_REQUEST_FLOW",
    "TASK_FLOW",
    "TASK_REVIEWED",
    "appeal_assign",
    "appeal_file",
    "appeal_resolve",
    "contact_record_add",
    "decision_approve",
    "decision_draft",
    "decision_notify",
    "decision_record_listener_response",
    "decision_send_back",
    "decision_submit",
    "evaluation_reconcile",
    "evaluation_save",
    "evaluations_visible_to",
    "information_request_answer",
    "information_request_create",
    "is_lead",
    "review_request_assign",
    "review_request_file",
    "review_request_resolve",
    "reviewer_assign",
    "reviewer_step_aside",
    "reviewers_of",
    "statement_request",
    "statement_save",
    "task_review",
    "task_submit",
]
