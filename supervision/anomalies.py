"""Anomaly detection over listening sessions, in SQL.

Each active AnomalyRule is one aggregate query: sessions are grouped by listener (and user, for
pair rules) and by fixed time bucket of the rule's window (``date_bin`` from a Monday midnight,
local time), and the groups over the threshold become ethics cases in the same statement. The
case's ``anomaly_key`` (rule, listener, user, window start) is unique, so re-running the scan,
or two scans at once, never opens a second case for the same finding.

Buckets are fixed, not sliding: a burst that straddles two buckets is counted in both halves.

The rating-swing rule is shaped differently: for each rating-manipulation report about a listener
(someone says the listener privately asked users to change their ratings), the mean rating of the
listener's sessions in the window after the report is compared with the window before it; a rise
above the threshold (stars), with at least ``min_count`` rated sessions on each side, is a finding.
Sessions count by when they started (a rating has no time of its own). Its key is the rule, the
listener and the report, so each report opens at most one case. The case is linked to the report
when no supervisor has opened one from it yet; otherwise the supervisor's case gets a note
pointing to it (once: only when the new case is inserted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.notifications import notify

from .models import AnomalyKind, AnomalyRule, EthicsCaseEvent, EthicsCaseState, EthicsSource, ReportKind
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
        source, listener_id, user_id, summary, state, evaluation_summary, measures, adjustment_reason, text_to_listener,
        anomaly_rule_id, window_start, anomaly_key, opened_at, updated_at, version
    )
    SELECT %(source)s, f.listener_id, f.user_id,
           %(prefix)s || to_char(f.window_start AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI')
               || %(middle)s || {shown},
           %(state)s, '', ARRAY[]::varchar[], '', '', %(rule)s, f.window_start,
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


# Reports whose windows reach into [since, until); sessions within a window either side of each,
# through the (listener, started_at) index. Each side's mean counts rated sessions only.
_SWING_SQL = """
WITH reports AS (
    SELECT r.id, r.listener_id, r.created_at
    FROM supervision_listenerreport r
    WHERE r.kind = %(report_kind)s
      AND r.created_at >= %(since)s::timestamptz - %(window)s
      AND r.created_at < %(until)s
), sides AS (
    SELECT r.id AS report_id, r.listener_id, r.created_at AS reported_at,
           avg(s.rating) FILTER (WHERE s.started_at < r.created_at) AS before_mean,
           count(*) FILTER (WHERE s.started_at < r.created_at) AS before_n,
           avg(s.rating) FILTER (WHERE s.started_at >= r.created_at) AS after_mean,
           count(*) FILTER (WHERE s.started_at >= r.created_at) AS after_n
    FROM reports r
    JOIN listeners_listeningsession s
      ON s.listener_id = r.listener_id
     AND s.started_at >= r.created_at - %(window)s
     AND s.started_at < least(r.created_at + %(window)s, %(until)s::timestamptz)
     AND s.rating IS NOT NULL
    GROUP BY r.id, r.listener_id, r.created_at
), findings AS (
    SELECT * FROM sides
    WHERE before_n >= %(min_count)s AND after_n >= %(min_count)s AND after_mean - before_mean > %(limit)s
), inserted AS (
    INSERT INTO supervision_ethicscase (
        source, listener_id, user_id, summary, state, evaluation_summary, measures, adjustment_reason, text_to_listener,
        anomaly_rule_id, window_start, anomaly_key, opened_at, updated_at, version
    )
    SELECT %(source)s, f.listener_id, NULL,
           format(%(summary)s,
                  'JB-' || lpad(f.report_id::text, greatest(6, length(f.report_id::text)), '0'),
                  to_char(f.reported_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'),
                  round(f.before_mean, 1), f.before_n, round(f.after_mean, 1), f.after_n,
                  round(f.after_mean - f.before_mean, 1)),
           %(state)s, '', ARRAY[]::varchar[], '', '', %(rule)s, f.reported_at - %(window)s,
           concat_ws(':', %(rule)s, f.listener_id, 'report', f.report_id),
           %(now)s, %(now)s, 1
    FROM findings f
    ORDER BY f.listener_id, f.report_id
    ON CONFLICT (anomaly_key) DO NOTHING
    RETURNING id, summary, anomaly_key
), linked AS (
    UPDATE supervision_listenerreport r SET ethics_case_id = i.id
    FROM inserted i
    WHERE r.id = split_part(i.anomaly_key, ':', 4)::bigint AND r.ethics_case_id IS NULL
), noted AS (
    -- A supervisor already opened a case from the report: its history points to the new one.
    INSERT INTO supervision_ethicscaseevent (case_id, kind, actor_id, from_state, to_state, transition, note, created_at)
    SELECT r.ethics_case_id, %(note_kind)s, NULL, '', '', '',
           format(%(note)s, 'LL-' || lpad(i.id::text, greatest(6, length(i.id::text)), '0')) || i.summary, %(now)s
    FROM inserted i
    JOIN supervision_listenerreport r ON r.id = split_part(i.anomaly_key, ':', 4)::bigint
    WHERE r.ethics_case_id IS NOT NULL
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
    if rule.kind == AnomalyKind.RATING_SWING_AFTER_REPORT:
        return _SWING_SQL
    user, measure, hours = _SHAPES[AnomalyKind(rule.kind)]
    shown = "round(f.measure / 60.0, 1)::text" if hours else "f.measure::text"
    return _SQL.format(user=user, measure=measure, shown=shown)


def _swing_params(rule: AnomalyRule, *, since: datetime, until: datetime, now: datetime) -> dict:
    # Positional %N$s placeholders for PostgreSQL's format(), filled in by the statement.
    summary = _(
        "异常检测：%(rule)s（阈值 %(threshold)s 星，举报前后各至少 %(min_count)s 条评分）。"
        "举报 %(report)s 提交于 %(reported_at)s，前后各 %(days)s 天的平均评分："
        "举报前 %(before)s 星（%(before_n)s 条），举报后 %(after)s 星（%(after_n)s 条），上升 %(rise)s 星。"
    ) % {
        "rule": rule.get_kind_display(),
        "threshold": _number(rule.threshold),
        "min_count": rule.min_count,
        "days": _duration_days(rule.window),
        "report": "%1$s",
        "reported_at": "%2$s",
        "before": "%3$s",
        "before_n": "%4$s",
        "after": "%5$s",
        "after_n": "%6$s",
        "rise": "%7$s",
    }
    return {
        "report_kind": ReportKind.RATING_MANIPULATION,
        "window": rule.window,
        "since": since,
        "until": until,
        "min_count": rule.min_count,
        "limit": rule.threshold,
        "source": EthicsSource.ANOMALY,
        "state": EthicsCaseState.OPENED,
        "event_kind": EthicsCaseEvent.Kind.OPENED,
        "rule": rule.pk,
        "tz": timezone.get_current_timezone_name(),
        "summary": summary,
        "note_kind": EthicsCaseEvent.Kind.NOTE,
        "note": _("异常检测为本案的举报另立了案件 %(case)s：") % {"case": "%1$s"},
        "now": now,
    }


def _number(value: Decimal) -> str:
    """10.00 -> "10", 1.50 -> "1.5" (``normalize()`` alone would give "1E+1")."""
    return format(value.normalize(), "f")


def _duration_days(window: timedelta) -> str:
    days = window / timedelta(days=1)
    return f"{days:g}"


def _params(rule: AnomalyRule, *, since: datetime, until: datetime, now: datetime) -> dict:
    if rule.kind == AnomalyKind.RATING_SWING_AFTER_REPORT:
        return _swing_params(rule, since=since, until=until, now=now)
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
        % {"rule": rule.get_kind_display(), "threshold": _number(rule.threshold), "unit": unit},
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
