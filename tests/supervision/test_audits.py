"""Quality audits (录音抽检): the monthly random sample, the rubric, and ethics cases from findings."""

from datetime import date, datetime, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.roles import Role
from listeners.models import ListenerStatus
from supervision.audits import audit_open_ethics_case, audit_record, audit_sample_month, previous_month
from supervision.models import EthicsCaseEvent, EthicsSource, QualityAudit
from supervision.services import SupervisionConflict
from supervision.tasks import draw_monthly_audits

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory

pytestmark = pytest.mark.django_db

MONTH = date(2026, 3, 1)
SCORES = {"score_boundaries": 4, "score_empathy": 5, "score_risk_assessment": 3, "score_record_completeness": 2}


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def sessions(listener, n, day=date(2026, 3, 10), **kwargs):
    return [ListeningSessionFactory(listener=listener, started_at=at(day), **kwargs) for _ in range(n)]


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


@pytest.fixture
def audit(supervisor):
    listener = ListenerProfileFactory()
    sessions(listener, 1)
    audit_sample_month(MONTH, 1)
    return QualityAudit.objects.get(listener=listener)


# --- sampling -----------------------------------------------------------------------------------


def test_the_sample_takes_n_sessions_of_the_month_per_active_listener_only():
    # given
    busy, quiet, suspended = ListenerProfileFactory(), ListenerProfileFactory(), ListenerProfileFactory()
    suspended.status = ListenerStatus.SUSPENDED
    suspended.save()
    in_month = sessions(busy, 5)
    sessions(busy, 3, day=date(2026, 2, 28))  # the month before
    sessions(busy, 3, day=date(2026, 4, 1))  # the month after
    quiet_sessions = sessions(quiet, 1)
    sessions(suspended, 4)

    # when
    created = audit_sample_month(MONTH, 2)

    # then
    assert created == 3
    busy_audits = QualityAudit.objects.filter(listener=busy)
    assert busy_audits.count() == 2
    assert {a.session_id for a in busy_audits} <= {s.pk for s in in_month}
    assert [a.session_id for a in QualityAudit.objects.filter(listener=quiet)] == [quiet_sessions[0].pk]
    assert not QualityAudit.objects.filter(listener=suspended).exists()
    assert set(QualityAudit.objects.values_list("month", flat=True)) == {MONTH}
    assert all(a.reviewer is None and a.completed_at is None for a in QualityAudit.objects.all())


def test_running_the_sample_again_adds_nothing():
    # given
    listener = ListenerProfileFactory()
    sessions(listener, 6)
    audit_sample_month(MONTH, 2)
    first = set(QualityAudit.objects.values_list("session_id", flat=True))

    # when
    again = audit_sample_month(date(2026, 3, 17), 2)  # any day of the month means that month

    # then
    assert again == 0
    assert set(QualityAudit.objects.values_list("session_id", flat=True)) == first


def test_a_larger_sample_only_tops_up_and_never_repeats_a_session():
    # given
    listener = ListenerProfileFactory()
    sessions(listener, 4)
    audit_sample_month(MONTH, 1)

    # when
    added = audit_sample_month(MONTH, 3)

    # then
    assert added == 2
    ids = list(QualityAudit.objects.values_list("session_id", flat=True))
    assert len(ids) == 3 == len(set(ids))


def test_the_sample_size_comes_from_the_setting(settings):
    # given
    settings.SUPERVISION_AUDITS_PER_LISTENER = 3
    listener = ListenerProfileFactory()
    sessions(listener, 5)

    # when / then
    assert audit_sample_month(MONTH) == 3


def test_the_default_sample_size_is_two():
    listener = ListenerProfileFactory()
    sessions(listener, 5)

    assert audit_sample_month(MONTH) == 2


def test_the_sample_is_random():
    # given: 20 sessions; drawing 1 twenty times in fresh months would always pick the same one if not random
    listener = ListenerProfileFactory()
    sessions(listener, 20)
    picked = set()

    # when
    for _ in range(10):
        audit_sample_month(MONTH, 1)
        picked.add(QualityAudit.objects.get().session_id)
        QualityAudit.objects.all().delete()

    # then
    assert len(picked) > 1


def test_the_monthly_task_draws_last_month(monkeypatch):
    # given
    listener = ListenerProfileFactory()
    last = previous_month()
    sessions(listener, 3, day=last.replace(day=2))
    sessions(listener, 3, day=timezone.localdate())

    # when
    assert draw_monthly_audits() == 2
    assert draw_monthly_audits() == 0

    # then
    assert set(QualityAudit.objects.values_list("month", flat=True)) == {last}


def test_previous_month_wraps_the_year():
    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    assert previous_month(date(2026, 3, 31)) == date(2026, 2, 1)


# --- recording the rubric -------------------------------------------------------------------------


def test_a_supervisor_records_the_rubric_and_takes_the_audit(audit, supervisor):
    # when
    done = audit_record(audit=audit, actor=supervisor, comment=" 边界清晰 ", **SCORES)

    # then
    done.refresh_from_db()
    assert done.reviewer == supervisor
    assert done.completed_at is not None
    assert (done.score_boundaries, done.score_empathy, done.score_risk_assessment) == (4, 5, 3)
    assert done.comment == "边界清晰"


def test_scores_outside_one_to_five_are_refused(audit, supervisor):
    with pytest.raises(ValidationError) as exc:
        audit_record(audit=audit, actor=supervisor, **{**SCORES, "score_empathy": 6})

    assert "score_empathy" in exc.value.message_dict
    audit.refresh_from_db()
    assert audit.completed_at is None


