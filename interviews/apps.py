from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = _("胜任力考核面试")

    def ready(self) -> None:
        from listeners.holds import register_hold_end

        from .selectors import access_register
        from .services import interview_hold_ended

        register_hold_end("interviews.competencyinterview", interview_hold_ended)
        access_register()
