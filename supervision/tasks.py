from celery import shared_task

from .anomalies import anomalies_scan

# The lead wires this into CELERY_BEAT_SCHEDULE (config/settings/base.py).
SUPERVISION_BEAT: dict = {
    "scan-anomalies": {"task": "supervision.tasks.scan_anomalies", "schedule": 60 * 60},
}


@shared_task(acks_late=True)
def scan_anomalies() -> int:
    """Record new anomalies of the last 30 days (a new case, or a note on the open case of the same
    pattern); returns how many. Safe to run twice (unique finding key)."""
    return len(anomalies_scan().finding_ids)


@shared_task(acks_late=True)
def warm_dashboard() -> None:
    """Recompute the dashboard's default period in each language, so supervisors never wait for it."""
    from django.conf import settings
    from django.utils import translation

    from .dashboard import _default_period
    from .metrics import dashboard_metrics_cached

    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            dashboard_metrics_cached(_default_period(), refresh=True)


@shared_task(acks_late=True)
def anonymize_archived_cases() -> int:
    """Daily: anonymise archived cases past the retention period (RETENTION_YEARS)."""
    from .retention import anonymize_archived

    return anonymize_archived().complaints


@shared_task(acks_late=True)
def draw_monthly_audits() -> int:
    """Monthly: draw last month's quality-audit sample; safe to run twice (nothing more is drawn)."""
    from .audits import audit_sample_month, previous_month

    return audit_sample_month(previous_month())


@shared_task(acks_late=True)
def send_monthly_summary() -> int:
    """Monthly: email supervisors last month's figures; safe to run twice (one email per month)."""
    from .summary import monthly_summary_send

    return monthly_summary_send()
