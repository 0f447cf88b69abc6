"""Publishing slots from the admin: a bad time is an error next to its field (not a 403), reviewers
may publish, and listeners waiting to book are told once per slot."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from interviews.models import InterviewSlot
from interviews.services import interview_book, interview_open_scheduling, interview_request

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, UserFactory
from .conftest import publish

pytestmark = pytest.mark.django_db

ADD = reverse("admin:interviews_interviewslot_add")


def form(starts, minutes=60):
    ends = starts + timedelta(minutes=minutes)
    local_s, local_e = timezone.localtime(starts), timezone.localtime(ends)
    return {
        "starts_at_0": local_s.strftime("%Y-%m-%d"),
        "starts_at_1": local_s.strftime("%H:%M:%S"),
        "ends_at_0": local_e.strftime("%Y-%m-%d"),
        "ends_at_1": local_e.strftime("%H:%M:%S"),
    }


@pytest.mark.parametrize(
    ("starts_in", "minutes", "message"),
    [(timedelta(hours=-1), 60, "面试时段必须在未来。"), (timedelta(days=2), 39, "面试时段至少需要 40 分钟。")],
)
def test_a_bad_time_is_shown_next_to_the_field(clock, supervisor, starts_in, minutes, message):
    response = signed_in_client(supervisor).post(ADD, form(timezone.now() + starts_in, minutes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not InterviewSlot.objects.exists()


def test_a_reviewer_publishes_a_slot_from_the_admin(clock, reviewer):
    client = signed_in_client(reviewer)

    assert client.get(ADD).status_code == 200
    response = client.post(ADD, form(timezone.now() + timedelta(days=3)))

    assert response.status_code == 302
    slot = InterviewSlot.objects.get()
    assert slot.published_by == reviewer


def test_a_consultant_may_not_publish(clock):
    consultant = UserFactory(roles=["consultant"])

    assert signed_in_client(consultant).post(ADD, form(timezone.now() + timedelta(days=3))).status_code == 403
    assert not InterviewSlot.objects.exists()


def test_listeners_waiting_to_book_are_told_once_per_slot(clock, interview, supervisor, reviewer):
    scheduling = interview_request(listener=ListenerProfileFactory(), reason="面试", actor=supervisor)
    interview_open_scheduling(interview=scheduling, actor=supervisor)
    booked = interview_request(listener=ListenerProfileFactory(), reason="面试", actor=supervisor)
    interview_book(interview=booked, slot=publish(supervisor, timedelta(days=4)), actor=booked.listener.user)
    Notification.objects.all().delete()

    first = publish(reviewer, timedelta(days=3))
    publish(reviewer, timedelta(days=5))

    told = Notification.objects.filter(kind="listener.interview_slot_published")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
        [interview.listener.user_id, scheduling.listener.user_id] * 2
    )
    assert booked.listener.user_id not in told.values_list("recipient_id", flat=True)
    assert str(first) in told.filter(recipient=interview.listener.user).order_by("id").first().body
