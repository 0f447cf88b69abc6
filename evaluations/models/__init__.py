"""Investigation records, scored evaluations, the grading scheme, decisions, listener tasks, appeals.

One module per part of the workflow; this package re-exports every model so migrations and callers
keep importing ``evaluations.models``."""

from .appeals import (  # noqa: F401
    Appeal,
    AppealState,
)
from .decision import (  # noqa: F401
    Decision,
    DecisionState,
    ListenerResponse,
)
from .evaluation import (  # noqa: F401
    AWARENESS_SCALE,
    Evaluation,
    Facts,
    Outcome,
    Reasonableness,
)
from .grading import (  # noqa: F401
    MONEY_REMEDIES,
    TASK_MEASURES,
    Grade,
    Measure,
    Remedy,
    ReviewerAssignment,
)
from .investigation import (  # noqa: F401
    ContactChannel,
    ContactRecord,
    InformationRequest,
    ListenerStatement,
    Party,
)
from .review_requests import (  # noqa: F401
    OPEN_REVIEW_STATES,
    ReviewRequest,
    ReviewRequestState,
)
from .tasks import (  # noqa: F401
    ListenerTask,
    TaskState,
    task_evidence_path,
)
