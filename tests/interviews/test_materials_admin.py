"""Staff read the listener's case report, second case report and CV from the interview admin: the
panel and supervisors only, each download logged."""

import pytest
from django.urls import reverse

from core.models import AccessLog
from interviews.models import InterviewMaterial, MaterialKind
from interviews.services import material_upload, panel_set

from ..conftest import signed_in_client
from ..factories import UserFactory
from .conftest import PDF, pdf, upload_report

pytestmark = pytest.mark.django_db


def material_url(material):
    return reverse("admin:interviews_competencyinterview_material", args=[material.interview_id, material.pk])


@pytest.fixture
def materials(interview, supervisor, reviewer, observer):
    panel_set(interview=interview, main_interviewer=reviewer, observers=[observer], actor=supervisor)
    report = upload_report(interview)
    cv = material_upload(
        interview=interview, kind=MaterialKind.CV, upload=pdf("简历.pdf"), actor=interview.listener.user
    )
    return report, cv


@pytest.mark.parametrize("who", ["supervisor", "reviewer", "observer"])
def test_the_panel_and_supervisors_download_each_material_and_it_is_logged(materials, who, request):
    user = request.getfixturevalue(who)
    client = signed_in_client(user)
    report, cv = materials

    change = client.get(reverse("admin:interviews_competencyinterview_change", args=[report.interview_id]))
    for material in (report, cv):
        assert material_url(material) in change.content.decode()
        response = client.get(material_url(material))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF

    logged = AccessLog.objects.filter(actor=user, action="download", object_type="interviews.InterviewMaterial")
    assert sorted(logged.values_list("object_id", flat=True)) == sorted([str(report.pk), str(cv.pk)])


def test_a_reviewer_outside_the_panel_is_refused_and_nothing_is_logged(materials):
    outsider = UserFactory(roles=["reviewer"])
    report, _cv = materials

    assert signed_in_client(outsider).get(material_url(report)).status_code == 404
    assert not AccessLog.objects.filter(action="download").exists()


def test_a_material_of_another_interview_is_a_404(materials, supervisor):
    report, _cv = materials
    wrong = reverse("admin:interviews_competencyinterview_material", args=[report.interview_id + 999, report.pk])

    assert signed_in_client(supervisor).get(wrong).status_code == 404
    assert InterviewMaterial.objects.count() == 2
