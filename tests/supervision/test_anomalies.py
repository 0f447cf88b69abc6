from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import include, path
from django.utils import timezone

from accounts.roles import Role
from config.urls import urlpatterns as root_urlpatterns
from core.models import Notification
from listeners.models import Channel, ListeningSession
from supervision.anomalies import anomalies_scan
from supervision.models import AnomalyKind, AnomalyRule, EthicsCase, EthicsCaseEvent, EthicsSource
from supervision.tasks import SUPERVISION_BEAT, scan_anomalies

from ..factories import ListenerProfileFactory, UserFactory

urlpatterns = [path("supervision/", include("supervision.urls")), *root_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def last_monday_at(hour: int) -> datetime:
    """9:00 on the Monday of last week, local time: a whole week inside the 30-day lookback."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday() + 7)
    return timezone.make_aware(datetime.combine(monday, time(hour)))


_order = iter(range(1, 10**6))


def sessions(listener, user, starts, minutes=50):
    return [
        ListeningSession(
            order_no=f"AN{next(_order):08d}",
            complainant=user,
            listener=listener,
            channel=Channel.VOICE,
            started_at=start,
            duration_minutes=minutes,
            amount=Decimal("99.00"),
        )
        for start in starts
    ]


@pytest.fixture
def rules():
    return {
        "pair_sessions": AnomalyRule.objects.create(
            kind=AnomalyKind.PAIR_SESSIONS_7D, window=timedelta(days=7), threshold=5
        ),
        "pair_hours": AnomalyRule.objects.create(
            kind=AnomalyKind.PAIR_HOURS_DAY, window=timedelta(days=1), threshold=4
        ),
        "listener_hours": AnomalyRule.objects.create(
            kind=AnomalyKind.LISTENER_DAILY_HOURS, window=timedelta(days=1), threshold=10
        ),
        "inactive": AnomalyRule.objects.create(
            kind=AnomalyKind.PAIR_SESSIONS_7D, window=timedelta(days=7), threshold=1, active=False
        ),
    }


@pytest.fixture
def world():
    """Three known anomalies, each next to a normal pair just under the threshold."""
    l1, l2, l3 = ListenerProfileFactory.create_batch(3)
    users = UserFactory.create_batch(11, roles=[Role.COMPLAINANT])
    monday = last_monday_at(9)
    rows = []
    # l1–u0: six sessions in one week (> 5); l1–u1: five, not flagged.
    rows += sessions(l1, users[0], [monday + timedelta(days=d) for d in range(6)])
    rows += sessions(l1, users[1], [monday + timedelta(days=d, hours=2) for d in range(5)])
    # l2–u2: three 100-minute sessions on Tuesday, 5 h (> 4 h); l2–u3: exactly 4 h, not flagged.
    tuesday = monday + timedelta(days=1)
    rows += sessions(l2, users[2], [tuesday + timedelta(hours=h * 2) for h in range(3)], minutes=100)
    rows += sessions(l2, users[3], [tuesday + timedelta(hours=h * 2) for h in range(2)], minutes=120)
    # l3: seven users, 100 minutes each on Wednesday, 11.7 h (> 10 h); each pair is normal.
    wednesday = monday + timedelta(days=2)
    for i in range(7):
        rows += sessions(l3, users[4 + i], [wednesday + timedelta(hours=i)], minutes=100)
    ListeningSession.objects.bulk_create(rows)
    return {"l1": l1, "l2": l2, "l3": l3, "users": users}


def test_each_known_anomaly_opens_one_case_and_normal_pairs_are_not_flagged(rules, world):
    # when
    result = anomalies_scan()

    # then
    found = set(EthicsCase.objects.values_list("anomaly_rule", "listener", "user"))
    users = world["users"]
    assert found == {
        (rules["pair_sessions"].pk, world["l1"].pk, users[0].pk),
        (rules["pair_hours"].pk, world["l2"].pk, users[2].pk),
        (rules["listener_hours"].pk, world["l3"].pk, None),
    }
    assert len(result.case_ids) == 3
    assert set(EthicsCase.objects.values_list("source", flat=True)) == {EthicsSource.ANOMALY}
    assert EthicsCaseEvent.objects.filter(kind="opened").count() == 3
    pair_hours = EthicsCase.objects.get(anomaly_rule=rules["pair_hours"])
    assert "5.0" in pair_hours.summary
    assert timezone.localtime(pair_hours.window_start).date() == timezone.localdate(last_monday_at(9)) + timedelta(
        days=1
    )


def test_running_the_scan_again_adds_nothing(rules, world, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    anomalies_scan()

    again = anomalies_scan()

    assert again.case_ids == []
    assert EthicsCase.objects.count() == 3
    assert EthicsCaseEvent.objects.count() == 3
    assert Notification.objects.filter(recipient=supervisor, kind="supervision.anomaly").count() == 1


def test_a_new_session_in_the_same_window_adds_no_second_case(rules, world):
    anomalies_scan()
    ListeningSession.objects.bulk_create(
        sessions(world["l1"], world["users"][0], [last_monday_at(9) + timedelta(days=6, hours=3)])
    )

    anomalies_scan()

    assert EthicsCase.objects.filter(anomaly_rule=rules["pair_sessions"]).count() == 1


def test_a_rule_is_data_a_lower_threshold_finds_more(rules, world):
    AnomalyRule.objects.filter(pk=rules["pair_sessions"].pk).update(threshold=4)

    anomalies_scan()

    flagged = set(EthicsCase.objects.filter(anomaly_rule=rules["pair_sessions"]).values_list("user", flat=True))
    assert flagged == {world["users"][0].pk, world["users"][1].pk}


def test_sessions_outside_the_lookback_are_not_scanned(rules, world):
    anomalies_scan(since=timezone.now() - timedelta(days=1))

    assert EthicsCase.objects.count() == 0


def test_the_scan_costs_the_same_number_of_queries_whatever_the_sessions(rules, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        anomalies_scan(notify_supervisors=False)


def test_the_beat_task_runs_the_scan_and_is_safe_to_run_twice(rules, world):
    assert scan_anomalies() == 3
    assert scan_anomalies() == 0
    assert SUPERVISION_BEAT["scan-anomalies"]["task"] == "supervision.tasks.scan_anomalies"
