"""Every change to a complaint goes through here: locked, permission-checked, versioned and
written to the timeline in the same transaction. One module per step; this package re-exports
them so callers keep importing ``complaints.services``."""

from .common import (  # noqa: F401
    ALLOWED_EVIDENCE_TYPES,
    COMPLAINT_FLOW,
    CONFLICT_MESSAGE,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_CASE_ATTACHMENTS,
    REVEALABLE_FIELDS,
    ComplaintConflict,
    _event,
    _evidence_types,
    _lock,
    _record,
    _store_attachment,
    _tell_assignee,
    _tell_complainant,
    _transition,
    complainant_link,
    review_link,
    safe_filename,
    staff_link,
    validate_evidence_file,
)
from .edits import (  # noqa: F401
    _check_addition_limits,
    complaint_add_info,
    complaint_add_note,
    complaint_assign,
    complaint_classify,
)
from .identity import (  # noqa: F401
    can_reveal_identity,
    identity_reveal,
)
from .intake import (  # noqa: F401
    complaint_submit,
    crisis_terms_in,
    next_reference,
    validate_identity,
)
from .reviewers import (  # noqa: F401
    _check_reviewer,
    complaint_begin_evaluation,
    complaint_decide,
    complaint_record,
    complaint_start_follow_up,
    conflict_declare,
    reviewer_conflicts,
)
from .survey import (  # noqa: F401
    complaint_deadlines_breached,
    complaint_survey_answer,
)
from .transitions import (
    complaint_archive,
    complaint_close,
    complaint_escalate,
    complaint_merge,
    complaint_reject,
    complaint_resolve,
    complaint_start_triage,
    complaint_withdraw,
)

__all__ = [
    "ComplaintConflict",
    "complaint_add_info",
    "complaint_add_note",
    "complaint_archive",
    "complaint_assign",
    "complaint_classify",
    "complaint_close",
    "complaint_escalate",
    "complaint_merge",
    "complaint_reject",
    "complaint_resolve",
    "complaint_start_triage",
    "complaint_submit",
    "complaint_survey_answer",
    "complaint_withdraw",
    "identity_reveal",
]
