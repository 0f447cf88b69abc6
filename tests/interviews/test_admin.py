"""The interview admin: pages render, the panel goes through panel_set."""

import pytest
from django.urls import reverse

from interviews.models import CompetencyInterview

from ..conftest import signed_in_client
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for():
    user = UserFactory(is_superuser=True, is_staff=True, roles=["supervisor"])
    return signed_in_client(user), user


def test_the_interview_pages_render(admin_client_for, interview):
    client, _user = admin_client_for

    for url in [
        reverse("admin:interviews_competencyinterview_changelist"),
        reverse("admin:interviews_competencyinterview_change", args=[interview.pk]),
        reverse("admin:interviews_competencyinterview_panel", args=[interview.pk]),
        reverse("admin:interviews_interviewslot_add"),
        reverse("admin:interviews_scoringarea_changelist"),
        reverse("admin:interviews_interviewplanitem_changelist"),
    ]:
        assert client.get(url).status_code == 200, url


def test_the_panel_form_refuses_the_same_person_and_saves_a_valid_panel(
    admin_client_for, interview, reviewer, observer
):
    client, _user = admin_client_for
    url = reverse("admin:interviews_competencyinterview_panel", args=[interview.pk])

    refused = client.post(url, {"main_interviewer": reviewer.pk, "observers": [reviewer.pk]})
    assert refused.status_code == 200
    assert "不能是同一人" in refused.content.decode()

    saved = client.post(url, {"main_interviewer": reviewer.pk, "observers": [observer.pk]})
    assert saved.status_code == 302
    assert CompetencyInterview.objects.get(pk=interview.pk).main_interviewer == reviewer
