"""Anomaly detection over listening sessions, in SQL.

Each active AnomalyRule is one statement: sessions are grouped by listener (and user, for pair
rules) and by fixed time bucket of the rule's window (``date_bin`` from a Monday midnight, local
time); each group over the threshold is a finding. Buckets are fixed, not sliding: a burst that
straddles two buckets is counted in both halves.

A finding opens, or adds to, one ethics case. It is recorded once as an AnomalyFinding under its
unique key (rule, listener, user, window start), so re-running the scan, or two scans at once,
records nothing twice. When a case of the same rule kind about the same listener (and user) is
still open, the finding is added to it as a note; otherwise it opens a new case, and later findings
for the same pattern in the same run are notes on that new case. The case's ``anomaly_key`` is the
key of the finding that opened it. Scans take a transaction-level advisory lock, so two scans never
open two cases for one pattern.

The rating-swing rule is shaped differently: for each rating-manipulation report about a listener
(someone says the listener privately asked users to change their ratings), the mean rating of the
listener's sessions in the window after the report is compared with the window before it; a rise
above the threshold (stars), with at least ``min_count`` rated sessions on each side, is a finding.
Sessions count by when they started (a rating has no time of its own). Its key is the rule, the
listener and the report; an open rating-swing case about the same listener takes it as a note. The
report is linked to the finding's case when no supervisor has opened one from it yet; otherwise the
supervisor's case gets a note pointing to it (once: only when the finding is recorded).

Each rule runs in its own savepoint: a rule that fails is logged and the others still record theirs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.notifications import notify

from .models import AnomalyKind, AnomalyRule, EthicsCaseEvent, EthicsCaseState, EthicsSource, ReportKind
from .services import supervisors

logger = logging.getLogger(__name__)

# Buckets start on a Monday at local midnight, so a 1-day window is a calendar day and 7 days a week.
BUCKET_ORIGIN = datetime(2000, 1, 3)
DEFAULT_LOOKBACK = timedelta(days=30)
# pg_advisory_xact_lock key ("anom"): one scan at a time, released at commit.
SCAN_LOCK = 0x616E6F6D

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

# found: (listener_id, user_id, window_start, key, summary, report_id), one row per finding.
_FOUND_SQL = """
WITH groups AS (
    SELECT s.listener_id, {user} AS user_id, date_bin(%(window)s, s.started_at, %(origin)s) AS window_start,
           {measure} AS measure
    FROM listeners_listeningsession s
    WHERE s.started_at >= date_bin(%(window)s, %(since)s::timestamptz, %(origin)s)
      AND s.started_at < %(until)s
    GROUP BY 1, 2, 3
    HAVING {measure} > %(limit)s
), found AS (
    SELECT f.listener_id, f.user_id, f.window_start,
           concat_ws(':', %(rule)s, f.listener_id, coalesce(f.user_id::text, '-'),
                     extract(epoch FROM f.window_start)::bigint) AS key,
           %(prefix)s || to_char(f.window_start AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI')
               || %(middle)s || {shown} AS summary,
           NULL::bigint AS report_id
    FROM groups f
)"""

# Reports whose windows reach into [since, until); sessions within a window either side of each,
# through the (listener, started_at) index. Each side's mean counts rated sessions only.
_SWING_FOUND_SQL = """
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
), found AS (
    SELECT f.listener_id, NULL::bigint AS user_id, f.reported_at - %(window)s AS window_start,
           concat_ws(':', %(rule)s, f.listener_id, 'report', f.report_id) AS key,
           format(%(summary)s,
                  'JB-' || lpad(f.report_id::text, greatest(6, length(f.report_id::text)), '0'),
                  to_char(f.reported_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'),
                  round(f.before_mean, 1), f.before_n, round(f.after_mean, 1), f.after_n,
                  round(f.after_mean - f.before_mean, 1)) AS summary,
           f.report_id
    FROM sides f
    WHERE f.before_n >= %(min_count)s AND f.after_n >= %(min_count)s AND f.after_mean - f.before_mean > %(limit)s
)"""

# Findings not recorded yet, each with the open case of the same pattern if there is one; recorded
# first (ON CONFLICT: never twice), then the new cases, their OPENED events and the other findings'
# NOTE events. Case ids come from the case sequence, so a finding can name its case as it is written.
_RECORD_SQL = """, fresh AS (
    SELECT f.*, open_case.id AS open_case_id
    FROM found f
    LEFT JOIN LATERAL (
        SELECT c.id
        FROM supervision_ethicscase c
        JOIN supervision_anomalyrule k ON k.id = c.anomaly_rule_id
        WHERE c.listener_id = f.listener_id AND c.user_id IS NOT DISTINCT FROM f.user_id
          AND k.kind = %(kind)s AND c.state <> %(closed)s
        ORDER BY c.opened_at DESC, c.id DESC
        LIMIT 1
    ) open_case ON true
    WHERE NOT EXISTS (SELECT 1 FROM supervision_anomalyfinding a WHERE a.key = f.key)
), new_cases AS (
    SELECT listener_id, user_id, nextval(pg_get_serial_sequence('supervision_ethicscase', 'id')) AS case_id
    FROM fresh
    WHERE open_case_id IS NULL
    GROUP BY listener_id, user_id
), recorded AS (
    INSERT INTO supervision_anomalyfinding (key, rule_id, case_id, window_start, summary, found_at)
    SELECT f.key, %(rule)s, coalesce(f.open_case_id, n.case_id), f.window_start, f.summary, %(now)s
    FROM fresh f
    LEFT JOIN new_cases n
      ON f.open_case_id IS NULL AND n.listener_id = f.listener_id AND n.user_id IS NOT DISTINCT FROM f.user_id
    ORDER BY f.listener_id, f.user_id, f.window_start, f.key
    ON CONFLICT (key) DO NOTHING
    RETURNING id, key, case_id, window_start, summary
), firsts AS (
    -- The earliest recorded finding of each new case opens it.
    SELECT DISTINCT ON (r.case_id) r.key, r.case_id, r.window_start, r.summary, f.listener_id, f.user_id
    FROM recorded r
    JOIN fresh f ON f.key = r.key
    WHERE f.open_case_id IS NULL
    ORDER BY r.case_id, r.window_start, r.key
), opened AS (
    INSERT INTO supervision_ethicscase (
        id, source, listener_id, user_id, summary, state, evaluation_summary, measures, adjustment_reason,
        text_to_listener, anomaly_rule_id, window_start, anomaly_key, opened_at, updated_at, version
    )
    SELECT case_id, %(source)s, listener_id, user_id, summary, %(state)s, '', ARRAY[]::varchar[], '', '',
           %(rule)s, window_start, key, %(now)s, %(now)s, 1
    FROM firsts
    ORDER BY case_id
    RETURNING id
), events AS (
    INSERT INTO supervision_ethicscaseevent (case_id, kind, actor_id, from_state, to_state, transition, note, created_at)
    SELECT e.case_id, e.kind, NULL, '', e.to_state, '', e.summary, %(now)s
    FROM (
        SELECT case_id, %(opened_kind)s AS kind, %(state)s AS to_state, summary, window_start, 0 AS rank
        FROM firsts
        UNION ALL
        SELECT r.case_id, %(note_kind)s, '', r.summary, r.window_start, 1
        FROM recorded r
        WHERE NOT EXISTS (SELECT 1 FROM firsts x WHERE x.key = r.key)
    ) e
    ORDER BY e.case_id, e.rank, e.window_start
){extra}
SELECT r.id, r.case_id, EXISTS (SELECT 1 FROM firsts x WHERE x.key = r.key) AS opened
FROM recorded r
ORDER BY r.id
"""

# The report is linked to its finding's case, unless a supervisor already opened one from it: that
# case's history then points to where the finding went.
_SWING_EXTRA_SQL = """, linked AS (
    UPDATE supervision_listenerreport lr SET ethics_case_id = r.case_id
    FROM recorded r
    JOIN fresh f ON f.key = r.key
    WHERE lr.id = f.report_id AND lr.ethics_case_id IS NULL
), noted AS (
    INSERT INTO supervision_ethicscaseevent (case_id, kind, actor_id, from_state, to_state, transition, note, created_at)
    SELECT lr.ethics_case_id, %(note_kind)s, NULL, '', '', '',
           format(CASE WHEN EXISTS (SELECT 1 FROM firsts x WHERE x.key = r.key)
                       THEN %(note_opened)s ELSE %(note_added)s END,
                  'LL-' || lpad(r.case_id::text, greatest(6, length(r.case_id::text)), '0')) || r.summary,
           %(now)s
    FROM recorded r
    JOIN fresh f ON f.key = r.key
    JOIN supervision_listenerreport lr ON lr.id = f.report_id
    WHERE lr.ethics_case_id IS NOT NULL AND lr.ethics_case_id <> r.case_id
)"""


@dataclass
class ScanResult:
    opened: dict[int, list[int]] = field(default_factory=dict)  # rule id -> new case ids
    added: dict[int, list[int]] = field(default_factory=dict)  # rule id -> open case ids, one per note added
    finding_ids: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # rules whose statement failed (logged)

    @property
    def case_ids(self) -> list[int]:
        return sorted(i for ids in self.opened.values() for i in ids)

    @property
    def additions(self) -> int:
        return sum(len(ids) for ids in self.added.values())


def _rule_sql(rule: AnomalyRule) -> str:
    if rule.kind == AnomalyKind.RATING_SWING_AFTER_REPORT:
        return _SWING_FOUND_SQL + _RECORD_SQL.format(extra=_SWING_EXTRA_SQL)
    user, measure, hours = _SHAPES[AnomalyKind(rule.kind)]
    shown = "round(f.measure / 60.0, 1)::text" if hours else "f.measure::text"
    return _FOUND_SQL.format(user=user, measure=measure, shown=shown) + _RECORD_SQL.format(extra="")


def _common_params(rule: AnomalyRule, *, now: datetime) -> dict:
    return {
        "rule": rule.pk,
        "kind": rule.kind,
        "closed": EthicsCaseState.CLOSED,
        "source": EthicsSource.ANOMALY,
        "state": EthicsCaseState.OPENED,
        "opened_kind": EthicsCaseEvent.Kind.OPENED,
        "note_kind": EthicsCaseEvent.Kind.NOTE,
        "tz": timezone.get_current_timezone_name(),
        "now": now,
    }


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
        **_common_params(rule, now=now),
        "report_kind": ReportKind.RATING_MANIPULATION,
        "window": rule.window,
        "since": since,
        "until": until,
        "min_count": rule.min_count,
        "limit": rule.threshold,
        "summary": summary,
        "note_opened": _("异常检测为本案的举报另立了案件 %(case)s：") % {"case": "%1$s"},
        "note_added": _("异常检测将本案举报的发现记入了尚未结案的案件 %(case)s：") % {"case": "%1$s"},
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
        **_common_params(rule, now=now),
        "window": rule.window,
        "origin": timezone.make_aware(BUCKET_ORIGIN),
        "since": since,
        "until": until,
        "limit": rule.threshold * 60 if hours else rule.threshold,
        "prefix": _("异常检测：%(rule)s（阈值 %(threshold)s %(unit)s）。统计窗口开始于 ")
        % {"rule": rule.get_kind_display(), "threshold": _number(rule.threshold), "unit": unit},
        "middle": _("，实际 %(unit)s数：") % {"unit": unit},
    }


def anomalies_scan(
    *, since: datetime | None = None, until: datetime | None = None, rules=None, notify_supervisors: bool = True
) -> ScanResult:
    """Run every active rule over sessions from ``since`` (default: the last 30 days, widened to the
    start of its bucket) to ``until``; each new finding opens a case or is added to the open case of
    the same pattern. Idempotent; a failing rule is logged and does not stop the others."""
    now = timezone.now()
    until = until or now
    since = since or until - DEFAULT_LOOKBACK
    result = ScanResult()
    rules = list(rules if rules is not None else AnomalyRule.objects.filter(active=True))
    # Case summaries are stored: written in the site's language, whoever triggered the scan.
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK])
            for rule in rules:
                try:
                    with transaction.atomic():
                        cursor.execute(_rule_sql(rule), _params(rule, since=since, until=until, now=now))
                        rows = cursor.fetchall()
                except Exception:
                    logger.exception("anomaly rule %s (%s) failed; the other rules still ran", rule.pk, rule.kind)
                    result.failed.append(rule.pk)
                    continue
                result.opened[rule.pk] = [case_id for _id, case_id, opened in rows if opened]
                result.added[rule.pk] = [case_id for _id, case_id, opened in rows if not opened]
                result.finding_ids += [finding_id for finding_id, _case, _opened in rows]
        ids = sorted(result.finding_ids)
        if ids and notify_supervisors:
            notify(
                recipients=supervisors(),
                kind="supervision.anomaly",
                template="ethics_anomalies_found",
                context={"count": len(result.case_ids), "added": result.additions},
                link=reverse("supervision:ethics_list") + "?source=anomaly",
                dedupe_key=f"anomaly_scan:{ids[0]}-{ids[-1]}",
            )
    return result
