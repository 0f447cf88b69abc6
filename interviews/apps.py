from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = _("胜任力考核面试")

    def ready(self) -> None:
        from .selectors import access_register

        access_register()
