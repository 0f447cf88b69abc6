from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("投诉")

    def ready(self) -> None:
        from core.deadlines import register_breach_handler

        from .services import complaint_deadlines_breached

        register_breach_handler("complaints.complaint", complaint_deadlines_breached)

        from .selectors import access_register

        access_register()
