from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, roles_register

# What each role may do with this app's records; roles_sync gives the groups these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SUPERVISOR: [
        "supervision.add_anomalyrule",
        "supervision.change_anomalyrule",
        "supervision.change_qualityaudit",
        "supervision.view_anomalyrule",
        "supervision.view_ethicscase",
        "supervision.view_ethicscaseevent",
        "supervision.view_listenerreport",
        "supervision.view_qualityaudit",
    ],
}


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("伦理督导")

    def ready(self) -> None:
        roles_register(self.label, ROLE_PERMISSIONS)
        # Ethics cases reuse the evaluations tasks; that app tells us when a case's last one is verified.
        from evaluations.measures import register_tasks_done_handler
        from listeners.holds import register_hold_end

        from . import deadline_kinds  # noqa: F401  (declares this app's deadline kinds)
        from .services import ethics_case_hold_ended, ethics_case_tasks_done

        register_tasks_done_handler("supervision.ethicscase", ethics_case_tasks_done)
        register_hold_end("supervision.ethicscase", ethics_case_hold_ended)

        from .selectors import access_register

        access_register()
