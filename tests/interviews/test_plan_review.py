"""Reviewing the improvement plan: only a submitted item may be verified, the listener is told of
each verification, of a send-back (with the note, item open again) and of the restoration; each
item has a listener-task deadline, met on verification."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import Deadline, DeadlineKind, Notification
from interviews.models import InterviewPlanItem, PlanItemState
from interviews.services import interview_send_result, plan_item_return, plan_item_submit, plan_item_verify
from listeners.models import ListenerStatus

from ..conftest import signed_in_client
from .conftest import scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(clock, interview, supervisor, reviewer, observer):
    """A 60–70 result: the listener is hidden until the three items are verified."""
    sent = interview_send_result(interview=scored(interview, supervisor, reviewer, observer, clock, 6), actor=reviewer)
    Notification.objects.all().delete()
    return list(sent.plan_items.all())


def deadline_of(item):
    return Deadline.objects.get(subject_type=ContentType.objects.get_for_model(InterviewPlanItem), subject_id=item.pk)


def fresh(item):
    return InterviewPlanItem.objects.get(pk=item.pk)


def test_each_item_has_a_listener_task_deadline_owned_by_the_listener(plan):
    for item in plan:
        deadline = deadline_of(item)
        assert deadline.kind == DeadlineKind.LISTENER_TASK
        assert deadline.owner == item.interview.listener.user
        assert deadline.due_at == item.due_at
        assert deadline.link == f"/portal/interviews/{item.interview_id}/"
        assert deadline.state == Deadline.State.OPEN


def test_an_open_item_cannot_be_verified(plan, reviewer):
    with pytest.raises(ValidationError):
        plan_item_verify(item=plan[0], actor=reviewer)

    assert fresh(plan[0]).state == PlanItemState.OPEN
    assert not Notification.objects.exists()


def test_verifying_a_submitted_item_meets_its_deadline_and_tells_the_listener(plan, reviewer):
    user = plan[0].interview.listener.user
    plan_item_submit(item=plan[0], note="学习记录已上传。", actor=user)

    plan_item_verify(item=plan[0], actor=reviewer, note="记录完整。")
    plan_item_verify(item=plan[0], actor=reviewer)  # idempotent

    assert deadline_of(plan[0]).state == Deadline.State.MET
    told = Notification.objects.get(kind="listener.interview_plan_verified")
    assert told.recipient == user
    assert "记录完整。" in told.body


def test_the_last_verification_restores_and_says_so(plan, reviewer):
    user = plan[0].interview.listener.user
    for item in plan:
        plan_item_submit(item=item, note="已完成", actor=user)
        plan_item_verify(item=item, actor=reviewer)

    user.listener_profile.refresh_from_db()
    assert user.listener_profile.status == ListenerStatus.ACTIVE
    assert Notification.objects.filter(kind="listener.interview_plan_restored", recipient=user).count() == 1


def test_sending_back_reopens_the_item_with_the_note_and_tells_the_listener(plan, reviewer):
    user = plan[0].interview.listener.user
    plan_item_submit(item=plan[0], note="已完成", actor=user)

    with pytest.raises(ValidationError):
        plan_item_return(item=plan[0], actor=reviewer, note=" ")
    with pytest.raises(PermissionDenied):
        plan_item_return(item=plan[0], actor=user, note="自己退回")
    returned = plan_item_return(item=plan[0], actor=reviewer, note="请补充督导记录的日期。")

    assert returned.state == PlanItemState.OPEN
    assert returned.review_note == "请补充督导记录的日期。"
    assert deadline_of(plan[0]).state == Deadline.State.OPEN
    told = Notification.objects.get(kind="listener.interview_plan_returned")
    assert "请补充督导记录的日期。" in told.body
    with pytest.raises(ValidationError):
        plan_item_return(item=plan[0], actor=reviewer, note="再退一次")
    page = signed_in_client(user).get(f"/portal/interviews/{plan[0].interview_id}/").content.decode()
    assert "请补充督导记录的日期。" in page


def test_the_admin_pages_verify_and_send_back_one_item(plan, reviewer):
    user = plan[0].interview.listener.user
    plan_item_submit(item=plan[0], note="已完成", actor=user)
    plan_item_submit(item=plan[1], note="已完成", actor=user)
    client = signed_in_client(reviewer)
    change = client.get(reverse("admin:interviews_interviewplanitem_change", args=[plan[0].pk])).content.decode()
    assert 'data-action="send_back"' in change

    blank = client.post(reverse("admin:interviews_interviewplanitem_send_back", args=[plan[0].pk]), {"note": ""})
    back = client.post(
        reverse("admin:interviews_interviewplanitem_send_back", args=[plan[0].pk]), {"note": "请补充证明。"}
    )
    verified = client.post(reverse("admin:interviews_interviewplanitem_verify", args=[plan[1].pk]), {"note": ""})
    refused = client.post(reverse("admin:interviews_interviewplanitem_verify", args=[plan[2].pk]), {"note": ""})

    assert blank.status_code == 200
    assert back.status_code == verified.status_code == 302
    assert (fresh(plan[0]).state, fresh(plan[0]).review_note) == (PlanItemState.OPEN, "请补充证明。")
    assert fresh(plan[1]).state == PlanItemState.VERIFIED
    assert refused.status_code == 200
    assert "还没有提交" in refused.content.decode()
    assert fresh(plan[2]).state == PlanItemState.OPEN


def test_a_consultant_may_not_review(plan):
    from ..factories import UserFactory

    client = signed_in_client(UserFactory(roles=["consultant"]))

    # Interviews are not a consultant's to see at all.
    assert client.get(reverse("admin:interviews_interviewplanitem_verify", args=[plan[0].pk])).status_code == 404
