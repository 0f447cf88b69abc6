"""Quality metrics of the complaint process (DOMAIN.md §5, seed 003 §一.四), aggregated in SQL.

Every function takes a ``Period`` and returns plain, JSON-ready data with no personal data:
listeners appear by code, complainants never. ``dashboard_metrics`` gathers them all, and
``dashboard_metrics_cached`` keeps the result in the Django cache for a few minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from complaints.models import Category, Complaint, ComplaintState, IntakeChannel
from core.models import Deadline
from evaluations.models import Decision, DecisionState

CACHE_SECONDS = 300
CACHE_VERSION = 2
# Decisions that count in the grade distribution: approved (or not needing approval) and beyond.
COUNTED_DECISIONS = [DecisionState.APPROVED, DecisionState.NOTIFIED]
# Funnel-plot limits: two-sided 95 % (warning) and 99.8 % (alarm).
WARNING_COVERAGE = 0.95
ALARM_COVERAGE = 0.998
# Flags of a listener above the funnel's upper limits (``below`` is the positive one).
ABOVE_FLAGS = ("alarm", "warning")


@dataclass(frozen=True)
class Period:
    """Complaints submitted (and sessions started) from ``start`` to ``end``, both days included."""

    start: date | None = None
    end: date | None = None

    @property
    def start_at(self) -> datetime | None:
        return timezone.make_aware(datetime.combine(self.start, time.min)) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        if not self.end or self.end >= date.max:  # no day after the last one: no upper bound
            return None
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def q(self, field: str) -> Q:
        q = Q()
        if self.start_at:
            q &= Q(**{f"{field}__gte": self.start_at})
        if self.end_before:
            q &= Q(**{f"{field}__lt": self.end_before})
        return q

    @property
    def key(self) -> str:
        return f"{self.start or '-'}:{self.end or '-'}"


def _complaints(period: Period):
    return Complaint.objects.filter(period.q("submitted_at")).order_by()


def _where(period: Period, column: str = "submitted_at") -> tuple[str, list[Any]]:
    where, params = ["TRUE"], []
    if period.start_at:
        where.append(f"{column} >= %s")
        params.append(period.start_at)
    if period.end_before:
        where.append(f"{column} < %s")
        params.append(period.end_before)
    return " AND ".join(where), params


def _counts_by_month(period: Period) -> list[tuple[datetime, int]]:
    """Complaints per local calendar month, every month of the period included (0 when none).

    The months run from the period's first day (or, when open, the month of its first complaint)
    to its last day, never past the current month (or, when open, the month of its last
    complaint). One index range count per month, so no row is compared with every month.
    """
    where, params = _where(period)
    tz = timezone.get_current_timezone_name()
    # Only our own column names are interpolated; values go as parameters.
    sql = f"""
        WITH span AS (
            SELECT date_trunc('month', COALESCE(%s::timestamptz, MIN(submitted_at)) AT TIME ZONE %s) AS first,
                   date_trunc('month', COALESCE(%s::timestamptz, MAX(submitted_at)) AT TIME ZONE %s) AS last
            FROM complaints_complaint WHERE {where}
        ), months AS (
            SELECT month, month AT TIME ZONE %s AS since, (month + interval '1 month') AT TIME ZONE %s AS until
            FROM span, generate_series(span.first, span.last, interval '1 month') AS month
        )
        SELECT month, (SELECT COUNT(*) FROM complaints_complaint
                       WHERE {where} AND submitted_at >= months.since AND submitted_at < months.until)
        FROM months ORDER BY month
    """  # noqa: S608
    last = min(period.end_before - timedelta(microseconds=1), timezone.now()) if period.end_before else None
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start_at, tz, last, tz, *params, tz, tz, *params])
        return list(cursor.fetchall())


# GROUPING(state, category, intake_channel, satisfaction_score): the bit of each column left out
# of a grouping set is 1, the first column being the highest bit.
_SETS = {0b0111: "state", 0b1011: "category", 0b1101: "intake_channel", 0b1110: "score"}
_TOTALS = 0b1111


def complaint_breakdowns(period: Period) -> dict[str, Any]:
    """Counts by month, state, category, channel and satisfaction score, and first-response
    compliance.

    One scan of the covering index ``complaint_dashboard_idx`` groups the period's complaints by
    the four small columns, counting first responses with FILTER clauses; GROUPING SETS then add
    up those few hundred groups. Months are counted apart (``_counts_by_month``): grouped by a
    month expression, PostgreSQL takes it for as many values as ``submitted_at`` has and sorts
    every row.
    """
    where, params = _where(period)
    now = timezone.now()
    # Only our own column names are interpolated; values go as parameters.
    sql = f"""
        SELECT GROUPING(state, category, intake_channel, satisfaction_score),
               state, category, intake_channel, satisfaction_score,
               SUM(n), SUM(counted), SUM(on_time), SUM(late), SUM(unanswered)
        FROM (
            SELECT state, category, intake_channel, satisfaction_score, COUNT(*) AS n,
                   COUNT(*) FILTER (WHERE first_response_at IS NOT NULL OR first_response_due <= %s) AS counted,
                   COUNT(*) FILTER (WHERE first_response_at <= first_response_due) AS on_time,
                   COUNT(*) FILTER (WHERE first_response_at > first_response_due) AS late,
                   COUNT(*) FILTER (WHERE first_response_at IS NULL AND first_response_due <= %s) AS unanswered
            FROM complaints_complaint WHERE {where}
            GROUP BY state, category, intake_channel, satisfaction_score
        ) c
        GROUP BY GROUPING SETS ((state), (category), (intake_channel), (satisfaction_score), ())
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, *params])
        rows = cursor.fetchall()
    found: dict[str, dict[Any, int]] = {name: {} for name in _SETS.values()}
    totals: dict[str, Any] = {"counted": 0, "on_time": 0, "late": 0, "unanswered": 0}
    for grouping, state, category, channel, score, n, counted, on_time, late, unanswered in rows:
        if grouping == _TOTALS:
            # SUM over no rows is NULL: a period without complaints.
            totals = {
                "counted": int(counted or 0),
                "on_time": int(on_time or 0),
                "late": int(late or 0),
                "unanswered": int(unanswered or 0),
            }
            continue
        name = _SETS[grouping]
        key = {"state": state, "category": category, "intake_channel": channel, "score": score}[name]
        if key is not None:
            found[name][key] = int(n)
    totals["rate"] = round(100 * totals["on_time"] / totals["counted"], 1) if totals["counted"] else None

    def labelled(counts: dict[str, int], choices) -> list[dict[str, Any]]:
        labels = dict(choices)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"key": k, "label": str(labels.get(k, k)), "count": n} for k, n in ordered]

    scores = found["score"]
    responses = sum(scores.values())
    average = sum(score * n for score, n in scores.items()) / responses if responses else None
    return {
        "by_month": [
            {"key": m.strftime("%Y-%m"), "label": m.strftime("%Y-%m"), "count": n} for m, n in _counts_by_month(period)
        ],
        "by_state": labelled(found["state"], ComplaintState.choices),
        "by_category": labelled(found["category"], Category.choices),
        "by_channel": labelled(found["intake_channel"], IntakeChannel.choices),
        "first_response": totals,
        "satisfaction": {
            "average": round(average, 2) if average is not None else None,
            "responses": responses,
            "distribution": [{"key": s, "label": str(s), "count": scores.get(s, 0)} for s in range(1, 6)],
        },
    }


