from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账户与角色")

    def ready(self) -> None:
        from .roles import ACCOUNTS_ROLE_PERMISSIONS, roles_register

        roles_register(self.label, ACCOUNTS_ROLE_PERMISSIONS)
