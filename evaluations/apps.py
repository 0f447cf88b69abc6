from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = _("调查与评估")

    def ready(self) -> None:
        from complaints.selectors import register_case_staff_check

        from .services import reviewers_of

        register_case_staff_check(lambda user, complaint: user.pk in reviewers_of(complaint))

        from listeners.services import register_status_hold

        from .measures import interview_pending, open_tasks_for_listener

        register_status_hold("evaluations.tasks", open_tasks_for_listener)
        register_status_hold("interviews.unfinished", interview_pending)