def complaints_by_month(period: Period) -> list[dict[str, Any]]:
    return complaint_breakdowns(period)["by_month"]


def first_response_compliance(period: Period) -> dict[str, Any]:
    """Share of complaints answered by ``first_response_due``, among those whose due time has come
    or that have been answered (a complaint still inside its 24 hours is not counted yet)."""
    return complaint_breakdowns(period)["first_response"]


def satisfaction(period: Period) -> dict[str, Any]:
    return complaint_breakdowns(period)["satisfaction"]


# Each stage: (key, from state, to states). "submitted" starts at submitted_at.
STAGES = [
    ("submitted_triage", "submitted", ["triage"]),
    ("triage_outcome", "triage", ["resolved", "investigation"]),
    ("investigation_evaluation", "investigation", ["evaluation"]),
    ("evaluation_decided", "evaluation", ["decided"]),
]


def _stage_label(key: str) -> str:
    from django.utils.translation import gettext as _

    return {
        "submitted_triage": _("提交 → 初步处理"),
        "triage_outcome": _("初步处理 → 直接处理或转专业组"),
        "investigation_evaluation": _("调查 → 专业评估"),
        "evaluation_decided": _("专业评估 → 作出决定"),
    }[key]


def stage_median_hours(period: Period) -> list[dict[str, Any]]:
    """Median hours spent in each stage, from the first time each state was entered (timeline)."""
    where, params = _where(period, "c.submitted_at")
    states = sorted({s for _k, _f, to in STAGES for s in to} | {f for _k, f, _t in STAGES} - {"submitted"})
    entered = ",\n".join(
        f"MIN(e.created_at) FILTER (WHERE e.to_state = '{s}') AS at_{s}" for s in states
    )  # states are our own constants, not input
    medians = []
    for key, source, targets in STAGES:
        start = "c.submitted_at" if source == "submitted" else f"at_{source}"
        end = f"LEAST({', '.join(f'at_{t}' for t in targets)})"
        medians.append(
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"
            f" FILTER (WHERE {end} IS NOT NULL AND {start} IS NOT NULL) AS {key},"
            f" COUNT(*) FILTER (WHERE {end} IS NOT NULL AND {start} IS NOT NULL) AS n_{key}"
        )
    # Only our own constants are interpolated; the dates go as parameters.
    sql = f"""
        WITH entered AS (
            SELECT c.id, c.submitted_at, {entered}
            FROM complaints_complaint c
            JOIN complaints_timelineevent e ON e.complaint_id = c.id AND e.kind = 'transition'
                 AND e.to_state IN ({", ".join(f"'{s}'" for s in states)})
            WHERE {where}
            GROUP BY c.id, c.submitted_at
        )
        SELECT {", ".join(medians)} FROM entered c
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    out = []
    for i, (key, _source, _targets) in enumerate(STAGES):
        value = row[2 * i]
        out.append(
            {
                "key": key,
                "label": _stage_label(key),
                "median_hours": round(float(value), 1) if value is not None else None,
                "count": row[2 * i + 1],
            }
        )
    return out


# --- outcomes ----------------------------------------------------------------------------------


def grade_distribution(period: Period) -> list[dict[str, Any]]:
    rows = (
        Decision.objects.filter(state__in=COUNTED_DECISIONS)
        .filter(period.q("complaint__submitted_at"))
        .values("grade__level", "grade__name")
        .annotate(n=Count("id"))
        .order_by("grade__level")
    )
    return [
        {"key": r["grade__level"], "label": f"{r['grade__level']} · {r['grade__name']}", "count": r["n"]} for r in rows
    ]


# Findings of a final evaluation, in the order the evaluation form asks them; "other" is a
# shortcoming (outcome B) with none of the four ticked, "none" an evaluation that found none.
FINDINGS = ["competence_gap", "subjective_harm", "inducing_orders", "illegality", "other", "none"]


def _finding_label(key: str) -> str:
    from django.utils.translation import gettext as _

    return {
        "competence_gap": _("专业胜任力不足"),
        "subjective_harm": _("造成用户主观伤害"),
        "inducing_orders": _("诱导下单"),
        "illegality": _("涉嫌违法"),
        "other": _("其他不足"),
        "none": _("未发现明确不足"),
    }[key]


def top_causes(period: Period) -> dict[str, Any]:
    """Causes of the period's complaints, most frequent first: what the complaint was about (its
    category) and what the final evaluation found (each finding; a complaint with two findings
    counts under both). Only complaints whose final evaluation is submitted have a cause; the
    others (resolved at intake, still in progress) are counted by category alone.

    One aggregate over the final evaluations joined to the period's complaints.
    """
    where, params = _where(period, "c.submitted_at")
    found = "finding_competence_gap OR finding_subjective_harm OR finding_inducing_orders OR finding_illegality"
    # Only our own column names and constants are interpolated; the dates go as parameters.
    sql = f"""
        WITH evaluated AS (
            SELECT c.category, e.outcome, e.finding_competence_gap, e.finding_subjective_harm,
                   e.finding_inducing_orders, e.finding_illegality
            FROM complaints_complaint c
            JOIN evaluations_evaluation e ON e.complaint_id = c.id AND e.is_final AND e.submitted_at IS NOT NULL
            WHERE {where}
        )
        SELECT category, finding, COUNT(*), (SELECT COUNT(*) FROM evaluated)
        FROM evaluated CROSS JOIN LATERAL (VALUES
            (1, 'competence_gap', finding_competence_gap),
            (2, 'subjective_harm', finding_subjective_harm),
            (3, 'inducing_orders', finding_inducing_orders),
            (4, 'illegality', finding_illegality),
            (5, 'other', outcome = 'B' AND NOT ({found})),
            (6, 'none', outcome <> 'B' AND NOT ({found}))
        ) AS f(position, finding, hit)
        WHERE f.hit
        GROUP BY category, finding, position
        ORDER BY COUNT(*) DESC, position, category
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    evaluated = rows[0][3] if rows else 0
    categories = dict(Category.choices)
    return {
        "evaluated": evaluated,
        "rows": [
            {
                "rank": rank,
                "key": f"{category}:{finding}",
                "category": category,
                "category_label": str(categories.get(category, category)),
                "finding": finding,
                "finding_label": _finding_label(finding),
                "label": f"{categories.get(category, category)} · {_finding_label(finding)}",
                "count": n,
                "share": round(100 * n / evaluated, 1),
            }
            for rank, (category, finding, n, _total) in enumerate(rows, start=1)
        ],
    }


