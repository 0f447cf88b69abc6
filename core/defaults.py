"""Default deadline policies (DOMAIN §2), as each app declared them with its kinds. Loaded by a data
migration; idempotent."""

from .deadline_kinds import deadline_kinds


def policies_load(apps=None) -> None:
    """Create missing policies; never overwrite what supervisors edited."""
    from django.apps import apps as live_apps

    DeadlinePolicy = (apps or live_apps).get_model("core", "DeadlinePolicy")
    for spec in deadline_kinds():
        DeadlinePolicy.objects.get_or_create(
            kind=str(spec.kind),
            defaults={
                "duration": spec.duration,
                "remind_before": spec.remind_before,
                "escalate_to_supervisors": spec.escalate_to_supervisors,
                "raise_priority": spec.raise_priority,
            },
        )
