"""Each app grants its own permissions to the roles (AppConfig.ready -> roles_register); accounts'
roles_sync gathers them. The groups must get exactly what they had when accounts listed every
app's permissions itself: the frozen copy below is that list, expanded.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.roles import Role, role_permissions, roles_register, roles_sync

# Role -> "app_label.codename", as accounts.roles.ROLE_PERMISSIONS gave them before each app
# declared its own. A change to what a role may do is a change to this copy too.
FROZEN_ROLE_PERMISSIONS: dict[str, set[str]] = {
    "complainant": set(),
    "listener": set(),
    "consultant": {
        "accounts.view_user",
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
        "core.view_deadline",
        "listeners.view_listenerhold",
        "listeners.view_listenerprofile",
        "listeners.view_listenerstatuschange",
        "listeners.view_listeningsession",
    },
    "reviewer": {
        "accounts.view_user",
        "complaints.close_complaint",
        "complaints.decide_complaint",
        "complaints.evaluate_complaint",
        "complaints.reveal_identity",
        "complaints.view_attachment",
        "complaints.view_complaint",
        "complaints.view_timelineevent",
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
        "interviews.add_interviewslot",
        "interviews.view_competencyinterview",
        "interviews.view_interviewmaterial",
        "interviews.view_interviewplanitem",
        "interviews.view_interviewscore",
        "interviews.view_interviewslot",
        "listeners.view_listenerhold",
        "listeners.view_listenerprofile",
        "listeners.view_listenerstatuschange",
        "listeners.view_listeningsession",
    },
    "supervisor": {
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
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
        "core.add_holiday",
        "core.change_deadlinepolicy",
        "core.change_holiday",
        "core.delete_holiday",
        "core.view_accesslog",
        "core.view_deadline",
        "core.view_deadlinepolicy",
        "core.view_holiday",
        "core.view_notification",
        "core.view_outboxevent",
        "core.view_webhookdelivery",
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
        "listeners.add_listenerhold",
        "listeners.add_listenerprofile",
        "listeners.change_listenerhold",
        "listeners.change_listenerprofile",
        "listeners.view_listenerhold",
        "listeners.view_listenerprofile",
        "listeners.view_listenerstatuschange",
        "listeners.view_listeningsession",
        "supervision.add_anomalyrule",
        "supervision.change_anomalyrule",
        "supervision.change_qualityaudit",
        "supervision.view_anomalyrule",
        "supervision.view_ethicscase",
        "supervision.view_ethicscaseevent",
        "supervision.view_listenerreport",
        "supervision.view_qualityaudit",
    },
    "platform-integration": {
        "listeners.import_listeningsession",
    },
}


def test_the_gathered_role_permissions_are_exactly_the_frozen_ones():
    gathered = {role: set(perms) for role, perms in role_permissions().items()}

    assert gathered == FROZEN_ROLE_PERMISSIONS


@pytest.mark.django_db
def test_roles_sync_gives_each_group_exactly_the_frozen_permissions():
    # given: a group that has drifted
    Group.objects.get_or_create(name="consultant")[0].permissions.clear()

    # when
    roles_sync()

    # then
    for role, expected in FROZEN_ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == expected, role


def test_an_app_may_grant_only_its_own_permissions_to_known_roles():
    with pytest.raises(ValueError, match="only its own"):
        roles_register("complaints", {Role.REVIEWER: ["evaluations.view_evaluation"]})
    with pytest.raises(ValueError, match="unknown role"):
        roles_register("complaints", {"auditor": ["complaints.view_complaint"]})

    # and a refused registration leaves the app's grants as they were
    assert "complaints.view_complaint" in role_permissions()[Role.REVIEWER]