def test_a_completed_audit_is_not_changed_again(audit, supervisor):
    audit_record(audit=audit, actor=supervisor, **SCORES)

    with pytest.raises(SupervisionConflict):
        audit_record(audit=audit, actor=supervisor, **{**SCORES, "score_empathy": 1})


def test_only_supervisors_and_not_another_reviewers_audit(audit, supervisor, make_user):
    other = make_user(Role.SUPERVISOR)
    with pytest.raises(PermissionDenied):
        audit_record(audit=audit, actor=make_user(Role.REVIEWER), **SCORES)
    audit.reviewer = other
    audit.save()
    with pytest.raises(PermissionDenied):
        audit_record(audit=audit, actor=supervisor, **SCORES)


def test_a_finding_opens_one_ethics_case_as_a_supervisor_observation(audit, supervisor):
    # when
    case = audit_open_ethics_case(audit=audit, actor=supervisor, summary="向用户透露个人联系方式")
    again = audit_open_ethics_case(audit=audit, actor=supervisor, summary="再点一次")

    # then
    assert again.pk == case.pk
    assert case.source == EthicsSource.SUPERVISOR_OBSERVATION
    assert case.listener_id == audit.listener_id
    assert audit.reference in case.summary and "向用户透露个人联系方式" in case.summary
    audit.refresh_from_db()
    assert audit.ethics_case_id == case.pk
    assert EthicsCaseEvent.objects.filter(case=case, kind=EthicsCaseEvent.Kind.OPENED).count() == 1


# --- pages --------------------------------------------------------------------------------------


def test_the_list_shows_my_and_unassigned_audits_but_not_anothers(supervisor, make_user):
    # given
    listener = ListenerProfileFactory()
    sessions(listener, 3)
    audit_sample_month(MONTH, 3)
    mine, free, theirs = QualityAudit.objects.order_by("pk")
    mine.reviewer = supervisor
    mine.save()
    theirs.reviewer = make_user(Role.SUPERVISOR)
    theirs.save()
    client = signed_in_client(supervisor)

    # when
    html = client.get("/supervision/audits/").content.decode()

    # then
    assert f'data-testid="audit-{mine.pk}"' in html
    assert f'data-testid="audit-{free.pk}"' in html
    assert f'data-testid="audit-{theirs.pk}"' not in html
    assert client.get(f"/supervision/audits/{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("role", [Role.COMPLAINANT, Role.LISTENER, Role.CONSULTANT, Role.REVIEWER])
def test_the_pages_are_for_supervisors_only(role, audit, make_user):
    client = signed_in_client(make_user(role))

    assert client.get("/supervision/audits/").status_code == 403
    assert client.get(f"/supervision/audits/{audit.pk}/").status_code == 403
    assert client.post(f"/supervision/audits/{audit.pk}/", SCORES).status_code == 403


def test_the_detail_page_shows_session_metadata_and_never_the_user(supervisor):
    # given
    user = UserFactory(roles=[Role.COMPLAINANT], display_name="独特的用户名", email="secret-user@example.cn")
    listener = ListenerProfileFactory()
    session = ListeningSessionFactory(
        listener=listener, complainant=user, started_at=at(date(2026, 3, 5)), rating=4, duration_minutes=47
    )
    audit_sample_month(MONTH, 1)
    audit = QualityAudit.objects.get()

    # when
    html = signed_in_client(supervisor).get(f"/supervision/audits/{audit.pk}/").content.decode()

    # then
    assert session.order_no in html and "47" in html and "2026-03-05" in html
    assert "独特的用户名" not in html and "secret-user" not in html


def test_recording_through_the_page(audit, supervisor):
    client = signed_in_client(supervisor)

    response = client.post(f"/supervision/audits/{audit.pk}/", {**SCORES, "comment": "良好"})

    assert response.status_code == 302
    audit.refresh_from_db()
    assert audit.reviewer == supervisor and audit.score_record_completeness == 2
    assert 'data-testid="audit-result"' in client.get(f"/supervision/audits/{audit.pk}/").content.decode()


def test_an_incomplete_rubric_is_shown_again(audit, supervisor):
    response = signed_in_client(supervisor).post(f"/supervision/audits/{audit.pk}/", {"score_empathy": 3})

    assert response.status_code == 200
    audit.refresh_from_db()
    assert audit.completed_at is None


def test_opening_a_case_through_the_page(audit, supervisor):
    response = signed_in_client(supervisor).post(
        f"/supervision/audits/{audit.pk}/open-case/", {"summary": "录音中出现宣泄情绪"}
    )

    audit.refresh_from_db()
    assert audit.ethics_case_id is not None
    assert response.status_code == 302 and response["Location"] == f"/supervision/ethics/{audit.ethics_case_id}/"


# --- the admin ----------------------------------------------------------------------------------


def test_the_admin_shows_audits_but_never_changes_or_adds_one(audit, supervisor):
    audit_record(audit=audit, actor=supervisor, comment="边界清楚", **SCORES)
    client = signed_in_client(supervisor)
    url = f"/admin/supervision/qualityaudit/{audit.pk}/change/"

    shown = client.get(url)
    rewritten = client.post(url, {**{name: 1 for name in SCORES}, "comment": "改过的意见", "month": "2026-03-01"})
    added = client.get("/admin/supervision/qualityaudit/add/")
    deleted = client.post(f"/admin/supervision/qualityaudit/{audit.pk}/delete/", {"post": "yes"})

    assert shown.status_code == 200
    assert "边界清楚" in shown.content.decode()
    assert 'name="_save"' not in shown.content.decode()
    assert (rewritten.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    audit.refresh_from_db()
    assert (audit.comment, audit.score_boundaries) == ("边界清楚", SCORES["score_boundaries"])
