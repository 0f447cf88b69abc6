"""Anomaly detection over listening sessions, in SQL.

Each active AnomalyRule is one aggregate query: sessions are grouped by listener (and user, for
pair rules) and by fixed time bucket of the rule's window (``date_bin`` from a Monday midnight,
local time), and the groups over the threshold become ethics cases in the same statement. The
case's ``anomaly_key`` (rule, listener, user, window start) is unique, so re-running the scan,
or two scans at once, never opens a second case for the same finding.

Buckets are fixed, not sliding: a burst that straddles two buckets is counted in both halves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.notifications import notify

from .models import AnomalyKind, AnomalyRule, EthicsCaseEvent, EthicsCaseState, EthicsSource
from .services import supervisors

# Buckets start on a Monday at local midnight, so a 1-day window is a calendar day and 7 days a week.
BUCKET_ORIGIN = datetime(2000, 1, 3)
DEFAULT_LOOKBACK = timedelta(days=30)

_PAIR = "s.complainant_id"
_LISTENER = "NULL::bigint"
_COUNT = "COUNT(*)"
_HOURS = "SUM(s.duration_minutes)"

# kind -> (user column, measure, whether the threshold is in hours)
_SHAPES = {
    AnomalyKind.PAIR_SESSIONS_7D: (_PAIR, _COUNT, False),
    AnomalyKind.PAIR_HOURS_DAY: (_PAIR, _HOURS, True),
    AnomalyKind.LISTENER_DAILY_HOURS: (_LISTENER, _HOURS, True),
}

_SQL = """
WITH findings AS (
    SELECT s.listener_id, {user} AS user_id, date_bin(%(window)s, s.started_at, %(origin)s) AS window_start,
           {measure} AS measure
    FROM listeners_listeningsession s
    WHERE s.started_at >= date_bin(%(window)s, %(since)s::timestamptz, %(origin)s)
      AND s.started_at < %(until)s
    GROUP BY 1, 2, 3
    HAVING {measure} > %(limit)s
), inserted AS (
    INSERT INTO supervision_ethicscase (
        source, listener_id, user_id, summary, state, evaluation_summary, measures,
        anomaly_rule_id, window_start, anomaly_key, opened_at, updated_at, version
    )
    SELECT %(source)s, f.listener_id, f.user_id,
           %(prefix)s || to_char(f.window_start AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI')
               || %(middle)s || {shown},
           %(state)s, '', '', %(rule)s, f.window_start,
           concat_ws(':', %(rule)s, f.listener_id, coalesce(f.user_id::text, '-'),
                     extract(epoch FROM f.window_start)::bigint),
           %(now)s, %(now)s, 1
    FROM findings f
    ORDER BY 2, 3, f.window_start
    ON CONFLICT (anomaly_key) DO NOTHING
    RETURNING id, summary
)
INSERT INTO supervision_ethicscaseevent (case_id, kind, actor_id, from_state, to_state, transition, note, created_at)
SELECT id, %(event_kind)s, NULL, '', %(state)s, '', summary, %(now)s FROM inserted
RETURNING case_id
"""


@dataclass
class ScanResult:
    opened: dict[int, list[int]] = field(default_factory=dict)  # rule id -> new case ids

    @property
    def case_ids(self) -> list[int]:
        return sorted(i for ids in self.opened.values() for i in ids)


def _rule_sql(rule: AnomalyRule) -> str:
    user, measure, hours = _SHAPES[AnomalyKind(rule.kind)]
    shown = "round(f.measure / 60.0, 1)::text" if hours else "f.measure::text"
    return _SQL.format(user=user, measure=measure, shown=shown)


def _params(rule: AnomalyRule, *, since: datetime, until: datetime, now: datetime) -> dict:
    _user, _measure, hours = _SHAPES[AnomalyKind(rule.kind)]
    unit = _("小时") if hours else _("次")
    return {
        "window": rule.window,
        "origin": timezone.make_aware(BUCKET_ORIGIN),
        "since": since,
        "until": until,
        "limit": rule.threshold * 60 if hours else rule.threshold,
        "source": EthicsSource.ANOMALY,
        "state": EthicsCaseState.OPENED,
        "event_kind": EthicsCaseEvent.Kind.OPENED,
        "rule": rule.pk,
        "tz": timezone.get_current_timezone_name(),
        "prefix": _("异常检测：%(rule)s（阈值 %(threshold)s %(unit)s）。统计窗口开始于 ")
        % {"rule": rule.get_kind_display(), "threshold": rule.threshold.normalize(), "unit": unit},
        "middle": _("，实际 %(unit)s数：") % {"unit": unit},
        "now": now,
    }


def anomalies_scan(
    *, since: datetime | None = None, until: datetime | None = None, rules=None, notify_supervisors: bool = True
) -> ScanResult:
    """Run every active rule over sessions from ``since`` (default: the last 30 days, widened to the
    start of its bucket) to ``until``; open one ethics case per new finding. Idempotent."""
    now = timezone.now()
    until = until or now
    since = since or until - DEFAULT_LOOKBACK
    result = ScanResult()
    rules = list(rules if rules is not None else AnomalyRule.objects.filter(active=True))
    with transaction.atomic():
        with connection.cursor() as cursor:
            for rule in rules:
                cursor.execute(_rule_sql(rule), _params(rule, since=since, until=until, now=now))
                result.opened[rule.pk] = [row[0] for row in cursor.fetchall()]
        ids = result.case_ids
        if ids and notify_supervisors:
            notify(
                recipients=supervisors(),
                kind="supervision.anomaly",
                template="ethics_anomalies_found",
                context={"count": len(ids)},
                link=reverse("supervision:ethics_list") + "?source=anomaly",
                dedupe_key=f"anomaly_scan:{ids[0]}-{ids[-1]}",
            )
    return result
