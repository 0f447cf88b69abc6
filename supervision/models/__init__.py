"""Ethics cases, anomaly rules, confidentiality-break reports and reports about listeners.

State moves only through supervision.services; transitions here are declarative.

One module per part of the workflow; this package re-exports every model so migrations and callers
keep importing ``supervision.models``."""

from .anomalies import (  # noqa: F401
    AnomalyFinding,
    AnomalyKind,
    AnomalyRule,
    validate_positive_window,
)
from .audits import (  # noqa: F401
    AUDIT_SCORE_FIELDS,
    QualityAudit,
    _score_field,
)
from .common import (  # noqa: F401
    _is_supervisor,
)
from .confidentiality import (  # noqa: F401
    B,
    BreakCategory,
    BreakReportState,
    ConfidentialityBreakReport,
)
from .ethics import (  # noqa: F401
    E,
    EthicsCase,
    EthicsCaseEvent,
    EthicsCaseState,
    EthicsSource,
)
from .reports import (  # noqa: F401
    ListenerReport,
    ReportKind,
)
