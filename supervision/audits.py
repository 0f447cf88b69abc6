"""Quality audits of sessions (录音抽检, seed 002 §五, seed 003): a monthly random sample of each
active listener's sessions, scored by a supervisor on a 1–5 rubric.

The sample is drawn in SQL and is idempotent: a listener who already has their share of audits
for the month gets no more, and a session is audited at most once a month.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor
from listeners.models import ListenerProfile, ListenerStatus, ListeningSession

from .models import AUDIT_SCORE_FIELDS, EthicsCase, EthicsSource, QualityAudit
from .services import SupervisionConflict, ethics_case_open

if TYPE_CHECKING:
    from accounts.models import User

DEFAULT_PER_LISTENER = 2
# EthicsSource has no "audit" value and adding one would alter an existing field: a finding of an
# audit is a supervisor's observation.
AUDIT_ETHICS_SOURCE = EthicsSource.SUPERVISOR_OBSERVATION


def audits_per_listener() -> int:
    return int(getattr(settings, "SUPERVISION_AUDITS_PER_LISTENER", DEFAULT_PER_LISTENER))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(today: date | None = None) -> date:
    first = month_start(today or timezone.localdate())
    return month_start(date.fromordinal(first.toordinal() - 1))


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = month_start(month)
    return (
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(next_month(start), time.min)),
    )


def audit_sample_month(month: date, per_listener: int | None = None) -> int:
    """Draw, for each ACTIVE listener, up to ``per_listener`` random sessions started in ``month``
    (local time) not yet audited that month. Returns how many audits were created.

    Running it again adds nothing once every listener has their share; an advisory lock keeps two
    concurrent runs for the same month from both drawing.
    """
    month = month_start(month)
    n = audits_per_listener() if per_listener is None else per_listener
    if n <= 0:
        return 0
    start, end = _month_bounds(month)
    audit = QualityAudit._meta.db_table
    session = ListeningSession._meta.db_table
    listener = ListenerProfile._meta.db_table
    # Only our own table names are interpolated; every value goes as a parameter.
    sql = f"""
        INSERT INTO {audit} (listener_id, session_id, month, comment, created_at)
        SELECT ranked.listener_id, ranked.id, %(month)s, '', %(now)s
        FROM (
            SELECT s.id, s.listener_id,
                   row_number() OVER (PARTITION BY s.listener_id ORDER BY random()) AS rn
            FROM {session} s
            JOIN {listener} l ON l.id = s.listener_id
            WHERE l.status = %(active)s
              AND s.started_at >= %(start)s AND s.started_at < %(end)s
              AND NOT EXISTS (SELECT 1 FROM {audit} a WHERE a.session_id = s.id AND a.month = %(month)s)
        ) ranked
        LEFT JOIN (
            SELECT listener_id, COUNT(*) AS n FROM {audit} WHERE month = %(month)s GROUP BY listener_id
        ) done ON done.listener_id = ranked.listener_id
        WHERE ranked.rn <= %(n)s - COALESCE(done.n, 0)
        ON CONFLICT DO NOTHING
    """  # noqa: S608
    params = {
        "month": month,
        "now": timezone.now(),
        "active": ListenerStatus.ACTIVE,
        "start": start,
        "end": end,
        "n": n,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"quality_audit:{month.isoformat()}"])
        cursor.execute(sql, params)  # type: ignore[arg-type]
        return cursor.rowcount


def audits_for_reviewer(user: User):
    """The audits a supervisor works on: theirs and the unassigned ones."""
    from django.db.models import Q

    return QualityAudit.objects.filter(Q(reviewer=user) | Q(reviewer__isnull=True)).select_related(
        "listener", "session", "ethics_case"
    )


def _require_supervisor(actor: User) -> None:
    if not is_supervisor(actor):
        raise PermissionDenied(_("只有督导可以进行抽检。"))


@transaction.atomic
def audit_record(*, audit: QualityAudit, actor: User, comment: str = "", **scores: int) -> QualityAudit:
    """Record the rubric (every score 1–5) and complete the audit. Supervisors only; an audit taken
    by another supervisor, or already completed, is not changed."""
    _require_supervisor(actor)
    locked = QualityAudit.objects.select_for_update().get(pk=audit.pk)
    if locked.reviewer_id not in (None, actor.pk):
        raise PermissionDenied(_("这项抽检已由其他督导负责。"))
    if locked.completed_at is not None:
        raise SupervisionConflict(_("这项抽检已经完成，不能再修改。"))
    errors = {}
    for field in AUDIT_SCORE_FIELDS:
        value = scores.get(field)
        if not isinstance(value, int) or not 1 <= value <= 5:
            errors[field] = [_("请给出 1 到 5 分。")]
    unknown = set(scores) - set(AUDIT_SCORE_FIELDS)
    if unknown:
        raise TypeError(f"unknown scores: {sorted(unknown)}")
    if errors:
        raise ValidationError(errors)
    for field in AUDIT_SCORE_FIELDS:
        setattr(locked, field, scores[field])
    locked.comment = comment.strip()
    locked.reviewer = actor
    locked.completed_at = timezone.now()
    locked.save(update_fields=[*AUDIT_SCORE_FIELDS, "comment", "reviewer", "completed_at"])
    return locked


@transaction.atomic
def audit_open_ethics_case(*, audit: QualityAudit, actor: User, summary: str) -> EthicsCase:
    """Open an ethics case about the audited listener from a finding (once: a second call returns
    the same case). The source is "supervisor observation". Supervisors only."""
    _require_supervisor(actor)
    locked = QualityAudit.objects.select_for_update(of=("self",)).select_related("session").get(pk=audit.pk)
    if locked.ethics_case is not None:
        return locked.ethics_case
    text = summary.strip()
    if not text:
        raise ValidationError({"summary": [_("请写下抽检发现的问题。")]})
    prefix = _("录音抽检 %(ref)s（订单 %(order)s）：") % {"ref": locked.reference, "order": locked.session.order_no}
    case = ethics_case_open(listener=locked.listener, source=AUDIT_ETHICS_SOURCE, summary=prefix + text, actor=actor)
    locked.ethics_case = case
    locked.save(update_fields=["ethics_case"])
    audit.ethics_case = case
    return case
