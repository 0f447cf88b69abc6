from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = _("调查与评估")

    def ready(self) -> None:
        from .selectors import access_register

        access_register()

        from listeners.services import register_status_hold

        from .measures import interview_pending, open_tasks_for_listener

        register_status_hold("evaluations.tasks", open_tasks_for_listener)
        register_status_hold("interviews.unfinished", interview_pending)
