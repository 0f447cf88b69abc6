"""The staff pages on the interview admin: open scheduling, record as held, mark no-show, score and
send the result. Each is for the main interviewer or a supervisor (open scheduling: supervisors
only), shows its button only to them and only in the state it needs, and puts a service's refusal
next to the field it names."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Deadline, DeadlineKind, Notification
from interviews.models import CompetencyInterview, InterviewPlanItem, InterviewScore, InterviewState
from interviews.selectors import rubric_items
from interviews.services import interview_send_result

from ..conftest import signed_in_client
from ..factories import UserFactory
from .conftest import held, scheduled, scored

pytestmark = pytest.mark.django_db


def page(name, interview):
    return reverse(f"admin:interviews_competencyinterview_{name}", args=[interview.pk])


def change_page(interview):
    return reverse("admin:interviews_competencyinterview_change", args=[interview.pk])


def fresh(interview):
    return CompetencyInterview.objects.get(pk=interview.pk)


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def score_data(value, *, feedback="整体反馈：共情回应需要加强。", **overrides):
    data = {"feedback": feedback}
    for item in rubric_items():
        data[f"score_{item.code}"] = str(value)
        data[f"comment_{item.code}"] = f"{item.name}：表现说明"
    return {**data, **overrides}


@pytest.fixture
def stranger():
    """A reviewer with no part in this interview."""
    return UserFactory(roles=["reviewer"])


@pytest.fixture
def in_state(clock, interview, supervisor, reviewer, observer):
    """in_state(page) -> the interview in the state that page needs, the panel named."""

    def make(name):
        if name == "open_scheduling":
            return interview
        if name in ("hold", "no_show"):
            return scheduled(interview, supervisor, reviewer, observer)[0]
        if name == "score":
            return held(interview, supervisor, reviewer, observer, clock)[0]
        return scored(interview, supervisor, reviewer, observer, clock, 7)

    return make


# --- who may open each page ------------------------------------------------------------------------

PAGES = ["open_scheduling", "hold", "no_show", "score", "send_result"]


@pytest.mark.parametrize("name", PAGES)
def test_each_page_opens_for_a_supervisor(name, in_state, supervisor):
    interview = in_state(name)

    assert signed_in_client(supervisor).get(page(name, interview)).status_code == 200


@pytest.mark.parametrize("name", ["hold", "no_show", "score", "send_result"])
def test_the_panel_pages_open_for_the_main_interviewer(name, in_state, reviewer):
    interview = in_state(name)

    assert signed_in_client(reviewer).get(page(name, interview)).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_an_unrelated_reviewer_and_the_observer_are_refused(name, in_state, stranger, observer):
    interview = in_state(name)
    before = fresh(interview).state

    # The observer sees the interview once the panel is named, but may not act; a reviewer off the
    # panel does not see it at all.
    observer_status = 404 if name == "open_scheduling" else 403
    for user, status in ((stranger, 404), (observer, observer_status)):
        client = signed_in_client(user)
        assert client.get(page(name, interview)).status_code == status
        assert client.post(page(name, interview), score_data(5)).status_code == status
    assert fresh(interview).state == before


def test_only_a_supervisor_opens_scheduling_not_the_main_interviewer(interview, supervisor, reviewer, observer):
    from interviews.services import panel_set

    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)

    assert signed_in_client(reviewer).get(page("open_scheduling", interview)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", ["listener", "complainant"])
def test_listeners_and_complainants_cannot_reach_the_pages(name, role, in_state, client_for):
    interview = in_state(name)
    before = fresh(interview).state
    client, _user = client_for(role)

    got = client.get(page(name, interview))
    posted = client.post(page(name, interview), score_data(5))

    assert got.status_code == 302
    assert "login" in got["Location"]
    assert posted.status_code == 302
    assert fresh(interview).state == before


def test_the_interviewed_listener_cannot_reach_the_pages_either(in_state):
    interview = in_state("score")
    client = signed_in_client(interview.listener.user)

    assert client.get(page("score", interview)).status_code == 302
    assert fresh(interview).state == InterviewState.HELD


# --- the buttons on the change page -----------------------------------------------------------------


def test_the_change_page_shows_each_button_only_to_who_may_use_it_in_its_state(
    in_state, supervisor, reviewer, observer, stranger
):
    interview = in_state("hold")
    hold, no_show = page("hold", interview), page("no_show", interview)

    lead_page = signed_in_client(reviewer).get(change_page(interview)).content.decode()
    assert hold in lead_page and no_show in lead_page
    assert page("score", interview) not in lead_page
    assert page("open_scheduling", interview) not in lead_page
    assert page("panel", interview) not in lead_page

    other = signed_in_client(observer).get(change_page(interview))
    assert other.status_code == 200
    assert hold not in other.content.decode()
    assert no_show not in other.content.decode()
    assert signed_in_client(stranger).get(change_page(interview)).status_code == 404

    supervisor_page = signed_in_client(supervisor).get(change_page(interview)).content.decode()
    assert hold in supervisor_page
    assert page("panel", interview) in supervisor_page


def test_the_open_scheduling_button_shows_to_a_supervisor_on_a_new_request_only(interview, supervisor, reviewer):
    url = page("open_scheduling", interview)

    assert url in signed_in_client(supervisor).get(change_page(interview)).content.decode()
    assert url not in signed_in_client(reviewer).get(change_page(interview)).content.decode()


def test_a_page_in_the_wrong_state_sends_back_with_a_message(interview, supervisor):
    response = signed_in_client(supervisor).get(page("score", interview), follow=True)

    assert response.redirect_chain[-1][0] == change_page(interview)
    assert "不能进行这项操作" in response.content.decode()


# --- open scheduling --------------------------------------------------------------------------------


def test_opening_scheduling_moves_the_state_and_invites_the_listener(interview, supervisor):
    response = signed_in_client(supervisor).post(page("open_scheduling", interview))

    assert response.status_code == 302
    assert fresh(interview).state == InterviewState.SCHEDULING
    assert Notification.objects.filter(recipient=interview.listener.user, kind="listener.interview_scheduling").exists()


# --- record as held ---------------------------------------------------------------------------------


def test_recording_a_50_minute_interview_holds_it_and_opens_the_result_deadline(clock, in_state, reviewer):
    interview = in_state("hold")
    starts = interview.slot.starts_at
    clock.move_to(starts + timedelta(hours=2))
    client = signed_in_client(reviewer)

    form = client.get(page("hold", interview))
    assert local(starts) in form.content.decode()  # prefilled from the slot
    response = client.post(
        page("hold", interview),
        {"started_at": local(starts), "ended_at": local(starts + timedelta(minutes=50))},
    )

    assert response.status_code == 302
    done = fresh(interview)
    assert done.state == InterviewState.HELD
    assert done.held_ended_at - done.held_started_at == timedelta(minutes=50)
    assert Deadline.objects.filter(subject_id=done.pk, kind=DeadlineKind.INTERVIEW_RESULT).exists()


def test_a_30_minute_interview_is_refused_next_to_the_end_time(clock, in_state, reviewer):
    interview = in_state("hold")
    starts = interview.slot.starts_at
    clock.move_to(starts + timedelta(hours=2))

    response = signed_in_client(reviewer).post(
        page("hold", interview),
        {"started_at": local(starts), "ended_at": local(starts + timedelta(minutes=30))},
    )

    assert response.status_code == 200
    assert "40 至 60 分钟" in str(response.context["form"].errors["ended_at"])
    assert "40 至 60 分钟" in response.content.decode()
    assert fresh(interview).state == InterviewState.SCHEDULED
    assert not Deadline.objects.filter(subject_id=interview.pk, kind=DeadlineKind.INTERVIEW_RESULT).exists()


def test_an_unreadable_time_is_a_field_error(in_state, reviewer):
    interview = in_state("hold")

    response = signed_in_client(reviewer).post(page("hold", interview), {"started_at": "明天", "ended_at": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["started_at"]
    assert response.context["form"].errors["ended_at"]
    assert fresh(interview).state == InterviewState.SCHEDULED


# --- no-show ----------------------------------------------------------------------------------------


def test_marking_a_no_show_ends_the_interview(in_state, supervisor):
    interview = in_state("no_show")

    confirm = signed_in_client(supervisor).get(page("no_show", interview))
    response = signed_in_client(supervisor).post(page("no_show", interview))

    assert "确认记为未出席" in confirm.content.decode()
    assert response.status_code == 302
    assert fresh(interview).state == InterviewState.NO_SHOW


# --- scoring ----------------------------------------------------------------------------------------


def test_the_score_form_lists_every_item_under_its_area_with_its_maximum(in_state, reviewer):
    interview = in_state("score")

    response = signed_in_client(reviewer).get(page("score", interview))

    body = response.content.decode()
    items = list(rubric_items())
    assert all(f'name="score_{i.code}"' in body and f'name="comment_{i.code}"' in body for i in items)
    assert all(i.area.name in body for i in items)
    assert f'max="{items[0].max_score}"' in body
    assert 'name="feedback"' in body


def test_scoring_writes_a_row_per_item_and_shows_the_total_and_band(in_state, reviewer):
    interview = in_state("score")
    client = signed_in_client(reviewer)

    response = client.post(page("score", interview), score_data(7), follow=True)

    done = fresh(interview)
    assert done.state == InterviewState.SCORED
    assert done.total_score == Decimal("70.00")
    assert done.feedback == "整体反馈：共情回应需要加强。"
    assert InterviewScore.objects.filter(interview=interview).count() == rubric_items().count()
    body = response.content.decode()
    assert "总分 70.00" in body
    assert "合格：继续执业" in body


def test_a_score_above_the_maximum_is_refused_and_nothing_is_saved(in_state, reviewer):
    interview = in_state("score")
    item = rubric_items().first()

    response = signed_in_client(reviewer).post(
        page("score", interview), score_data(7, **{f"score_{item.code}": str(item.max_score + 1)})
    )

    assert response.status_code == 200
    assert response.context["form"].errors[f"score_{item.code}"]
    assert "errornote" in response.content.decode()
    # What was typed is kept.
    assert "整体反馈：共情回应需要加强。" in response.content.decode()
    assert fresh(interview).state == InterviewState.HELD
    assert not InterviewScore.objects.filter(interview=interview).exists()


def test_a_missing_comment_and_feedback_are_field_errors(in_state, reviewer):
    interview = in_state("score")
    item = rubric_items().last()

    response = signed_in_client(reviewer).post(
        page("score", interview), score_data(7, feedback="", **{f"comment_{item.code}": ""})
    )

    assert response.status_code == 200
    assert response.context["form"].errors[f"comment_{item.code}"]
    assert response.context["form"].errors["feedback"]
    assert fresh(interview).state == InterviewState.HELD


def test_the_score_page_query_count_is_bounded(in_state, reviewer, django_assert_max_num_queries):
    interview = in_state("score")
    client = signed_in_client(reviewer)
    client.get(page("score", interview))

    with django_assert_max_num_queries(20):
        assert client.get(page("score", interview)).status_code == 200


# --- sending the result -----------------------------------------------------------------------------


def test_the_send_page_shows_the_total_band_and_the_plan_to_be_created(in_state, reviewer):
    interview = in_state("send_result")

    body = signed_in_client(reviewer).get(page("send_result", interview)).content.decode()

    assert "70.00" in body
    assert "合格：继续执业" in body
    assert "专业学习" in body and "接受督导" in body and "个人体验" in body
    assert 'name="interim_status"' not in body  # only a 60–70 result keeps the listener hidden


def test_a_conditional_result_offers_the_interim_status_to_a_supervisor_only(
    clock, interview, supervisor, reviewer, observer
):
    done = scored(interview, supervisor, reviewer, observer, clock, 6)

    by_supervisor = signed_in_client(supervisor).get(page("send_result", done)).content.decode()
    by_lead = signed_in_client(reviewer).get(page("send_result", done)).content.decode()

    assert 'value="suspended"' in by_supervisor
    assert 'name="interim_status"' in by_lead
    assert 'value="suspended"' not in by_lead


def test_a_fail_creates_no_plan_and_says_so(clock, interview, supervisor, reviewer, observer):
    done = scored(interview, supervisor, reviewer, observer, clock, 5)

    body = signed_in_client(reviewer).get(page("send_result", done)).content.decode()

    assert 'data-testid="no-plan"' in body
    assert "个月后可重新申请" in body


@pytest.mark.parametrize("shown", [True, False])
def test_sending_the_result_creates_the_plan_and_stores_whether_the_total_was_shown(in_state, reviewer, shown):
    interview = in_state("send_result")
    data = {"show_total": "on"} if shown else {}

    response = signed_in_client(reviewer).post(page("send_result", interview), data)

    assert response.status_code == 302
    done = fresh(interview)
    assert done.state == InterviewState.RESULT_SENT
    assert done.total_shown is shown
    assert InterviewPlanItem.objects.filter(interview=interview).count() == 3
    assert Notification.objects.filter(recipient=interview.listener.user, kind="listener.interview_result").exists()


def test_the_show_total_box_starts_from_the_setting(in_state, reviewer, settings):
    interview = in_state("send_result")
    client = signed_in_client(reviewer)

    settings.INTERVIEW_RESULT_SHOWS_TOTAL = True
    assert client.get(page("send_result", interview)).context["form"]["show_total"].value() is True
    settings.INTERVIEW_RESULT_SHOWS_TOTAL = False
    assert client.get(page("send_result", interview)).context["form"]["show_total"].value() is False


def test_a_result_already_sent_cannot_be_sent_again(in_state, reviewer):
    interview = in_state("send_result")
    interview_send_result(interview=interview, actor=reviewer)

    response = signed_in_client(reviewer).post(page("send_result", interview), {"show_total": "on"})

    assert response.status_code == 302
    assert InterviewPlanItem.objects.filter(interview=interview).count() == 3
