"""The five roles of Hearken. Each is a Django group; a user may hold several."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMPLAINANT = "complainant", _("投诉人")
    CONSULTANT = "consultant", _("咨询顾问")
    REVIEWER = "reviewer", _("专业组")
    LISTENER = "listener", _("倾听师")
    SUPERVISOR = "supervisor", _("督导")


# Roles that work on cases: admin access, and a second factor at every sign-in.
STAFF_ROLES = frozenset({Role.CONSULTANT, Role.REVIEWER, Role.SUPERVISOR})

# The account the main platform uses to push listening sessions; not a person's role.
INTEGRATION_GROUP = "platform-integration"


# What each role may do in the admin and API, as "app_label.codename". Names of higher
# apps' permissions are plain strings here, so accounts never imports those apps.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COMPLAINANT: [],
    Role.LISTENER: [],
    Role.CONSULTANT: [
        "core.view_deadline",
        *[f"complaints.{p}" for p in ("view_complaint", "add_complaint", "change_complaint")],
        *[f"complaints.{p}_complaint" for p in ("triage", "escalate", "close", "merge", "assign")],
        "complaints.view_complaint",
        "complaints.view_timelineevent",
        "complaints.view_attachment",
        "complaints.view_replytemplate",
        "complaints.add_replytemplate",
        "complaints.change_replytemplate",
        "accounts.view_user",
        "listeners.view_listenerprofile",
        "listeners.view_listeningsession",
        "listeners.view_listenerstatuschange",
        "listeners.view_listenerhold",
    ],
    Role.REVIEWER: [
        *[
            f"evaluations.{a}_{m}"
            for a in ("view", "add", "change")
            for m in ("evaluation", "contactrecord", "informationrequest", "decision")
        ],
        "evaluations.view_listenerstatement",
        "evaluations.view_listenertask",
        "evaluations.change_listenertask",
        "evaluations.view_grade",
        "evaluations.view_appeal",
        "evaluations.change_appeal",
        "interviews.view_competencyinterview",
        "interviews.view_interviewslot",
        "interviews.add_interviewslot",
        "interviews.view_interviewmaterial",
        "interviews.view_interviewscore",
        "interviews.view_interviewplanitem",
        "complaints.view_complaint",
        "complaints.evaluate_complaint",
        "complaints.decide_complaint",
        "complaints.close_complaint",
        "complaints.view_timelineevent",
        "complaints.view_attachment",
        "complaints.reveal_identity",
        "accounts.view_user",
        "listeners.view_listenerprofile",
        "listeners.view_listeningsession",
        "listeners.view_listenerstatuschange",
        "listeners.view_listenerhold",
    ],
    Role.SUPERVISOR: [
        *[
            f"evaluations.{a}_{m}"
            for a in ("view", "add", "change")
            for m in ("evaluation", "contactrecord", "informationrequest", "decision")
        ],
        "evaluations.view_listenerstatement",
        "evaluations.view_listenertask",
        "evaluations.change_listenertask",
        "evaluations.view_grade",
        "evaluations.view_appeal",
        "evaluations.change_appeal",
        "interviews.view_competencyinterview",
        "evaluations.approve_decision",
        *[f"supervision.{a}_anomalyrule" for a in ("view", "add", "change")],
        "supervision.view_ethicscase",
        "supervision.view_ethicscaseevent",
        "supervision.view_listenerreport",
        "supervision.view_qualityaudit",
        "supervision.change_qualityaudit",
        "evaluations.change_grade",
        "evaluations.add_grade",
        "evaluations.view_reviewerassignment",
        "evaluations.add_reviewerassignment",
        "interviews.add_competencyinterview",
        "interviews.change_competencyinterview",
        *[f"interviews.{a}_interviewslot" for a in ("view", "add", "change")],
        "interviews.view_interviewmaterial",
        "interviews.view_interviewscore",
        *[f"interviews.{a}_interviewplanitem" for a in ("view", "change")],
        *[f"interviews.{a}_{m}" for a in ("view", "change") for m in ("scoringarea", "scoringitem")],
        *[f"complaints.{p}" for p in ("view_complaint", "add_complaint", "change_complaint")],
        *[f"complaints.{p}_complaint" for p in ("triage", "escalate", "close", "merge", "assign")],
        "complaints.evaluate_complaint",
        "complaints.decide_complaint",
        "complaints.view_all_complaints",
        "complaints.reveal_identity",
        "complaints.view_timelineevent",
        "complaints.view_attachment",
        *[f"complaints.{a}_{m}" for a in ("view", "add", "change") for m in ("replytemplate", "crisisterm")],
        "complaints.view_consenttext",
        "complaints.add_consenttext",
        "core.view_accesslog",
        "core.view_deadlinepolicy",
        "core.change_deadlinepolicy",
        *[f"core.{a}_holiday" for a in ("view", "add", "change", "delete")],
        "core.view_deadline",
        "core.view_notification",
        "core.view_outboxevent",
        "core.view_webhookdelivery",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "listeners.view_listenerprofile",
        "listeners.add_listenerprofile",
        "listeners.change_listenerprofile",
        "listeners.view_listeningsession",
        "listeners.view_listenerstatuschange",
        *[f"listeners.{a}_listenerhold" for a in ("view", "add", "change")],
    ],
    INTEGRATION_GROUP: ["listeners.import_listeningsession"],
}


def roles_sync(apps=None) -> None:
    """Create the role groups and give them exactly ROLE_PERMISSIONS. Idempotent.

    Data migrations call it with their historical ``apps`` (each app's latest data
    migration, so its permissions exist by then); ``manage.py sync_roles`` calls it live.
    Permissions of apps not migrated yet are skipped and granted by their own migration.
    """
    from django.apps import apps as live_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or live_apps
    for app_config in apps.get_app_configs():
        if apps is not live_apps:
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        if apps is not live_apps:
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)
