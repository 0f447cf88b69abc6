from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, roles_register

# What each role may do with this app's records; roles_sync gives the groups these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CONSULTANT: [
        "complaints.add_complaint",
        "complaints.add_replytemplate",
        "complaints.assign_complaint",
        "complaints.change_complaint",
        "complaints.change_replytemplate",
        "complaints.close_complaint",
        "complaints.escalate_complaint",
        "complaints.merge_complaint",
        "complaints.triage_complaint",
        "complaints.view_attachment",
        "complaints.view_complaint",
        "complaints.view_replytemplate",
        "complaints.view_timelineevent",
    ],
    Role.REVIEWER: [
        "complaints.close_complaint",
        "complaints.decide_complaint",
        "complaints.evaluate_complaint",
        "complaints.reveal_identity",
        "complaints.view_attachment",
        "complaints.view_complaint",
        "complaints.view_timelineevent",
    ],
    Role.SUPERVISOR: [
        "complaints.add_complaint",
        "complaints.add_consenttext",
        "complaints.add_crisisterm",
        "complaints.add_replytemplate",
        "complaints.assign_complaint",
        "complaints.change_complaint",
        "complaints.change_crisisterm",
        "complaints.change_replytemplate",
        "complaints.close_complaint",
        "complaints.decide_complaint",
        "complaints.escalate_complaint",
        "complaints.evaluate_complaint",
        "complaints.merge_complaint",
        "complaints.reveal_identity",
        "complaints.triage_complaint",
        "complaints.view_all_complaints",
        "complaints.view_attachment",
        "complaints.view_complaint",
        "complaints.view_consenttext",
        "complaints.view_crisisterm",
        "complaints.view_replytemplate",
        "complaints.view_timelineevent",
    ],
}

# Free text written by or about the parties: retention blanks it once a case is due.
RETENTION_FREE_TEXT: dict[str, tuple[str, ...]] = {
    "Complaint": ("content", "demands_other", "resolution", "rejection_reason", "satisfaction_comment"),
    "ConflictDeclaration": ("reason",),
}


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("投诉")

    def ready(self) -> None:
        roles_register(self.label, ROLE_PERMISSIONS)
        from core.retention import free_text_register

        from . import deadline_kinds  # noqa: F401  (declares this app's deadline kinds)

        for model_name, fields in RETENTION_FREE_TEXT.items():
            free_text_register(self.get_model(model_name), fields)

        from core.deadlines import register_breach_handler

        from .services import complaint_deadlines_breached

        register_breach_handler("complaints.complaint", complaint_deadlines_breached)

        from .selectors import access_register

        access_register()
