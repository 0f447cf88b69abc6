from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, roles_register

# What each role may do with this app's records; roles_sync gives the groups these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REVIEWER: [
        "evaluations.add_contactrecord",
        "evaluations.add_decision",
        "evaluations.add_evaluation",
        "evaluations.add_informationrequest",
        "evaluations.change_appeal",
        "evaluations.change_contactrecord",
        "evaluations.change_decision",
        "evaluations.change_evaluation",
        "evaluations.change_informationrequest",
        "evaluations.change_listenertask",
        "evaluations.view_appeal",
        "evaluations.view_contactrecord",
        "evaluations.view_decision",
        "evaluations.view_evaluation",
        "evaluations.view_grade",
        "evaluations.view_informationrequest",
        "evaluations.view_listenerstatement",
        "evaluations.view_listenertask",
    ],
    Role.SUPERVISOR: [
        "evaluations.add_contactrecord",
        "evaluations.add_decision",
        "evaluations.add_evaluation",
        "evaluations.add_grade",
        "evaluations.add_informationrequest",
        "evaluations.add_reviewerassignment",
        "evaluations.approve_decision",
        "evaluations.change_appeal",
        "evaluations.change_contactrecord",
        "evaluations.change_decision",
        "evaluations.change_evaluation",
        "evaluations.change_grade",
        "evaluations.change_informationrequest",
        "evaluations.change_listenertask",
        "evaluations.view_appeal",
        "evaluations.view_contactrecord",
        "evaluations.view_decision",
        "evaluations.view_evaluation",
        "evaluations.view_grade",
        "evaluations.view_informationrequest",
        "evaluations.view_listenerstatement",
        "evaluations.view_listenertask",
        "evaluations.view_reviewerassignment",
    ],
}

# Free text written by or about the parties: retention blanks it once a case is due. (Listener
# tasks are kept on purpose: they are the listener's own record of the measures carried out.)
RETENTION_FREE_TEXT: dict[str, tuple[str, ...]] = {
    "ContactRecord": (
        "summary",
        "expectations",
        "conflict_points",
        "evidence_notes",
        "confirmed_demands",
        "listener_account",
        "listener_understanding",
        "listener_view_of_demands",
    ),
    "InformationRequest": ("question", "answer"),
    "ListenerStatement": ("body", "shared_content", "shared_demands_other"),
    "Evaluation": (
        "facts_rationale",
        "evidence_cited",
        "demand_rationale",
        "competence_rationale",
        "awareness_rationale",
        "outcome_rationale",
        "disagreements",
    ),
    "Decision": (
        "adjustment_reason",
        "text_to_complainant",
        "text_to_listener",
        "listener_response_reason",
        "returned_reason",
    ),
    "Appeal": ("reason", "outcome_note"),
}


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = _("调查与评估")

    def ready(self) -> None:
        roles_register(self.label, ROLE_PERMISSIONS)

        from core.retention import free_text_register

        for model_name, fields in RETENTION_FREE_TEXT.items():
            free_text_register(self.get_model(model_name), fields)

        from .selectors import access_register

        access_register()

        from listeners.holds import register_hold_end

        from .measures import decision_hold_ended

        register_hold_end("evaluations.decision", decision_hold_ended)
