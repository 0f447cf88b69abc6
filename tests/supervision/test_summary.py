"""The monthly summary emailed to supervisors: last month's figures, no personal data, once a month."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from core.models import Notification
from evaluations.models import Evaluation
from supervision.audits import previous_month
from supervision.summary import monthly_summary, monthly_summary_send, summary_dedupe_key
from supervision.tasks import send_monthly_summary

from ..complaints.helpers import REAL_NAME, VALID_PHONE, file_complaint
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def this_month() -> date:
    return timezone.localdate().replace(day=1)


def recently():
    """A moment in this month, a little before now."""
    month_began = timezone.make_aware(datetime.combine(this_month(), time.min))
    return max(month_began, timezone.now() - timedelta(minutes=5))


def sessions(listener, complainant, n):
    return [
        ListeningSessionFactory(listener=listener, complainant=complainant, started_at=recently()) for _ in range(n)
    ]


@pytest.fixture
def supervisors(make_user):
    return [make_user(Role.SUPERVISOR), make_user(Role.SUPERVISOR)]


@pytest.fixture
def outlier_month():
    """Three typical listeners (40 sessions, one complaint each), one outlier (10 sessions, 6 complaints)."""
    complainant = UserFactory(roles=[Role.COMPLAINANT], display_name="投诉人甲", email="complainant-a@example.cn")
    for _ in range(3):
        listener = ListenerProfileFactory()
        file_complaint(complainant=complainant, session=sessions(listener, complainant, 40)[0])
    outlier = ListenerProfileFactory(code="L-OUT")
    for session in sessions(outlier, complainant, 10)[:6]:
        file_complaint(complainant=complainant, session=session)
    return complainant


def test_the_summary_has_the_months_counts_compliance_and_flagged_codes(outlier_month):
    # when
    summary = monthly_summary(this_month())

    # then
    assert summary["month"] == this_month().strftime("%Y-%m")
    assert summary["complaints"] == 9
    assert summary["first_response_counted"] == 0  # all still inside their 24 hours
    assert summary["first_response_rate"] is None
    assert summary["grades"] == []
    assert summary["flagged"] == [{"code": "L-OUT", "flag": "alarm"}]
    assert summary["below"] == []
    assert (summary["causes"], summary["causes_evaluated"]) == ([], 0)


def test_a_month_without_complaints_counts_nothing(outlier_month):
    summary = monthly_summary(previous_month(this_month()))

    assert summary["complaints"] == 0
    assert summary["flagged"] == []


def test_each_supervisor_gets_it_once_per_month_without_personal_data(outlier_month, supervisors, make_user):
    # given
    make_user(Role.CONSULTANT)

    # when
    monthly_summary_send(this_month())
    monthly_summary_send(this_month())

    # then
    rows = Notification.objects.filter(kind="supervision.monthly_summary")
    assert sorted(r.recipient_id for r in rows) == sorted(s.pk for s in supervisors)
    key = summary_dedupe_key(this_month())
    assert {r.dedupe_key for r in rows} == {f"{key}:{s.pk}" for s in supervisors}
    body = rows[0].body
    assert "L-OUT" in body and "9" in body and this_month().strftime("%Y-%m") in rows[0].subject
    for secret in (REAL_NAME, VALID_PHONE, "投诉人甲", "complainant-a@example.cn", "&amp;", "&#x27;"):
        assert secret not in body
    assert "/supervision/dashboard/?from=" in body


def test_the_task_sends_last_months_summary_once(supervisors):
    # when
    send_monthly_summary()
    send_monthly_summary()

    # then
    rows = Notification.objects.filter(kind="supervision.monthly_summary")
    assert rows.count() == len(supervisors)
    assert {r.dedupe_key.rsplit(":", 1)[0] for r in rows} == {summary_dedupe_key(previous_month())}


def test_the_summary_ranks_the_months_causes_and_names_listeners_below_the_lower_limit(supervisors):
    # given: a listener with 60 sessions and no complaint against a platform rate of 6 / 80 (see the
    # dashboard tests), and two evaluated complaints found to show a competence gap
    complainant = UserFactory(roles=[Role.COMPLAINANT])
    sessions(ListenerProfileFactory(code="L-LOW"), complainant, 60)
    complaints = [
        file_complaint(complainant=complainant, session=session)
        for _ in range(2)
        for session in sessions(ListenerProfileFactory(), complainant, 10)[:3]
    ]
    for complaint in complaints[:2]:
        Evaluation.objects.create(
            complaint=complaint,
            reviewer=UserFactory(roles=[Role.REVIEWER]),
            is_final=True,
            outcome="B",
            finding_competence_gap=True,
            submitted_at=timezone.now(),
        )

    # when
    summary = monthly_summary(this_month())
    monthly_summary_send(this_month())

    # then
    assert summary["causes"] == [{"label": "专业能力 · 专业胜任力不足", "count": 2, "share": 100.0}]
    assert summary["causes_evaluated"] == 2
    assert summary["flagged"] == []
    assert summary["below"] == ["L-LOW"]
    body = Notification.objects.filter(kind="supervision.monthly_summary").first().body
    assert "主要投诉原因（已完成最终评估的 2 件投诉）" in body
    assert "- 专业能力 · 专业胜任力不足：2（100.0%）" in body
    assert "投诉率低于 95% 下限的倾听师（编号）：\n- L-LOW" in body
