"""Holds: each case changes only its own, the most severe decides, history becomes holds."""

import importlib

import pytest
from django.apps import apps

from core.models import OutboxEvent
from evaluations.models import AppealState
from evaluations.services import appeal_assign, appeal_file, appeal_resolve
from interviews.models import Band, CompetencyInterview, InterviewState
from listeners.holds import active_holds, hold_lift, listener_recompute_status, listener_set_status
from listeners.models import HoldEnd, ListenerHold, ListenerProfile, ListenerStatus, ListenerStatusChange

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, UserFactory
from .helpers import decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor():
    return UserFactory(roles=["supervisor"])


def _status(listener) -> str:
    return ListenerProfile.objects.get(pk=listener.pk).status


def _annul(decision, supervisor):
    appeal = appeal_file(decision=decision, actor=decision.complaint.listener.user, reason="事实认定有误")
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))
    appeal_resolve(appeal=appeal, actor=supervisor, outcome=AppealState.ANNULLED, note="证据不足，撤销")


def test_annulling_another_complaints_decision_leaves_a_delisting_in_force(supervisor):
    # given a listener delisted by a grade-4 decision, and hidden by a grade-2 one on another complaint
    listener = ListenerProfileFactory()
    decide(listener, 4, supervisor)
    milder = decide(listener, 2, supervisor)
    events_before = OutboxEvent.objects.filter(kind="listener.status_changed").count()

    # when the grade-2 decision is annulled on appeal
    _annul(milder, supervisor)

    # then the listener stays delisted, and the main platform is told nothing
    assert _status(listener) == ListenerStatus.DELISTED
    assert OutboxEvent.objects.filter(kind="listener.status_changed").count() == events_before
    assert not ListenerStatusChange.objects.filter(listener=listener, to_status=ListenerStatus.ACTIVE).exists()


def test_a_later_milder_decision_does_not_soften_a_suspension(supervisor):
    listener = ListenerProfileFactory()
    decide(listener, 3, supervisor)
    assert _status(listener) == ListenerStatus.SUSPENDED

    decide(listener, 2, supervisor)

    assert _status(listener) == ListenerStatus.SUSPENDED
    assert set(active_holds(listener).values_list("effect", flat=True)) == {"suspended", "hidden"}


def test_annulling_the_very_decision_that_delisted_ends_the_delisting(supervisor):
    listener = ListenerProfileFactory()
    delisting = decide(listener, 4, supervisor)

    _annul(delisting, supervisor)

    assert _status(listener) == ListenerStatus.ACTIVE
    change = ListenerStatusChange.objects.filter(listener=listener).order_by("-created_at", "-id").first()
    assert (change.from_status, change.to_status) == ("delisted", "active")
    assert "撤销" in change.reason or "复核" in change.reason


def test_a_status_change_names_the_hold_that_decides(supervisor):
    listener = ListenerProfileFactory()
    decide(listener, 2, supervisor)
    suspension = decide(listener, 3, supervisor)

    change = ListenerStatusChange.objects.filter(listener=listener).order_by("-created_at", "-id").first()

    assert change.to_status == ListenerStatus.SUSPENDED
    assert change.hold.source == suspension
    assert change.source == suspension


def test_a_manual_active_does_not_lift_a_cases_hold(supervisor):
    listener = ListenerProfileFactory()
    decide(listener, 2, supervisor)

    listener_set_status(listener=listener, status=ListenerStatus.SUSPENDED, reason="临时暂停", actor=supervisor)
    assert _status(listener) == ListenerStatus.SUSPENDED
    listener_set_status(listener=listener, status=ListenerStatus.ACTIVE, reason="解除暂停", actor=supervisor)

    assert _status(listener) == ListenerStatus.HIDDEN


