"""One adapter from a service's error to what a person sees: a form error, a message, an HTTP status."""

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as root_urlpatterns
from core.errors import StaleVersion, WrongState
from core.service_errors import add_service_errors, service_error_message
from interviews.models import CompetencyInterview, InterviewState
from interviews.services import interview_open_scheduling, interview_request
from supervision.models import EthicsCase, EthicsSource
from supervision.services import ethics_case_start_investigating

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, UserFactory


class NoteForm(forms.Form):
    note = forms.CharField(required=False)
    reason = forms.CharField(required=False)


def test_a_validation_error_naming_fields_lands_next_to_them_renamed_where_the_form_calls_them_otherwise():
    form = NoteForm(data={})
    form.is_valid()

    add_service_errors(
        form,
        ValidationError({"note": ["请写下记录内容。"], "why": ["请写明理由。"], "other": ["别处"]}),
        {"why": "reason"},
    )

    assert form.errors["note"] == ["请写下记录内容。"]
    assert form.errors["reason"] == ["请写明理由。"]
    assert form.non_field_errors() == ["别处"]


@pytest.mark.parametrize(
    "error",
    [ValidationError("还缺少信息。"), StaleVersion("这个案件刚被其他人修改过。"), PermissionDenied("您没有权限。")],
)
def test_an_error_naming_no_field_shows_above_the_form_with_its_own_words(error):
    form = NoteForm(data={})
    form.is_valid()

    add_service_errors(form, error)

    assert form.non_field_errors() == [service_error_message(error)]
    assert "[" not in service_error_message(error)


class EthicsMoveApi(APIView):
    """A move of an ethics case over the API, as a client with a stale page would make it."""

    def post(self, request, pk):
        case = ethics_case_start_investigating(
            case=EthicsCase.objects.get(pk=pk), actor=request.user, expected_version=request.data.get("version")
        )
        return Response({"state": case.state, "version": case.version})


class InterviewMoveApi(APIView):
    def post(self, request, pk):
        interview = interview_open_scheduling(
            interview=CompetencyInterview.objects.get(pk=pk),
            actor=request.user,
            expected_version=request.data.get("version"),
        )
        return Response({"state": interview.state, "version": interview.version})


class RefusingApi(APIView):
    def post(self, request, kind):
        raise {
            "wrong_state": WrongState("只有已安排的面试可以记为未出席。"),
            "invalid": ValidationError({"note": ["请填写。"]}),
        }[kind]


urlpatterns = [
    path("test-api/ethics/<int:pk>/start/", EthicsMoveApi.as_view()),
    path("test-api/interviews/<int:pk>/open/", InterviewMoveApi.as_view()),
    path("test-api/refuse/<str:kind>/", RefusingApi.as_view()),
    *root_urlpatterns,
]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_stale_version_of_an_ethics_case_move_is_a_409_with_the_message_through_any_api_view():
    supervisor = UserFactory(roles=["supervisor"])
    case = EthicsCase.objects.create(
        listener=ListenerProfileFactory(),
        source=EthicsSource.SUPERVISOR_OBSERVATION,
        summary="旁听",
        opened_by=supervisor,
    )
    client = signed_in_client(supervisor)

    stale = client.post(f"/test-api/ethics/{case.pk}/start/", {"version": 9}, content_type="application/json")
    fresh = client.post(f"/test-api/ethics/{case.pk}/start/", {"version": 1}, content_type="application/json")

    assert stale.status_code == 409
    assert "其他人修改过" in stale.json()["detail"]
    assert (fresh.status_code, fresh.json()) == (200, {"state": "investigating", "version": 2})


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_wrong_state_is_a_409_and_a_validation_error_a_400_on_its_fields():
    client = signed_in_client(UserFactory(roles=["supervisor"]))

    wrong = client.post("/test-api/refuse/wrong_state/")
    invalid = client.post("/test-api/refuse/invalid/")

    assert (wrong.status_code, wrong.json()) == (409, {"detail": "只有已安排的面试可以记为未出席。"})
    assert (invalid.status_code, invalid.json()) == (400, {"note": ["请填写。"]})


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_stale_version_of_an_interview_move_is_a_409_and_the_fresh_one_moves_it():
    supervisor = UserFactory(roles=["supervisor"])
    interview = interview_request(listener=ListenerProfileFactory(), reason="处理决定要求面试", actor=supervisor)
    client = signed_in_client(supervisor)

    stale = client.post(f"/test-api/interviews/{interview.pk}/open/", {"version": 0}, content_type="application/json")
    fresh = client.post(f"/test-api/interviews/{interview.pk}/open/", {"version": 1}, content_type="application/json")

    assert stale.status_code == 409
    assert "其他人修改过" in stale.json()["detail"]
    assert (fresh.status_code, fresh.json()) == (200, {"state": InterviewState.SCHEDULING, "version": 2})
