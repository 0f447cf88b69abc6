"""The access policy's rules, asked directly and at the edges the audit found leaking."""

import pytest
from django.urls import reverse

from accounts.policy import acting_role, is_supervisor
from accounts.roles import Role
from complaints.models import Complaint
from complaints.selectors import complaint_list_for
from core import access

from ..conftest import signed_in_client
from ..evaluations.helpers import escalated_case
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    """A complaint escalated to its lead reviewer, and a reviewer who is not on it."""
    complaint, lead = escalated_case()
    return complaint, lead, UserFactory(roles=["reviewer"])


def test_a_superuser_reads_as_a_supervisor_and_still_counts_as_staff_for_the_second_factor():
    superuser = UserFactory(is_superuser=True, is_staff=True)

    assert is_supervisor(superuser)
    assert acting_role(superuser) == Role.SUPERVISOR
    assert superuser.is_case_staff


def test_the_widest_role_decides_how_a_user_acts():
    both = UserFactory(roles=["reviewer", "supervisor"])
    consultant = UserFactory(roles=["consultant"])

    assert acting_role(both) == Role.SUPERVISOR
    assert acting_role(consultant) == Role.CONSULTANT
    assert not is_supervisor(consultant)


def test_a_reviewer_sees_only_the_cases_they_are_on(case):
    complaint, lead, stranger = case

    assert complaint in complaint_list_for(lead)
    assert complaint not in complaint_list_for(stranger)
    assert access.can_view(lead, complaint) and not access.can_view(stranger, complaint)


def test_consultants_and_supervisors_see_every_complaint(case):
    complaint, _lead, _stranger = case

    for role in ("consultant", "supervisor"):
        assert complaint in complaint_list_for(UserFactory(roles=[role]))


@pytest.mark.parametrize("endpoint", ["api:complaint-detail", "api:complaint-timeline", "api:complaint-attachments"])
def test_an_unassigned_reviewer_gets_a_404_from_the_api(case, endpoint):
    complaint, lead, stranger = case
    url = reverse(endpoint, args=[complaint.reference])

    assert signed_in_client(stranger).get(url).status_code == 404
    assert signed_in_client(lead).get(url).status_code == 200


def test_an_unassigned_reviewer_gets_a_404_from_the_admin_change_page(case):
    complaint, lead, stranger = case
    url = reverse("admin:complaints_complaint_change", args=[complaint.pk])

    assert signed_in_client(stranger).get(url).status_code == 404
    assert signed_in_client(lead).get(url).status_code == 200


def test_the_admin_list_does_not_show_an_unassigned_reviewer_the_case(case):
    complaint, lead, stranger = case
    url = reverse("admin:complaints_complaint_changelist")
    row = reverse("admin:complaints_complaint_change", args=[complaint.pk])

    assert row not in signed_in_client(stranger).get(url).content.decode()
    assert row in signed_in_client(lead).get(url).content.decode()


def test_the_api_list_does_not_show_an_unassigned_reviewer_the_case(case):
    complaint, _lead, stranger = case

    response = signed_in_client(stranger).get(reverse("api:complaint-list"))

    assert complaint.reference not in [c["reference"] for c in response.json()["results"]]
    assert Complaint.objects.filter(pk=complaint.pk).exists()


def test_the_review_page_and_the_api_agree_for_an_unassigned_reviewer(case):
    complaint, _lead, stranger = case
    client = signed_in_client(stranger)

    statuses = {
        client.get(reverse("review:case", args=[complaint.reference])).status_code,
        client.get(reverse("api:complaint-detail", args=[complaint.reference])).status_code,
        client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk])).status_code,
    }

    assert statuses == {404}


def test_portal_pages_are_not_stored_by_the_browser():
    from ..factories import ListenerProfileFactory

    listener = ListenerProfileFactory()

    response = signed_in_client(listener.user).get(reverse("portal:listener_home"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
