from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, roles_register

# What each role may do with this app's records; roles_sync gives the groups these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REVIEWER: [
        "interviews.add_interviewslot",
        "interviews.view_competencyinterview",
        "interviews.view_interviewmaterial",
        "interviews.view_interviewplanitem",
        "interviews.view_interviewscore",
        "interviews.view_interviewslot",
    ],
    Role.SUPERVISOR: [
        "interviews.add_competencyinterview",
        "interviews.add_interviewslot",
        "interviews.change_competencyinterview",
        "interviews.change_interviewplanitem",
        "interviews.change_interviewslot",
        "interviews.change_scoringarea",
        "interviews.change_scoringitem",
        "interviews.view_competencyinterview",
        "interviews.view_interviewmaterial",
        "interviews.view_interviewplanitem",
        "interviews.view_interviewscore",
        "interviews.view_interviewslot",
        "interviews.view_scoringarea",
        "interviews.view_scoringitem",
    ],
}


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = _("胜任力考核面试")

    def ready(self) -> None:
        roles_register(self.label, ROLE_PERMISSIONS)
        from listeners.holds import register_hold_end

        from . import deadline_kinds  # noqa: F401  (declares this app's deadline kinds)
        from .selectors import access_register
        from .services import interview_hold_ended

        register_hold_end("interviews.competencyinterview", interview_hold_ended)
        access_register()
