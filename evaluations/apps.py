from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = _("调查与评估")

    def ready(self) -> None:
        from .selectors import access_register

        access_register()

        from listeners.holds import register_hold_end

        from .measures import decision_hold_ended

        register_hold_end("evaluations.decision", decision_hold_ended)
