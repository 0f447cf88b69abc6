"""The rubric is data a supervisor edits: the admin refuses area weights that do not add up to 100
and a full mark of 0, and scoring with a broken rubric is a clear error on the score page, never a
500."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from interviews.models import CompetencyInterview, InterviewState, ScoringArea, ScoringItem
from interviews.services import interview_score, total_for

from ..conftest import signed_in_client
from .conftest import all_scores, held

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:interviews_scoringarea_changelist")


def changelist_data(weights):
    areas = list(ScoringArea.objects.order_by("position", "id"))
    data = {
        "form-TOTAL_FORMS": str(len(areas)),
        "form-INITIAL_FORMS": str(len(areas)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    for index, (area, weight) in enumerate(zip(areas, weights, strict=True)):
        data[f"form-{index}-id"] = str(area.pk)
        data[f"form-{index}-weight"] = str(weight)
    return data


def current_weights():
    return [a.weight for a in ScoringArea.objects.order_by("position", "id")]


def test_weights_that_do_not_add_up_to_100_are_refused_on_the_list(supervisor):
    before = current_weights()
    changed = [before[0] + 5, *before[1:]]

    response = signed_in_client(supervisor).post(CHANGELIST, changelist_data(changed))

    assert response.status_code == 200
    assert "权重之和须为 100，现为 105" in response.content.decode()
    assert current_weights() == before


def test_weights_moved_between_areas_are_saved_when_they_add_up(supervisor):
    before = current_weights()
    changed = [before[0] + 5, before[1] - 5, *before[2:]]

    response = signed_in_client(supervisor).post(CHANGELIST, changelist_data(changed))

    assert response.status_code == 302
    assert current_weights() == changed


def test_a_full_mark_of_0_is_refused_next_to_the_item(supervisor):
    area = ScoringArea.objects.order_by("position").first()
    items = list(area.items.all())
    data = {
        "name": area.name,
        "code": area.code,
        "position": area.position,
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        data.update(
            {
                f"items-{index}-id": str(item.pk),
                f"items-{index}-area": str(area.pk),
                f"items-{index}-code": item.code,
                f"items-{index}-name": item.name,
                f"items-{index}-weight": str(item.weight),
                f"items-{index}-max_score": "0" if index == 0 else str(item.max_score),
                f"items-{index}-position": str(item.position),
            }
        )

    response = signed_in_client(supervisor).post(reverse("admin:interviews_scoringarea_change", args=[area.pk]), data)

    assert response.status_code == 200
    assert "满分须大于 0。" in response.content.decode()
    assert ScoringItem.objects.get(pk=items[0].pk).max_score == items[0].max_score


def test_total_for_refuses_a_rubric_that_does_not_add_up():
    ScoringArea.objects.filter(pk=ScoringArea.objects.first().pk).update(weight=Decimal(99))

    with pytest.raises(ValidationError) as exc:
        total_for({code: value for code, (value, _c) in all_scores(10).items()})

    assert "权重之和须为 100" in " ".join(exc.value.messages)


def test_a_full_mark_of_0_is_a_validation_error_not_a_division_by_zero():
    ScoringItem.objects.filter(code="identity_planning").update(max_score=0)

    with pytest.raises(ValidationError):
        total_for({code: Decimal(0) for code in ScoringItem.objects.values_list("code", flat=True)})


def test_the_score_page_shows_a_broken_rubric_instead_of_a_500(clock, interview, supervisor, reviewer, observer):
    interview, _slot = held(interview, supervisor, reviewer, observer, clock)
    area = ScoringArea.objects.first()
    ScoringArea.objects.filter(pk=area.pk).update(weight=area.weight + 10)
    url = reverse("admin:interviews_competencyinterview_score", args=[interview.pk])
    data = {"feedback": "反馈"}
    for code, (value, comment) in all_scores(8).items():
        data[f"score_{code}"], data[f"comment_{code}"] = str(value), comment
    client = signed_in_client(reviewer)

    assert 'data-testid="rubric-problems"' in client.get(url).content.decode()
    response = client.post(url, data)

    assert response.status_code == 200
    assert "评分标准有误" in response.content.decode()
    interview = CompetencyInterview.objects.get(pk=interview.pk)
    assert interview.state == InterviewState.HELD
    with pytest.raises(ValidationError):
        interview_score(interview=interview, scores=all_scores(8), feedback="反馈", actor=reviewer)
