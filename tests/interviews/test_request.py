"""interview_request opens one interview per listener and complaint: while one is still ahead of
the listener (any open state), asking again returns it."""

from datetime import timedelta

import pytest

from interviews.models import CompetencyInterview, InterviewState
from interviews.services import interview_book, interview_cancel, interview_open_scheduling, interview_request

from ..complaints.helpers import file_complaint
from ..factories import ListeningSessionFactory, UserFactory
from .conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(listener):
    complainant = UserFactory(roles=["complainant"])
    return file_complaint(
        complainant=complainant, session=ListeningSessionFactory(listener=listener, complainant=complainant)
    )


def ask(listener, supervisor, complaint=None):
    return interview_request(listener=listener, complaint=complaint, reason="决定要求", actor=supervisor)


@pytest.mark.parametrize("with_complaint", [True, False])
def test_asking_again_while_scheduling_returns_the_open_interview(listener, supervisor, complaint, with_complaint):
    about = complaint if with_complaint else None
    first = ask(listener, supervisor, about)
    interview_open_scheduling(interview=first, actor=supervisor)

    again = ask(listener, supervisor, about)

    assert again.pk == first.pk
    assert CompetencyInterview.objects.filter(listener=listener).count() == 1


def test_asking_again_after_booking_returns_the_open_interview(clock, listener, supervisor, complaint):
    first = ask(listener, supervisor, complaint)
    interview_book(interview=first, slot=publish(supervisor, timedelta(days=5)), actor=listener.user)

    assert ask(listener, supervisor, complaint).pk == first.pk


def test_an_interview_about_a_complaint_is_not_returned_for_a_request_without_one(listener, supervisor, complaint):
    about_complaint = ask(listener, supervisor, complaint)

    without = ask(listener, supervisor)

    assert without.pk != about_complaint.pk
    assert without.complaint is None
    assert ask(listener, supervisor).pk == without.pk


def test_another_complaint_or_another_listener_gets_its_own_interview(listener, supervisor, complaint):
    first = ask(listener, supervisor, complaint)
    someone = UserFactory(roles=["complainant"])
    other_complaint = file_complaint(
        complainant=someone, session=ListeningSessionFactory(listener=listener, complainant=someone)
    )

    assert ask(listener, supervisor, other_complaint).pk != first.pk
    other_listener = ListeningSessionFactory().listener
    assert ask(other_listener, supervisor).listener_id == other_listener.pk


def test_a_closed_interview_does_not_stop_a_new_one(listener, supervisor, complaint):
    first = ask(listener, supervisor, complaint)
    interview_cancel(interview=first, actor=supervisor, reason="不再需要面试。")

    second = ask(listener, supervisor, complaint)

    assert second.pk != first.pk
    assert second.state == InterviewState.REQUESTED
