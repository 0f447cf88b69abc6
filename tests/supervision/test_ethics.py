import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import include, path

from accounts.roles import Role
from complaints.models import Complaint
from config.urls import urlpatterns as root_urlpatterns
from core.models import AccessLog, Notification
from evaluations.models import Grade, ListenerTask
from evaluations.services import task_review, task_submit
from supervision.models import EthicsCase, EthicsCaseEvent, EthicsCaseState, EthicsSource, ListenerReport, ReportKind
from supervision.services import (
    SupervisionConflict,
    ethics_case_close,
    ethics_case_decide,
    ethics_case_open,
    ethics_case_open_from_report,
    ethics_case_record_evaluation,
    ethics_case_start_investigating,
    listener_report_submit,
)

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory

# Until config/urls.py includes supervision.urls, these tests mount it themselves.
urlpatterns = [path("supervision/", include("supervision.urls")), *root_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


@pytest.fixture
def listener():
    return ListenerProfileFactory()


@pytest.fixture
def grade():
    return Grade.objects.get(level=1)


def open_case(listener, supervisor) -> EthicsCase:
    return ethics_case_open(
        listener=listener, source=EthicsSource.SUPERVISOR_OBSERVATION, summary="督导旁听时发现", actor=supervisor
    )


def test_a_case_goes_from_opened_to_closed_with_an_event_for_each_step(listener, supervisor, grade):
    # given
    case = open_case(listener, supervisor)

    # when
    case = ethics_case_start_investigating(case=case, actor=supervisor)
    case = ethics_case_record_evaluation(case=case, actor=supervisor, evaluation_summary="违反职业伦理", grade=grade)
    case = ethics_case_decide(
        case=case,
        actor=supervisor,
        measures=["feedback", "supervision_sessions"],
        adjustment_reason="以督导代替继续学习",
        text_to_listener="请阅读反馈并接受督导。",
    )
    for task in ListenerTask.objects.filter(listener=listener):
        task_submit(task=task, actor=listener.user, note="已完成")
        task_review(task=task, actor=supervisor, accepted=True)

    # then
    case.refresh_from_db()
    assert case.state == EthicsCaseState.CLOSED
    assert case.grade == grade
    assert case.measures == ["feedback", "supervision_sessions"]
    assert case.decided_at is not None and case.closed_at is not None
    events = list(case.events.values_list("kind", "to_state"))
    assert events == [
        ("opened", "opened"),
        ("transition", "investigating"),
        ("transition", "evaluated"),
        ("transition", "decided"),
        ("transition", "closed"),
    ]


def test_only_supervisors_may_open_or_move_a_case(listener, supervisor, make_user):
    reviewer = make_user(Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        open_case(listener, reviewer)
    case = open_case(listener, supervisor)

    with pytest.raises(PermissionDenied):
        ethics_case_start_investigating(case=case, actor=reviewer)

    case.refresh_from_db()
    assert case.state == EthicsCaseState.OPENED


def test_an_evaluation_needs_a_summary(listener, supervisor, grade):
    case = ethics_case_start_investigating(case=open_case(listener, supervisor), actor=supervisor)

    with pytest.raises(ValidationError):
        ethics_case_record_evaluation(case=case, actor=supervisor, evaluation_summary="  ", grade=grade)

    case.refresh_from_db()
    assert case.state == EthicsCaseState.INVESTIGATING


def test_a_case_cannot_skip_the_investigation(listener, supervisor, grade):
    case = open_case(listener, supervisor)

    with pytest.raises(SupervisionConflict):
        ethics_case_record_evaluation(case=case, actor=supervisor, evaluation_summary="x", grade=grade)


def test_a_stale_version_is_refused(listener, supervisor):
    case = open_case(listener, supervisor)
    ethics_case_start_investigating(case=case, actor=supervisor)

    with pytest.raises(SupervisionConflict):
        ethics_case_close(case=case, actor=supervisor, note="x", expected_version=1)


def test_an_unfounded_case_may_be_closed_at_once(listener, supervisor):
    case = ethics_case_close(case=open_case(listener, supervisor), actor=supervisor, note="查无实据")

    assert case.state == EthicsCaseState.CLOSED


def test_case_events_are_append_only(listener, supervisor):
    from django.db import ProgrammingError, transaction

    case = open_case(listener, supervisor)
    event = case.events.get()

    with pytest.raises(ProgrammingError), transaction.atomic():
        EthicsCaseEvent.objects.filter(pk=event.pk).update(note="改写")


# --- reports ------------------------------------------------------------------------------


def test_an_anonymous_report_never_starts_a_complaint_but_may_become_an_ethics_case(listener, supervisor, client):
    # when
    response = client.post(
        "/supervision/report/anonymous/",
        {"listener_code": listener.code, "kind": ReportKind.VENTING_ON_USERS, "content": "倾听师向我发泄情绪"},
    )

    # then
    assert response.status_code == 200
    report = ListenerReport.objects.get()
    assert report.anonymous and report.reporter is None
    assert Complaint.objects.count() == 0
    assert Notification.objects.filter(recipient=supervisor, kind="supervision.report").count() == 1

    case = ethics_case_open_from_report(report=report, actor=supervisor)
    again = ethics_case_open_from_report(report=report, actor=supervisor)
    assert case.pk == again.pk
    assert case.source == EthicsSource.ANONYMOUS_REPORT
    assert EthicsCase.objects.count() == 1


def test_a_signed_in_report_is_real_name_and_rating_manipulation_keeps_its_source(listener, supervisor, make_user):
    user = make_user(Role.COMPLAINANT)
    client = signed_in_client(user)

    client.post(
        "/supervision/report/",
        {"listener_code": listener.code.lower(), "kind": ReportKind.RATING_MANIPULATION, "content": "要我改好评"},
    )

    report = ListenerReport.objects.get()
    assert report.reporter == user and not report.anonymous
    case = ethics_case_open_from_report(report=report, actor=supervisor)
    assert case.source == EthicsSource.RATING_MANIPULATION_REPORT


def test_the_real_name_report_form_asks_to_sign_in(client):
    response = client.get("/supervision/report/")

    assert response.status_code == 302


def test_an_unknown_listener_code_is_shown_next_to_the_field(client):
    response = client.post(
        "/supervision/report/anonymous/", {"listener_code": "NOPE", "kind": ReportKind.OTHER, "content": "x"}
    )

    assert response.status_code == 200
    assert "没有找到这个倾听师编号" in response.content.decode()
    assert ListenerReport.objects.count() == 0


def test_a_report_needs_a_supervisor_to_become_a_case(listener, make_user):
    report = listener_report_submit(kind=ReportKind.OTHER, listener_code=listener.code, content="x")

    with pytest.raises(PermissionDenied):
        ethics_case_open_from_report(report=report, actor=make_user(Role.CONSULTANT))


def test_a_supervisor_opens_a_case_from_the_report_page_and_the_view_is_logged(listener, supervisor):
    report = listener_report_submit(kind=ReportKind.OTHER, listener_code=listener.code, content="x")
    client = signed_in_client(supervisor)

    page = client.get(f"/supervision/reports/{report.pk}/")
    response = client.post(f"/supervision/reports/{report.pk}/open-case/", {"summary": ""})

    assert page.status_code == 200
    assert AccessLog.objects.filter(actor=supervisor, object_id=str(report.pk), action="view").count() == 1
    case = EthicsCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/supervision/ethics/{case.pk}/"


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.REVIEWER, Role.LISTENER, Role.COMPLAINANT])
def test_only_supervisors_see_reports_and_cases(role, listener, supervisor, make_user):
    report = listener_report_submit(kind=ReportKind.OTHER, listener_code=listener.code, content="x")
    case = open_case(listener, supervisor)
    client = signed_in_client(make_user(role))

    for url in (
        "/supervision/reports/",
        f"/supervision/reports/{report.pk}/",
        "/supervision/ethics/",
        f"/supervision/ethics/{case.pk}/",
    ):
        assert client.get(url).status_code == 403, url
    assert AccessLog.objects.count() == 0


def test_a_supervisor_moves_a_case_through_its_page(listener, supervisor, grade):
    case = open_case(listener, supervisor)
    client = signed_in_client(supervisor)

    assert client.get("/supervision/ethics/?source=supervisor_observation&state=opened").status_code == 200
    assert "开始调查" in client.get(f"/supervision/ethics/{case.pk}/").content.decode()
    client.post(f"/supervision/ethics/{case.pk}/start/", {"start-note": "开始"})
    bad = client.post(f"/supervision/ethics/{case.pk}/evaluate/", {"evaluate-grade": grade.pk})
    client.post(
        f"/supervision/ethics/{case.pk}/evaluate/",
        {"evaluate-evaluation_summary": "属实", "evaluate-grade": grade.pk},
    )
    page = client.get(f"/supervision/ethics/{case.pk}/")

    assert bad.status_code == 200
    case.refresh_from_db()
    assert case.state == EthicsCaseState.EVALUATED
    assert page.status_code == 200 and "属实" in page.content.decode()
