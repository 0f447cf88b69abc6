"""The panel (one main interviewer, at least one observer, no conflicts) and the 40–60 minute rule."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from core.models import Deadline, DeadlineKind
from interviews.models import CompetencyInterview, InterviewState
from interviews.services import interview_hold, interview_request, panel_set
from listeners.models import ListenerProfile

from ..complaints.helpers import file_complaint
from ..factories import ListeningSessionFactory, UserFactory
from .conftest import held, scheduled

pytestmark = pytest.mark.django_db


def test_the_main_interviewer_cannot_also_be_the_observer(interview, supervisor, reviewer):
    with pytest.raises(ValidationError) as exc:
        panel_set(interview=interview, main_interviewer=reviewer, observers=[reviewer], actor=supervisor)
    assert "observers" in exc.value.message_dict


def test_a_panel_without_an_observer_is_refused(interview, supervisor, reviewer):
    with pytest.raises(ValidationError) as exc:
        panel_set(interview=interview, main_interviewer=reviewer, observers=[], actor=supervisor)
    assert "observers" in exc.value.message_dict


def test_panel_members_must_be_staff(interview, supervisor, reviewer):
    outsider = UserFactory(roles=["complainant"])
    with pytest.raises(ValidationError):
        panel_set(interview=interview, main_interviewer=reviewer, observers=[outsider], actor=supervisor)
    with pytest.raises(ValidationError):
        panel_set(interview=interview, main_interviewer=outsider, observers=[reviewer], actor=supervisor)


def test_a_member_with_a_conflict_of_interest_in_the_complaint_is_refused(listener, supervisor, reviewer, observer):
    # given: the main interviewer is the listener's personal supervisor
    listener.supervisor = reviewer
    listener.save(update_fields=["supervisor"])
    complainant = UserFactory(roles=["complainant"])
    complaint = file_complaint(
        complainant=complainant, session=ListeningSessionFactory(listener=listener, complainant=complainant)
    )
    interview = interview_request(listener=listener, complaint=complaint, reason="决定要求", actor=supervisor)

    # when / then
    with pytest.raises(ValidationError) as exc:
        panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)
    assert "个人督导" in str(exc.value.message_dict["main_interviewer"])
    with pytest.raises(ValidationError):
        panel_set(interview=interview, main_interviewer=observer, observers=[reviewer], actor=supervisor)


def test_a_valid_panel_is_saved(interview, supervisor, reviewer, observer):
    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)

    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert interview.main_interviewer == reviewer
    assert list(interview.observers.all()) == [observer]


@pytest.mark.parametrize("minutes", [40, 60])
def test_an_interview_of_40_to_60_minutes_is_held_and_opens_the_result_deadline(
    minutes, clock, interview, supervisor, reviewer, observer
):
    done, slot = held(interview, supervisor, reviewer, observer, clock, minutes=minutes)

    assert done.state == InterviewState.HELD
    deadline = Deadline.objects.get(subject_id=done.pk, kind=DeadlineKind.INTERVIEW_RESULT)
    assert deadline.due_at == slot.starts_at + timedelta(minutes=minutes, days=7)
    assert deadline.owner == reviewer


@pytest.mark.parametrize("minutes", [39, 61])
def test_an_interview_shorter_than_40_or_longer_than_60_minutes_is_refused(
    minutes, clock, interview, supervisor, reviewer, observer
):
    interview, slot = scheduled(interview, supervisor, reviewer, observer)
    clock.move_to(slot.starts_at + timedelta(hours=2))

    with pytest.raises(ValidationError):
        interview_hold(
            interview=interview,
            started_at=slot.starts_at,
            ended_at=slot.starts_at + timedelta(minutes=minutes),
            actor=reviewer,
        )
    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert interview.state == InterviewState.SCHEDULED


@pytest.mark.parametrize("start_shift", [timedelta(days=-2), timedelta(hours=-3), timedelta(hours=4)])
def test_the_recorded_start_must_match_the_booked_slot(start_shift, clock, interview, supervisor, reviewer, observer):
    interview, slot = scheduled(interview, supervisor, reviewer, observer)
    clock.move_to(slot.starts_at + timedelta(hours=6))
    started = slot.starts_at + start_shift

    with pytest.raises(ValidationError) as refused:
        interview_hold(
            interview=interview, started_at=started, ended_at=started + timedelta(minutes=50), actor=reviewer
        )
    late_but_fine = interview_hold(
        interview=interview,
        started_at=slot.starts_at + timedelta(minutes=30),
        ended_at=slot.starts_at + timedelta(minutes=80),
        actor=reviewer,
    )

    assert "started_at" in refused.value.message_dict
    assert late_but_fine.state == InterviewState.HELD


@pytest.mark.parametrize("role", ["main_interviewer", "observers"])
def test_the_listeners_own_supervisor_may_not_sit_on_the_panel_even_without_a_complaint(
    role, interview, supervisor, reviewer, observer
):
    own = UserFactory(roles=["supervisor"])
    ListenerProfile.objects.filter(pk=interview.listener_id).update(supervisor=own)
    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert interview.complaint is None
    main, observers = (own, [observer]) if role == "main_interviewer" else (reviewer, [observer, own])

    with pytest.raises(ValidationError) as exc:
        panel_set(interview=interview, main_interviewer=main, observers=observers, actor=supervisor)

    assert "个人督导" in " ".join(exc.value.message_dict[role])
    assert CompetencyInterview.objects.get(pk=interview.pk).main_interviewer is None