# --- listeners: funnel plot --------------------------------------------------------------------


def _poisson_start(lam: float) -> tuple[int, float]:
    """Where the summation starts (below it the mass is < 1e-30) and the pmf there."""
    low = max(0, int(lam - 12 * math.sqrt(lam) - 10))
    return low, math.exp(-lam + low * math.log(lam) - math.lgamma(low + 1))


def poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam), summed from where the mass starts to matter."""
    if k < 0:
        return 0.0
    if lam <= 0:
        return 1.0
    i, pmf = _poisson_start(lam)
    total = 0.0
    while i <= k:
        total += pmf
        i += 1
        pmf *= lam / i
    return min(1.0, total)


def poisson_quantiles(qs: list[float], lam: float) -> list[int]:
    """For each q (0 < q < 1), the smallest k with P(X <= k) >= q, X ~ Poisson(lam); one pass."""
    if lam <= 0:
        return [0] * len(qs)
    order = sorted(range(len(qs)), key=lambda j: qs[j])
    out = [0] * len(qs)
    k, pmf = _poisson_start(lam)
    total = pmf
    stop = lam + 40 * math.sqrt(lam) + 100
    for j in order:
        while total < qs[j] and k < stop:
            k += 1
            pmf *= lam / k
            total += pmf
        out[j] = k
    return out


def poisson_quantile(q: float, lam: float) -> int:
    """The smallest k with P(X <= k) >= q for X ~ Poisson(lam) (0 < q < 1)."""
    return poisson_quantiles([q], lam)[0]


def poisson_limits(lam: float, coverage: float) -> tuple[int, int]:
    """Exact two-sided limits (counts) holding ``coverage`` of a Poisson(lam)."""
    tail = (1 - coverage) / 2
    low, high = poisson_quantiles([tail, 1 - tail], lam)
    return low, high


@lru_cache(maxsize=4096)
def _funnel_limits(lam: float) -> tuple[int, int, int]:
    """(95 % lower, 95 % upper, 99.8 % upper) counts, in one pass; remembered, as listeners with
    the same number of sessions share the expected count."""
    w, a = (1 - WARNING_COVERAGE) / 2, (1 - ALARM_COVERAGE) / 2
    low, high, alarm = poisson_quantiles([w, 1 - w, 1 - a], lam)
    return low, high, alarm


def listener_complaint_rates(period: Period) -> dict[str, Any]:
    """Complaints per 1,000 sessions per listener against the platform rate, with funnel limits.

    A listener is flagged ``alarm`` above the 99.8 % limit and ``warning`` above the 95 % limit
    for a Poisson count at the platform rate and the listener's session volume, and ``below``
    under the 95 % lower limit: fewer complaints than chance explains, a good sign worth learning
    from. At small volumes the lower limit is 0, so no one is praised (or blamed) for few sessions. Sessions and
    complaints per listener are counted listener by listener on the (listener, time) indexes,
    which reads a few index entries per listener instead of hashing every session and complaint.
    """
    sessions_where, sessions_params = _where(period, "started_at")
    complaints_where, complaints_params = _where(period, "submitted_at")
    # Only our own column names are interpolated; the dates go as parameters.
    sql = f"""
        SELECT p.id, p.code, s.n, c.n
        FROM listeners_listenerprofile p
        CROSS JOIN LATERAL (
            SELECT COUNT(*) AS n FROM listeners_listeningsession WHERE listener_id = p.id AND {sessions_where}
        ) s
        CROSS JOIN LATERAL (
            SELECT COUNT(*) AS n FROM complaints_complaint WHERE listener_id = p.id AND {complaints_where}
        ) c
        WHERE s.n > 0
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sessions_params, *complaints_params])
        found = cursor.fetchall()
    sessions = {lid: n for lid, _code, n, _c in found}
    complaints = {lid: n for lid, _code, _n, n in found}
    codes = {lid: code for lid, code, _n, _c in found}
    total_sessions = sum(sessions.values())
    total_complaints = sum(complaints.values())
    platform_rate = total_complaints / total_sessions if total_sessions else 0.0
    rows = []
    for lid, n_sessions in sessions.items():
        observed = complaints.get(lid, 0)
        expected = platform_rate * n_sessions
        warn_low, warn_high, alarm_high = _funnel_limits(expected)
        if observed > alarm_high:
            flag = "alarm"
        elif observed > warn_high:
            flag = "warning"
        elif observed < warn_low:
            flag = "below"
        else:
            flag = ""
        rows.append(
            {
                "code": codes[lid],
                "sessions": n_sessions,
                "complaints": observed,
                "rate": round(1000 * observed / n_sessions, 2),
                "expected": round(expected, 2),
                "warning_upper": round(1000 * warn_high / n_sessions, 2),
                "alarm_upper": round(1000 * alarm_high / n_sessions, 2),
                "warning_lower": round(1000 * warn_low / n_sessions, 2),
                "flag": flag,
            }
        )
    order = {"alarm": 0, "warning": 1, "below": 2, "": 3}
    rows.sort(key=lambda r: (order[r["flag"]], -r["rate"], r["code"]))
    return {
        "platform_rate": round(1000 * platform_rate, 2),
        "sessions": total_sessions,
        "complaints": total_complaints,
        "listeners": rows,
        "flagged": sum(1 for r in rows if r["flag"] in ABOVE_FLAGS),
        "below": sum(1 for r in rows if r["flag"] == "below"),
        "funnel": funnel_curve(platform_rate, max(sessions.values(), default=0)),
    }