def test_a_hold_that_ends_by_rule_cannot_be_lifted_by_hand(supervisor):
    listener = ListenerProfileFactory()
    decide(listener, 4, supervisor)
    hold = active_holds(listener).get()

    with pytest.raises(Exception, match="按规则解除"):
        hold_lift(hold=hold, reason="试图解除", actor=supervisor)

    assert _status(listener) == ListenerStatus.DELISTED


def test_supervisors_place_and_lift_a_manual_hold_in_the_admin(supervisor):
    listener = ListenerProfileFactory()
    client = signed_in_client(supervisor)

    response = client.post(
        "/admin/listeners/listenerhold/add/",
        {"listener": listener.pk, "effect": "suspended", "reason": "投诉集中，先暂停接单"},
    )
    assert response.status_code == 302
    assert _status(listener) == ListenerStatus.SUSPENDED
    hold = active_holds(listener).get()
    assert hold.ends == HoldEnd.MANUAL and hold.placed_by == supervisor

    response = client.post(
        "/admin/listeners/listenerhold/",
        {"action": "lift_selected", "_selected_action": [hold.pk]},
    )
    assert response.status_code == 302
    assert _status(listener) == ListenerStatus.ACTIVE
    page = client.get(f"/admin/listeners/listenerprofile/{listener.pk}/change/").content.decode()
    assert "投诉集中，先暂停接单" in page


def test_history_becomes_holds_without_changing_any_status(supervisor):
    """The data migration, run on listeners shaped like today's: restricted by a decision, a
    failed or 60–70 interview, a manual change, or never changed since joining in internship."""
    by_decision = ListenerProfileFactory()
    decide(by_decision, 2, supervisor)
    by_interview = ListenerProfileFactory()
    failed = CompetencyInterview.objects.create(
        listener=by_interview, reason="面试", requested_by=supervisor, state=InterviewState.RESULT_SENT, band=Band.FAIL
    )
    conditional_listener = ListenerProfileFactory()
    conditional = CompetencyInterview.objects.create(
        listener=conditional_listener,
        reason="面试",
        requested_by=supervisor,
        state=InterviewState.RESULT_SENT,
        band=Band.CONDITIONAL,
    )
    manual = ListenerProfileFactory()
    listener_set_status(listener=manual, status=ListenerStatus.HIDDEN, reason="督导决定", actor=supervisor)
    newcomer = ListenerProfileFactory()
    # Yesterday's shape: statuses written straight onto the profile, with history rows only.
    for listener, status, source in [
        (by_interview, ListenerStatus.DELISTED, failed),
        (conditional_listener, ListenerStatus.SUSPENDED, conditional),
    ]:
        change = ListenerStatusChange(listener=listener, from_status="active", to_status=status, reason="面试结果")
        change.source = source
        change.save()
        ListenerProfile.objects.filter(pk=listener.pk).update(status=status)
    ListenerProfile.objects.filter(pk=newcomer.pk).update(status=ListenerStatus.INTERNSHIP)
    ListenerStatusChange.objects.update(hold=None)
    ListenerHold.objects.all().delete()
    before = dict(ListenerProfile.objects.values_list("pk", "status"))
    changes_before = ListenerStatusChange.objects.count()

    migration = importlib.import_module("supervision.migrations.0013_listener_holds_from_history")
    migration.build_holds(apps)
    for listener in ListenerProfile.objects.all():
        listener_recompute_status(listener=listener, reason="复算", actor=None)

    assert dict(ListenerProfile.objects.values_list("pk", "status")) == before
    assert ListenerStatusChange.objects.count() == changes_before
    ends = {h.listener_id: h.ends for h in ListenerHold.objects.all()}
    assert ends == {
        by_decision.pk: HoldEnd.CASE_DONE,
        by_interview.pk: HoldEnd.INTERVIEW_PASSED,
        conditional_listener.pk: HoldEnd.PLAN_VERIFIED,
        manual.pk: HoldEnd.MANUAL,
        newcomer.pk: HoldEnd.MANUAL,
    }
