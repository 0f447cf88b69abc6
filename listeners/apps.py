from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import INTEGRATION_GROUP, Role, roles_register

# What each role may do with this app's records; roles_sync gives the groups these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CONSULTANT: [
        "listeners.view_listenerhold",
        "listeners.view_listenerprofile",
        "listeners.view_listenerstatuschange",
        "listeners.view_listeningsession",
    ],
    Role.REVIEWER: [
        "listeners.view_listenerhold",
        "listeners.view_listenerprofile",
        "listeners.view_listenerstatuschange",
        "listeners.view_listeningsession",
    ],
    Role.SUPERVISOR: [
        "listeners.add_listenerhold",
        "listeners.add_listenerprofile",
        "listeners.change_listenerhold",
        "listeners.change_listenerprofile",
        "listeners.view_listenerhold",
        "listeners.view_listenerprofile",
        "listeners.view_listenerstatuschange",
        "listeners.view_listeningsession",
    ],
    INTEGRATION_GROUP: [
        "listeners.import_listeningsession",
    ],
}


class ListenersConfig(AppConfig):
    name = "listeners"
    verbose_name = _("倾听师与倾诉订单")

    def ready(self) -> None:
        roles_register(self.label, ROLE_PERMISSIONS)
        from . import deadline_kinds  # noqa: F401  (declares this app's deadline kinds)
