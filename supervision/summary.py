"""The monthly summary emailed to supervisors: last month's figures from the dashboard metrics.

No personal data: counts, rates, the grade distribution, the top causes, and flagged listeners
by code only.
Sending is idempotent per month (one notification per supervisor per month).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.urls import reverse

from core.notifications import notify

from .audits import month_start, next_month, previous_month
from .metrics import ABOVE_FLAGS, Period, dashboard_metrics
from .services import supervisors

CAUSES_IN_SUMMARY = 5


def month_period(month: date) -> Period:
    start = month_start(month)
    return Period(start=start, end=next_month(start) - timedelta(days=1))


def monthly_summary(month: date) -> dict[str, Any]:
    """Plain, JSON-ready figures of ``month`` (complaints submitted and sessions started in it)."""
    period = month_period(month)
    metrics = dashboard_metrics(period)
    first = metrics["first_response"]
    listeners = metrics["listeners"]
    return {
        "month": period.start.strftime("%Y-%m") if period.start else "",
        "complaints": metrics["total"],
        "first_response_rate": first["rate"],
        "first_response_on_time": first["on_time"],
        "first_response_counted": first["counted"],
        "first_response_late": first["late"],
        "first_response_unanswered": first["unanswered"],
        "grades": [{"label": g["label"], "count": g["count"]} for g in metrics["grades"]],
        "causes": [
            {"label": r["label"], "count": r["count"], "share": r["share"]}
            for r in metrics["causes"]["rows"][:CAUSES_IN_SUMMARY]
        ],
        "causes_evaluated": metrics["causes"]["evaluated"],
        "flagged": [{"code": r["code"], "flag": r["flag"]} for r in listeners["listeners"] if r["flag"] in ABOVE_FLAGS],
        "below": [r["code"] for r in listeners["listeners"] if r["flag"] == "below"],
        "platform_rate": listeners["platform_rate"],
    }


def summary_dedupe_key(month: date) -> str:
    return f"monthly_summary:{month_start(month):%Y-%m}"


def monthly_summary_send(month: date | None = None) -> int:
    """Email every active supervisor the summary of ``month`` (last month by default), once.
    Returns the number of notifications created or already there."""
    month = month_start(month or previous_month())
    period = month_period(month)
    link = f"{reverse('supervision_dashboard:dashboard')}?from={period.start:%Y-%m-%d}&to={period.end:%Y-%m-%d}"
    rows = notify(
        recipients=supervisors(),
        kind="supervision.monthly_summary",
        template="monthly_summary",
        context=monthly_summary(month),
        link=link,
        dedupe_key=summary_dedupe_key(month),
    )
    return len(rows)
