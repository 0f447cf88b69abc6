"""Scoring, the bands and their effects on the listener, the plan, and reapplication."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import Deadline, DeadlineKind
from interviews.models import Band, CompetencyInterview, InterviewState, PlanItemKind
from interviews.services import (
    band_for,
    interview_score,
    interview_send_result,
    plan_item_submit,
    plan_item_verify,
    reapplication_check,
    total_for,
)
from listeners.models import ListenerStatus, ListenerStatusChange

from .conftest import all_scores, held, scored

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("total", "band"),
    [("59.99", Band.FAIL), ("60", Band.CONDITIONAL), ("69.99", Band.CONDITIONAL), ("70", Band.PASS)],
)
def test_band_boundaries(total, band):
    assert band_for(Decimal(total)) == band


def test_six_areas_weigh_100_and_full_marks_make_100():
    from interviews.models import ScoringArea

    assert ScoringArea.objects.count() == 6
    assert sum(a.weight for a in ScoringArea.objects.all()) == 100
    assert total_for({code: value for code, (value, _c) in all_scores(10).items()}) == Decimal("100.00")


@pytest.mark.parametrize(
    ("value", "identity", "total", "band"),
    [
        (6, "5.99", "59.99", Band.FAIL),
        (6, None, "60.00", Band.CONDITIONAL),
        (7, "6.99", "69.99", Band.CONDITIONAL),
        (7, None, "70.00", Band.PASS),
    ],
)
def test_scored_totals_at_the_boundaries_get_their_band(
    value, identity, total, band, clock, interview, supervisor, reviewer, observer
):
    done = scored(interview, supervisor, reviewer, observer, clock, value, identity)
    assert done.total_score == Decimal(total)

    sent = interview_send_result(interview=done, actor=reviewer)

    assert sent.band == band


def test_every_item_needs_a_score_and_a_comment(clock, interview, supervisor, reviewer, observer):
    done, _slot = held(interview, supervisor, reviewer, observer, clock)
    scores = all_scores(8)
    scores["empathy"] = (Decimal(8), " ")
    del scores["boundaries"]

    with pytest.raises(ValidationError) as exc:
        interview_score(interview=done, scores=scores, feedback="反馈", actor=reviewer)

    assert set(exc.value.message_dict) == {"empathy", "boundaries"}


def _history(listener):
    return list(ListenerStatusChange.objects.filter(listener=listener).order_by("created_at", "id"))


def test_70_keeps_practising_with_study_supervision_and_therapy(clock, interview, supervisor, reviewer, observer):
    done = scored(interview, supervisor, reviewer, observer, clock, 7)

    sent = interview_send_result(interview=done, actor=reviewer)

    assert sent.state == InterviewState.RESULT_SENT
    assert {p.kind for p in sent.plan_items.all()} == set(PlanItemKind.values)
    sent.listener.refresh_from_db()
    assert sent.listener.status == ListenerStatus.ACTIVE
    assert Deadline.objects.get(subject_id=sent.pk, kind=DeadlineKind.INTERVIEW_RESULT).state == Deadline.State.MET


def test_60_to_70_hides_until_every_plan_item_is_verified_then_restores(
    clock, interview, supervisor, reviewer, observer
):
    # given
    listener = interview.listener
    sent = interview_send_result(
        interview=scored(interview, supervisor, reviewer, observer, clock, 6), actor=supervisor
    )
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN  # was hidden, stays hidden
    items = list(sent.plan_items.all())
    for item in items:
        plan_item_submit(item=item, note="已完成，记录见附件。", actor=listener.user)

    # when: all but one verified
    for item in items[:-1]:
        plan_item_verify(item=item, actor=reviewer)
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN

    # when: the last one
    plan_item_verify(item=items[-1], actor=reviewer)

    # then
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.ACTIVE
    last = _history(listener)[-1]
    assert (last.from_status, last.to_status, last.source) == (ListenerStatus.HIDDEN, ListenerStatus.ACTIVE, sent)


def test_a_supervisor_may_return_a_60_to_70_listener_to_internship(clock, interview, supervisor, reviewer, observer):
    done = scored(interview, supervisor, reviewer, observer, clock, 6)

    with pytest.raises(PermissionDenied):
        interview_send_result(interview=done, actor=reviewer, interim_status=ListenerStatus.INTERNSHIP)
    sent = interview_send_result(interview=done, actor=supervisor, interim_status=ListenerStatus.INTERNSHIP)

    sent.listener.refresh_from_db()
    assert sent.listener.status == ListenerStatus.INTERNSHIP
    change = _history(sent.listener)[-1]
    assert change.source_type == ContentType.objects.get_for_model(CompetencyInterview)
    assert change.source_id == sent.pk


def test_below_60_delists_and_allows_reapplication_only_after_six_months(
    clock, interview, supervisor, reviewer, observer
):
    done = scored(interview, supervisor, reviewer, observer, clock, 6, "5.99")

    sent = interview_send_result(interview=done, actor=reviewer)

    listener = sent.listener
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.DELISTED
    assert _history(listener)[-1].source == sent
    assert not sent.plan_items.exists()
    sent_at = sent.result_sent_at
    assert sent.eligible_to_reapply_at == sent_at.replace(month=sent_at.month + 6)
    with pytest.raises(ValidationError):
        reapplication_check(listener=listener, when=sent.eligible_to_reapply_at.replace(day=sent_at.day - 1))
    reapplication_check(listener=listener, when=sent.eligible_to_reapply_at)


def test_reapply_date_on_the_31st_falls_on_the_last_day_of_the_month():
    from interviews.services import add_months

    moment = datetime(2026, 8, 31, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert add_months(moment, 6) == datetime(2027, 2, 28, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_listener_is_emailed_the_band_and_feedback_but_not_the_total_when_the_setting_is_off(
    clock, interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks, settings
):
    settings.INTERVIEW_RESULT_SHOWS_TOTAL = False
    done = scored(interview, supervisor, reviewer, observer, clock, 6)

    with django_capture_on_commit_callbacks(execute=True):
        interview_send_result(interview=done, actor=reviewer)

    message = mail.outbox[-1]
    assert message.to == [interview.listener.user.email]
    assert "胜任力考核面试结果" in message.subject
    assert str(Band.CONDITIONAL.label) in message.body
    assert "整体反馈。" in message.body
    assert "60.00" not in message.body
    assert "&" not in message.body
    assert CompetencyInterview.objects.get(pk=interview.pk).total_shown is False


def test_the_total_is_emailed_when_the_flag_says_so(
    clock, interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks
):
    done = scored(interview, supervisor, reviewer, observer, clock, 7)

    with django_capture_on_commit_callbacks(execute=True):
        interview_send_result(interview=done, actor=reviewer, show_total=True)

    assert "70.00 / 100" in mail.outbox[-1].body
    assert CompetencyInterview.objects.get(pk=interview.pk).total_shown is True


def test_by_default_the_total_is_emailed_and_the_choice_is_stored(
    clock, interview, supervisor, reviewer, observer, django_capture_on_commit_callbacks
):
    done = scored(interview, supervisor, reviewer, observer, clock, 7)

    with django_capture_on_commit_callbacks(execute=True):
        interview_send_result(interview=done, actor=reviewer)

    assert "70.00 / 100" in mail.outbox[-1].body
    assert CompetencyInterview.objects.get(pk=interview.pk).total_shown is True


def test_the_result_email_lists_each_plan_item_with_its_due_date_and_stores_the_source_text(
    clock, interview, supervisor, reviewer, observer
):
    from django.utils import translation

    from core.models import Notification
    from interviews.services import PLAN_DESCRIPTIONS

    done = scored(interview, supervisor, reviewer, observer, clock, 8)
    with translation.override("en"):
        sent = interview_send_result(interview=done, actor=reviewer)

    told = Notification.objects.get(kind="listener.interview_result")
    for item in sent.plan_items.all():
        assert item.description in {
            "针对面试反馈中的薄弱维度完成专业学习，并提交学习记录。",
            "接受个体或团体督导，并提交督导记录。",
            "完成个人体验（个人咨询），并提交完成证明。",
        }
        due = item.due_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
        assert f"{item.description}（{due} 前完成）" in told.body
    assert len(PLAN_DESCRIPTIONS) == 3
