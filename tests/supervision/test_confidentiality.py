from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import include, path
from django.utils import timezone

from accounts.roles import Role
from config.urls import urlpatterns as root_urlpatterns
from core.deadlines import deadlines_sweep
from core.models import AccessLog, Deadline, DeadlineKind, DeadlinePolicy, Notification
from supervision.models import BreakCategory, BreakReportState, ConfidentialityBreakReport
from supervision.services import (
    SupervisionConflict,
    confidentiality_report_acknowledge,
    confidentiality_report_file,
    confidentiality_report_record_outcome,
)

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory

urlpatterns = [path("supervision/", include("supervision.urls")), *root_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

SECRET = "来访者说下周要去伤害他的前同事"


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


@pytest.fixture
def listener():
    return ListenerProfileFactory()


@pytest.fixture
def report(listener, supervisor):
    return confidentiality_report_file(
        reporter=listener.user, category=BreakCategory.HARM_TO_OTHERS, what_happened=SECRET, session_order_no="QS1"
    )


def test_a_filed_report_reaches_supervisors_at_once_with_a_one_hour_deadline(listener, supervisor):
    # when
    report = confidentiality_report_file(
        reporter=listener.user, category=BreakCategory.CHILD_ABUSE, what_happened=SECRET
    )

    # then
    note = Notification.objects.get(recipient=supervisor, kind="supervision.confidentiality_break")
    assert note.urgent
    assert SECRET not in note.body and SECRET not in note.subject
    deadline = Deadline.objects.get(subject_id=report.pk)
    assert deadline.kind == DeadlineKind.BREAK_ACK
    assert deadline.state == Deadline.State.OPEN
    assert deadline.due_at == report.filed_at + timedelta(hours=1)
    assert deadline.owner_role == Role.SUPERVISOR


def test_the_acknowledgement_deadline_is_a_policy_of_its_own(listener, supervisor):
    DeadlinePolicy.objects.filter(kind=DeadlineKind.BREAK_ACK).update(duration=timedelta(minutes=30))

    report = confidentiality_report_file(
        reporter=listener.user, category=BreakCategory.HARM_TO_OTHERS, what_happened=SECRET
    )

    assert Deadline.objects.get(subject_id=report.pk).due_at == report.filed_at + timedelta(minutes=30)
    assert DeadlinePolicy.objects.get(kind=DeadlineKind.FIRST_RESPONSE).duration == timedelta(hours=24)


def test_an_unacknowledged_report_escalates_to_every_supervisor_after_the_hour(report, supervisor, make_user):
    other = make_user(Role.SUPERVISOR)

    reminded = deadlines_sweep(now=report.filed_at + timedelta(minutes=31))
    breached = deadlines_sweep(now=report.filed_at + timedelta(minutes=61))

    assert (reminded.reminded, breached.breached) == (1, 1)
    deadline = Deadline.objects.get(subject_id=report.pk)
    assert deadline.state == Deadline.State.BREACHED
    for person in (supervisor, other):
        escalation = Notification.objects.get(recipient=person, kind="deadline.escalated")
        assert escalation.urgent
        assert SECRET not in escalation.body
    assert deadlines_sweep(now=report.filed_at + timedelta(minutes=90)).breached == 0


def test_acknowledging_late_clears_the_overdue_mark_but_keeps_the_breach(report, supervisor):
    deadlines_sweep(now=report.filed_at + timedelta(minutes=61))

    confidentiality_report_acknowledge(report=report, actor=supervisor)

    deadline = Deadline.objects.get(subject_id=report.pk)
    assert deadline.state == Deadline.State.BREACHED
    assert deadline.closed_at is not None


def test_what_happened_is_encrypted_at_rest(report):
    with connection.cursor() as cursor:
        cursor.execute("SELECT what_happened FROM supervision_confidentialitybreakreport WHERE id = %s", [report.pk])
        (stored,) = cursor.fetchone()

    assert SECRET not in stored
    assert ConfidentialityBreakReport.objects.get().what_happened == SECRET


def test_only_listeners_may_file(make_user):
    with pytest.raises(PermissionDenied):
        confidentiality_report_file(
            reporter=make_user(Role.CONSULTANT), category=BreakCategory.HARM_TO_OTHERS, what_happened="x"
        )


def test_acknowledging_meets_the_deadline(report, supervisor):
    report = confidentiality_report_acknowledge(report=report, actor=supervisor)

    assert report.state == BreakReportState.ACKNOWLEDGED
    assert report.acknowledged_by == supervisor
    assert Deadline.objects.get(subject_id=report.pk).state == Deadline.State.MET
    with pytest.raises(SupervisionConflict):
        confidentiality_report_acknowledge(report=report, actor=supervisor)


def test_only_supervisors_acknowledge(report, make_user):
    with pytest.raises(PermissionDenied):
        confidentiality_report_acknowledge(report=report, actor=make_user(Role.REVIEWER))


def test_the_outcome_records_when_and_by_whom_the_police_were_told(report, supervisor):
    told_at = timezone.now() - timedelta(minutes=20)

    report = confidentiality_report_record_outcome(
        report=report,
        actor=supervisor,
        authority_notified=True,
        authority_name="某市公安局某派出所",
        authority_notified_at=told_at,
        outcome="已报警，警方已介入",
    )

    report.refresh_from_db()
    assert report.state == BreakReportState.CONCLUDED
    assert report.authority_notified is True
    assert report.authority_notified_at == told_at
    assert report.authority_notified_by == supervisor
    assert report.acknowledged_by == supervisor
    assert Deadline.objects.get(subject_id=report.pk).state == Deadline.State.MET


def test_the_report_to_the_police_may_have_been_made_by_another_supervisor(report, supervisor, make_user):
    colleague = make_user(Role.SUPERVISOR)

    with pytest.raises(ValidationError) as not_a_supervisor:
        confidentiality_report_record_outcome(
            report=report,
            actor=supervisor,
            authority_notified=True,
            authority_name="派出所",
            authority_notified_by=make_user(Role.REVIEWER),
            outcome="已报警",
        )
    report = confidentiality_report_record_outcome(
        report=report,
        actor=supervisor,
        authority_notified=True,
        authority_name="派出所",
        authority_notified_by=colleague,
        outcome="已报警",
    )

    assert "authority_notified_by" in not_a_supervisor.value.message_dict
    assert report.authority_notified_by == colleague and report.outcome_recorded_by == supervisor


def test_the_urgent_notice_names_the_acknowledgement_time_from_the_policy(listener, supervisor):
    DeadlinePolicy.objects.filter(kind=DeadlineKind.BREAK_ACK).update(duration=timedelta(minutes=30))

    report = confidentiality_report_file(
        reporter=listener.user, category=BreakCategory.HARM_TO_OTHERS, what_happened=SECRET
    )

    due = timezone.localtime(Deadline.objects.get(subject_id=report.pk).due_at)
    note = Notification.objects.get(recipient=supervisor, kind="supervision.confidentiality_break")
    assert f"请在 {due:%Y-%m-%d %H:%M} 前确认" in note.subject


def test_an_unknown_category_is_refused(listener):
    with pytest.raises(ValidationError) as refused:
        confidentiality_report_file(reporter=listener.user, category="gossip", what_happened=SECRET)

    assert "category" in refused.value.message_dict
    assert not ConfidentialityBreakReport.objects.exists()


def test_an_authority_report_needs_the_authority_named(report, supervisor):
    with pytest.raises(ValidationError) as exc:
        confidentiality_report_record_outcome(
            report=report, actor=supervisor, authority_notified=True, outcome="已报警"
        )

    assert "authority_name" in exc.value.message_dict
    report.refresh_from_db()
    assert report.state == BreakReportState.FILED


def test_an_outcome_without_a_police_report_leaves_when_and_who_empty(report, supervisor):
    report = confidentiality_report_record_outcome(
        report=report, actor=supervisor, authority_notified=False, outcome="经评估无需报告"
    )

    assert report.authority_notified is False
    assert report.authority_notified_at is None and report.authority_notified_by is None


# --- pages --------------------------------------------------------------------------------


def test_a_listener_files_through_the_form(listener, supervisor):
    client = signed_in_client(listener.user)

    page = client.get("/supervision/confidentiality/new/")
    response = client.post(
        "/supervision/confidentiality/new/",
        {"category": BreakCategory.SERIOUS_PAST_HARM, "session_order_no": "", "what_happened": SECRET},
    )

    assert page.status_code == 200
    assert response.status_code == 200
    report = ConfidentialityBreakReport.objects.get()
    assert report.reporter == listener.user
    assert report.reference in response.content.decode()


def test_the_form_keeps_what_was_typed_when_a_field_is_missing(listener):
    client = signed_in_client(listener.user)

    response = client.post("/supervision/confidentiality/new/", {"what_happened": SECRET})

    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert ConfidentialityBreakReport.objects.count() == 0


@pytest.mark.parametrize("role", [Role.COMPLAINANT, Role.CONSULTANT, Role.SUPERVISOR])
def test_only_listeners_see_the_filing_form(role, make_user):
    client = signed_in_client(make_user(role))

    assert client.get("/supervision/confidentiality/new/").status_code == 403


def test_every_view_of_a_report_is_logged(report, supervisor):
    client = signed_in_client(supervisor)

    listing = client.get("/supervision/confidentiality/")
    first = client.get(f"/supervision/confidentiality/{report.pk}/")
    second = client.get(f"/supervision/confidentiality/{report.pk}/")

    assert listing.status_code == 200 and SECRET not in listing.content.decode()
    assert first.status_code == 200 and SECRET in first.content.decode()
    assert second.status_code == 200
    logs = AccessLog.objects.filter(actor=supervisor, object_id=str(report.pk), action="view")
    assert logs.count() == 2
    assert set(logs.values_list("case_reference", flat=True)) == {report.reference}


@pytest.mark.parametrize("role", [Role.LISTENER, Role.CONSULTANT, Role.REVIEWER, Role.COMPLAINANT])
def test_nobody_but_supervisors_sees_reports(role, report, make_user):
    client = signed_in_client(make_user(role))

    for url in (
        "/supervision/confidentiality/",
        f"/supervision/confidentiality/{report.pk}/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/supervision/confidentiality/{report.pk}/acknowledge/").status_code == 403
    assert AccessLog.objects.count() == 0


def test_the_reporting_listener_cannot_read_it_back(report, listener):
    client = signed_in_client(listener.user)

    assert client.get(f"/supervision/confidentiality/{report.pk}/").status_code == 403


def test_a_signed_out_visitor_is_sent_to_sign_in(report, client):
    assert client.get(f"/supervision/confidentiality/{report.pk}/").status_code == 302


def test_a_supervisor_acknowledges_and_records_the_outcome_through_the_page(report, supervisor):
    client = signed_in_client(supervisor)

    client.post(f"/supervision/confidentiality/{report.pk}/acknowledge/")
    missing = client.post(
        f"/supervision/confidentiality/{report.pk}/outcome/", {"authority_notified": "yes", "outcome": "已报警"}
    )
    done = client.post(
        f"/supervision/confidentiality/{report.pk}/outcome/",
        {"authority_notified": "yes", "authority_name": "派出所", "outcome": "已报警"},
    )

    assert missing.status_code == 200 and "请写明报告的部门" in missing.content.decode()
    assert done.status_code == 302
    report.refresh_from_db()
    assert report.state == BreakReportState.CONCLUDED
    assert report.authority_notified_by == supervisor and report.authority_notified_at is not None
