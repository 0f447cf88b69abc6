"""Default anomaly rules (issue 7). Loaded by a data migration and by the tests after a flush; idempotent."""

from datetime import timedelta
from decimal import Decimal

# (kind, window, threshold, min_count, description)
DEFAULT_RULES = [
    ("pair_sessions_7d", timedelta(days=7), Decimal("5"), 5, "同一倾听师与同一用户 7 天内超过 5 次订单"),
    ("pair_hours_day", timedelta(days=1), Decimal("4"), 5, "同一倾听师与同一用户单日倾诉超过 4 小时"),
    ("listener_daily_hours", timedelta(days=1), Decimal("10"), 5, "倾听师单日倾诉总时长超过 10 小时"),
    # 14 days on each side of the report; 5 rated sessions on each side before a mean is trusted.
    (
        "rating_swing_after_report",
        timedelta(days=14),
        Decimal("1"),
        5,
        "被举报诱导改评后 14 天的平均评分比之前 14 天高出 1 星以上（每侧至少 5 条评分）",
    ),
]


def anomaly_rules_load(apps=None) -> None:
    """Create the default rule of each kind that has no rule at all; never touch what supervisors
    edited, deactivated or added."""
    from django.apps import apps as live_apps

    AnomalyRule = (apps or live_apps).get_model("supervision", "AnomalyRule")
    present = set(AnomalyRule.objects.values_list("kind", flat=True))
    AnomalyRule.objects.bulk_create(
        AnomalyRule(kind=kind, window=window, threshold=threshold, min_count=min_count, description=description)
        for kind, window, threshold, min_count, description in DEFAULT_RULES
        if kind not in present
    )
