"""A listener's task (a decision's measure, an improvement-plan item), with its default policy."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from core.deadline_kinds import deadline_kind_register

LISTENER_TASK = deadline_kind_register(
    "listener_task", _("倾听师任务"), duration=timedelta(days=14), remind_before=timedelta(days=2)
)
