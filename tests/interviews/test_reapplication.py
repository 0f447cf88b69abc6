"""Reapplication after a failed interview: the date on the interview list, the button once the six
months are over, the refusal one second before (time frozen), the new interview and the
supervisors' notification, and what the next result does to a delisted listener."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import Notification
from interviews.models import Band, CompetencyInterview, InterviewState
from interviews.services import (
    REAPPLICATION_REASON,
    interview_send_result,
    plan_item_submit,
    plan_item_verify,
    reapplication_submit,
)
from listeners.holds import hold_place, hold_release
from listeners.models import HoldEnd, ListenerProfile, ListenerStatus
from supervision.models import EthicsCase, EthicsSource

from ..conftest import signed_in_client
from .conftest import scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(clock, interview, supervisor, reviewer, observer):
    """A result below 60: the listener is delisted and may reapply six months later."""
    done = scored(interview, supervisor, reviewer, observer, clock, 5)
    sent = interview_send_result(interview=done, actor=reviewer)
    assert sent.band == Band.FAIL
    mail.outbox.clear()
    return sent


def _listener(interview):
    return ListenerProfile.objects.get(pk=interview.listener_id)


def test_one_second_before_the_date_the_reapplication_is_refused_with_the_date(clock, failed):
    listener = _listener(failed)
    clock.move_to(failed.eligible_to_reapply_at - timedelta(seconds=1))

    with pytest.raises(ValidationError) as exc:
        reapplication_submit(listener=listener, actor=listener.user)

    assert timezone.localtime(failed.eligible_to_reapply_at).strftime("%Y-%m-%d") in exc.value.messages[0]
    assert CompetencyInterview.objects.filter(listener=listener).count() == 1
    assert not Notification.objects.filter(kind="staff.interview_reapplication").exists()


def test_on_the_date_a_new_interview_is_requested_and_supervisors_are_told(clock, failed, supervisor):
    listener = _listener(failed)
    clock.move_to(failed.eligible_to_reapply_at)

    with_request = reapplication_submit(listener=listener, actor=listener.user)
    again = reapplication_submit(listener=listener, actor=listener.user)

    assert with_request.pk == again.pk != failed.pk
    assert with_request.state == InterviewState.REQUESTED
    assert with_request.reason == REAPPLICATION_REASON
    assert with_request.complaint is None
    told = Notification.objects.filter(kind="staff.interview_reapplication")
    assert [n.recipient_id for n in told] == [supervisor.pk]
    assert f"/admin/interviews/competencyinterview/{with_request.pk}/change/" == told[0].link


def test_only_the_listener_and_only_when_delisted_by_an_interview(clock, failed, interview, supervisor):
    listener = _listener(failed)
    clock.move_to(failed.eligible_to_reapply_at)

    with pytest.raises(PermissionDenied):
        reapplication_submit(listener=listener, actor=supervisor)

    hold_release(listener=listener, source=failed, reason="原决定撤销", actor=supervisor)
    with pytest.raises(ValidationError):
        reapplication_submit(listener=_listener(failed), actor=listener.user)


@pytest.mark.parametrize(
    ("value", "band", "status"),
    [(8, Band.PASS, ListenerStatus.ACTIVE), (6, Band.CONDITIONAL, ListenerStatus.HIDDEN)],
)
def test_a_reapplicant_who_passes_is_active_and_one_in_the_middle_band_waits_for_the_plan(
    clock, failed, supervisor, reviewer, observer, value, band, status
):
    listener = _listener(failed)
    clock.move_to(failed.eligible_to_reapply_at)
    second = reapplication_submit(listener=listener, actor=listener.user)

    done = scored(second, supervisor, reviewer, observer, clock, value)
    sent = interview_send_result(interview=done, actor=reviewer)

    assert sent.band == band
    assert _listener(sent).status == status
    assert sent.plan_items.count() == 3
    if band == Band.CONDITIONAL:
        for item in sent.plan_items.all():
            plan_item_submit(item=item, note="已完成", actor=listener.user)
            plan_item_verify(item=item, actor=supervisor)
        assert _listener(sent).status == ListenerStatus.ACTIVE


def test_a_reapplicant_who_fails_again_stays_delisted_with_a_new_date(clock, failed, supervisor, reviewer, observer):
    listener = _listener(failed)
    clock.move_to(failed.eligible_to_reapply_at)
    second = reapplication_submit(listener=listener, actor=listener.user)

    done = scored(second, supervisor, reviewer, observer, clock, 5)
    sent = interview_send_result(interview=done, actor=reviewer)

    assert _listener(sent).status == ListenerStatus.DELISTED
    assert sent.eligible_to_reapply_at > failed.eligible_to_reapply_at + timedelta(days=180)
    with pytest.raises(ValidationError):
        reapplication_submit(listener=listener, actor=listener.user)


# --- the portal -----------------------------------------------------------------------------------


def test_the_list_shows_the_date_and_no_button_before_it(clock, failed):
    clock.move_to(failed.eligible_to_reapply_at - timedelta(days=1))
    client = signed_in_client(failed.listener.user)

    page = client.get("/portal/interviews/").content.decode()

    assert 'data-testid="reapply-date"' in page
    assert timezone.localtime(failed.eligible_to_reapply_at).strftime("%Y-%m-%d") in page
    assert 'data-testid="reapply-button"' not in page


def test_posting_before_the_date_is_a_400_with_the_date_and_writes_nothing(clock, failed):
    clock.move_to(failed.eligible_to_reapply_at - timedelta(seconds=1))
    client = signed_in_client(failed.listener.user)

    response = client.post("/portal/interviews/reapply/")

    assert response.status_code == 400
    assert timezone.localtime(failed.eligible_to_reapply_at).strftime("%Y-%m-%d") in response.content.decode()
    assert CompetencyInterview.objects.count() == 1


def test_once_eligible_the_button_opens_an_interview(clock, failed):
    clock.move_to(failed.eligible_to_reapply_at)
    client = signed_in_client(failed.listener.user)

    assert 'data-testid="reapply-button"' in client.get("/portal/interviews/").content.decode()
    response = client.post("/portal/interviews/reapply/")

    new = CompetencyInterview.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/interviews/{new.pk}/"
    page = client.get("/portal/interviews/").content.decode()
    assert 'data-testid="reapply-button"' not in page
    assert f"/portal/interviews/{new.pk}/" in page


def test_a_pass_does_not_undo_a_delisting_by_another_case(clock, interview, supervisor, reviewer, observer):
    listener = _listener(interview)
    case = EthicsCase.objects.create(listener=listener, source=EthicsSource.SUPERVISOR_OBSERVATION, summary="严重违规")
    hold_place(
        listener=listener,
        effect=ListenerStatus.DELISTED,
        ends=HoldEnd.NEVER,
        reason="伦理案件 4 级",
        actor=supervisor,
        source=case,
    )
    done = scored(interview, supervisor, reviewer, observer, clock, 8)

    interview_send_result(interview=done, actor=reviewer)

    assert _listener(interview).status == ListenerStatus.DELISTED


def test_a_later_delisting_by_another_case_closes_the_reapplication_route(clock, failed, supervisor):
    listener = _listener(failed)
    clock.move_to(failed.eligible_to_reapply_at)
    case = EthicsCase.objects.create(listener=listener, source=EthicsSource.SUPERVISOR_OBSERVATION, summary="严重违规")
    hold_place(
        listener=listener,
        effect=ListenerStatus.DELISTED,
        ends=HoldEnd.NEVER,
        reason="伦理案件 4 级",
        actor=supervisor,
        source=case,
    )

    with pytest.raises(ValidationError):
        reapplication_submit(listener=_listener(failed), actor=listener.user)
    page = signed_in_client(listener.user).get("/portal/interviews/").content.decode()

    assert "申请重新入驻" not in page
    assert CompetencyInterview.objects.filter(listener=listener).count() == 1