def funnel_curve(platform_rate: float, max_sessions: int, points: int = 40) -> list[dict[str, float]]:
    """The control limits (per 1,000 sessions) along session volume, for drawing the funnel."""
    if platform_rate <= 0 or max_sessions <= 0:
        return []
    curve = []
    seen = set()
    for i in range(1, points + 1):
        n = max(1, round(max_sessions * (i / points) ** 2))
        if n in seen:
            continue
        seen.add(n)
        low, high, alarm = _funnel_limits(platform_rate * n)
        curve.append(
            {
                "sessions": n,
                "warning_lower": round(1000 * low / n, 2),
                "warning_upper": round(1000 * high / n, 2),
                "alarm_upper": round(1000 * alarm / n, 2),
            }
        )
    return curve


# --- overdue work ------------------------------------------------------------------------------


def overdue_by_owner() -> list[dict[str, Any]]:
    """Breached deadlines still open (closed_at null) now, per owner; a team when no one owns it."""
    rows = (
        Deadline.objects.filter(state=Deadline.State.BREACHED, closed_at__isnull=True)
        .order_by()
        .values("owner_id", "owner__display_name", "owner_role")
        .annotate(n=Count("id"))
        .order_by("-n", "owner_id")
    )
    return [
        {
            "owner_id": r["owner_id"],
            "owner": r["owner__display_name"] or "",
            "team": r["owner_role"],
            "count": r["n"],
        }
        for r in rows
    ]


# --- all together ------------------------------------------------------------------------------


def dashboard_metrics(period: Period) -> dict[str, Any]:
    breakdowns = complaint_breakdowns(period)
    return {
        "computed_at": timezone.now().isoformat(),
        "period": {
            "from": period.start.isoformat() if period.start else "",
            "to": period.end.isoformat() if period.end else "",
        },
        "total": sum(r["count"] for r in breakdowns["by_state"]),
        **breakdowns,
        "stages": stage_median_hours(period),
        "grades": grade_distribution(period),
        "causes": top_causes(period),
        "listeners": listener_complaint_rates(period),
        "overdue": overdue_by_owner(),
    }


def cache_key(period: Period, language: str) -> str:
    return f"supervision:dashboard:v{CACHE_VERSION}:{language}:{period.key}"


def dashboard_metrics_cached(period: Period, *, refresh: bool = False) -> dict[str, Any]:
    """The metrics from the cache when computed less than CACHE_SECONDS ago, else computed now."""
    from django.utils.translation import get_language

    key = cache_key(period, get_language() or "")
    data = None if refresh else cache.get(key)
    if data is None:
        data = dashboard_metrics(period)
        cache.set(key, data, CACHE_SECONDS)
    return data
