import importlib
import logging
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import include, path
from django.utils import timezone

from accounts.roles import Role
from config.urls import urlpatterns as root_urlpatterns
from core.models import Notification
from listeners.models import Channel, ListeningSession
from supervision.anomalies import anomalies_scan
from supervision.defaults import DEFAULT_RULES, anomaly_rules_load
from supervision.models import (
    AnomalyFinding,
    AnomalyKind,
    AnomalyRule,
    EthicsCase,
    EthicsCaseEvent,
    EthicsSource,
    ListenerReport,
    ReportKind,
)
from supervision.tasks import SUPERVISION_BEAT, scan_anomalies

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, UserFactory

urlpatterns = [path("supervision/", include("supervision.urls")), *root_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def last_monday_at(hour: int) -> datetime:
    """9:00 on the Monday of last week, local time: a whole week inside the 30-day lookback."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday() + 7)
    return timezone.make_aware(datetime.combine(monday, time(hour)))


_order = iter(range(1, 10**6))


def sessions(listener, user, starts, minutes=50, rating=None):
    return [
        ListeningSession(
            order_no=f"AN{next(_order):08d}",
            complainant=user,
            listener=listener,
            channel=Channel.VOICE,
            started_at=start,
            duration_minutes=minutes,
            amount=Decimal("99.00"),
            rating=rating,
        )
        for start in starts
    ]


@pytest.fixture
def rules():
    """The three session rules plus an inactive one, instead of the shipped defaults."""
    AnomalyRule.objects.all().delete()
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
    # The rules, the scan lock, then per rule a savepoint, one statement and its release.
    with django_assert_max_num_queries(14):
        anomalies_scan(notify_supervisors=False)


def test_the_beat_task_runs_the_scan_and_is_safe_to_run_twice(rules, world):
    assert scan_anomalies() == 3
    assert scan_anomalies() == 0
    assert SUPERVISION_BEAT["scan-anomalies"]["task"] == "supervision.tasks.scan_anomalies"


# --- the shipped default rules --------------------------------------------------------------


def test_the_default_rules_are_shipped_as_data():
    rules = {r.kind: r for r in AnomalyRule.objects.filter(active=True)}

    assert {k: (r.window, r.threshold) for k, r in rules.items()} == {
        AnomalyKind.PAIR_SESSIONS_7D: (timedelta(days=7), Decimal("5")),
        AnomalyKind.PAIR_HOURS_DAY: (timedelta(days=1), Decimal("4")),
        AnomalyKind.LISTENER_DAILY_HOURS: (timedelta(days=1), Decimal("10")),
        AnomalyKind.RATING_SWING_AFTER_REPORT: (timedelta(days=14), Decimal("1")),
    }
    assert rules[AnomalyKind.RATING_SWING_AFTER_REPORT].min_count == 5


def test_loading_the_defaults_again_keeps_what_supervisors_changed():
    AnomalyRule.objects.filter(kind=AnomalyKind.PAIR_SESSIONS_7D).update(threshold=8, active=False)

    anomaly_rules_load()

    assert AnomalyRule.objects.count() == len(DEFAULT_RULES)
    edited = AnomalyRule.objects.get(kind=AnomalyKind.PAIR_SESSIONS_7D)
    assert (edited.threshold, edited.active) == (Decimal("8"), False)


def test_the_default_rules_find_the_known_anomalies(world):
    result = anomalies_scan()

    assert len(result.case_ids) == 3
    pair_hours = EthicsCase.objects.get(anomaly_rule__kind=AnomalyKind.PAIR_HOURS_DAY)
    assert "阈值 4 小时" in pair_hours.summary
    listener_hours = EthicsCase.objects.get(anomaly_rule__kind=AnomalyKind.LISTENER_DAILY_HOURS)
    assert "阈值 10 小时" in listener_hours.summary


# --- rating swing after a rating-manipulation report ------------------------------------------


def report_about(listener, at, kind=ReportKind.RATING_MANIPULATION):
    return ListenerReport.objects.create(
        kind=kind,
        listener=listener,
        listener_code=listener.code,
        content="私下联系我让我改评价",
        anonymous=True,
        created_at=at,
    )


def rated(listener, *, before: list[int | None], after: list[int | None], around):
    """Sessions a few hours apart on each side of ``around``, with the given ratings (None: unrated),
    each with a different user so that no pair rule fires."""
    users = iter(UserFactory.create_batch(len(before) + len(after)))
    rows = []
    for i, rating in enumerate(before):
        rows += sessions(listener, next(users), [around - timedelta(hours=5 + 7 * i)], rating=rating)
    for i, rating in enumerate(after):
        rows += sessions(listener, next(users), [around + timedelta(hours=5 + 7 * i)], rating=rating)
    ListeningSession.objects.bulk_create(rows)


@pytest.fixture
def swing_rule():
    return AnomalyRule.objects.get(kind=AnomalyKind.RATING_SWING_AFTER_REPORT)


@pytest.fixture
def reported_at():
    """Ten days ago: both 14-day windows reach into the default 30-day lookback."""
    return timezone.now() - timedelta(days=10)


def test_a_known_rating_swing_after_a_report_opens_one_case(swing_rule, reported_at, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    listener = ListenerProfileFactory()
    report = report_about(listener, reported_at)
    rated(listener, before=[2, 3, 2, 3, 2, None], after=[5, 4, 5, 5, 4, None], around=reported_at)

    result = anomalies_scan()

    case = EthicsCase.objects.get()
    assert result.case_ids == [case.pk]
    assert (case.source, case.listener, case.user, case.anomaly_rule) == (
        EthicsSource.ANOMALY,
        listener,
        None,
        swing_rule,
    )
    assert str(report) in case.summary
    assert "举报前 2.4 星（5 条），举报后 4.6 星（5 条），上升 2.2 星" in case.summary
    assert "前后各 14 天" in case.summary
    assert case.window_start == reported_at - timedelta(days=14)
    assert case.events.get().kind == EthicsCaseEvent.Kind.OPENED
    report.refresh_from_db()
    assert report.ethics_case == case
    assert Notification.objects.filter(recipient=supervisor, kind="supervision.anomaly").count() == 1


def test_running_the_rating_swing_scan_again_adds_nothing(swing_rule, reported_at):
    listener = ListenerProfileFactory()
    report_about(listener, reported_at)
    rated(listener, before=[2] * 5, after=[5] * 5, around=reported_at)
    anomalies_scan()
    rated(listener, before=[], after=[5], around=reported_at + timedelta(days=2))

    again = anomalies_scan()

    assert again.case_ids == []
    assert EthicsCase.objects.count() == 1
    assert EthicsCaseEvent.objects.count() == 1


def test_a_second_report_about_the_same_listener_is_added_to_the_open_case(swing_rule, reported_at):
    listener = ListenerProfileFactory()
    first, second = report_about(listener, reported_at), report_about(listener, reported_at + timedelta(hours=1))
    rated(listener, before=[1] * 5, after=[5] * 5, around=reported_at + timedelta(minutes=30))

    result = anomalies_scan()

    case = EthicsCase.objects.get()
    assert (result.case_ids, result.additions) == ([case.pk], 1)
    assert AnomalyFinding.objects.filter(case=case).count() == 2
    note = case.events.get(kind=EthicsCaseEvent.Kind.NOTE)
    assert str(second) in note.note and str(first) in case.summary
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.ethics_case == second.ethics_case == case


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param([4, 4, 5, 4, 4], [2, 1, 2, 2, 1], id="a drop"),
        pytest.param([3, 3, 3, 4, 3], [4, 4, 3, 4, 4], id="a small rise"),
        pytest.param([3] * 5, [4] * 5, id="exactly the threshold"),
        pytest.param([2] * 5, [5, 5, 5, 5, None, None], id="too few rated sessions after"),
        pytest.param([2, 2, 2, 2], [5] * 5, id="too few rated sessions before"),
    ],
)
def test_a_rating_change_that_is_not_a_swing_is_not_flagged(swing_rule, reported_at, before, after):
    listener = ListenerProfileFactory()
    report_about(listener, reported_at)
    rated(listener, before=before, after=after, around=reported_at)

    result = anomalies_scan()

    assert result.case_ids == []
    assert not EthicsCase.objects.exists()


def test_a_swing_without_a_rating_manipulation_report_is_not_flagged(swing_rule, reported_at):
    unreported, other_kind = ListenerProfileFactory.create_batch(2)
    report_about(other_kind, reported_at, kind=ReportKind.VENTING_ON_USERS)
    for listener in (unreported, other_kind):
        rated(listener, before=[1] * 5, after=[5] * 5, around=reported_at)

    assert anomalies_scan().case_ids == []


def test_sessions_outside_the_window_either_side_do_not_count(swing_rule, reported_at):
    listener = ListenerProfileFactory()
    report_about(listener, reported_at)
    rated(listener, before=[], after=[5] * 5, around=reported_at)
    rated(listener, before=[1] * 5, after=[], around=reported_at - timedelta(days=15))

    assert anomalies_scan().case_ids == []


def test_a_report_already_taken_up_by_a_supervisor_keeps_its_case(swing_rule, reported_at, make_user):
    from supervision.services import ethics_case_open_from_report

    listener = ListenerProfileFactory()
    report = report_about(listener, reported_at)
    opened = ethics_case_open_from_report(report=report, actor=make_user(Role.SUPERVISOR))
    rated(listener, before=[2] * 5, after=[5] * 5, around=reported_at)

    result = anomalies_scan()

    assert len(result.case_ids) == 1
    report.refresh_from_db()
    assert report.ethics_case == opened
    found = EthicsCase.objects.get(pk=result.case_ids[0])
    note = opened.events.get(kind=EthicsCaseEvent.Kind.NOTE)
    assert note.note.startswith(f"异常检测为本案的举报另立了案件 {found.reference}：")
    anomalies_scan()
    assert opened.events.filter(kind=EthicsCaseEvent.Kind.NOTE).count() == 1


def test_a_report_taken_up_by_a_supervisor_points_to_the_open_case_its_finding_was_added_to(
    swing_rule, reported_at, make_user
):
    from supervision.services import ethics_case_open_from_report

    listener = ListenerProfileFactory()
    report_about(listener, reported_at)
    second = report_about(listener, reported_at + timedelta(hours=1))
    supervisors_case = ethics_case_open_from_report(report=second, actor=make_user(Role.SUPERVISOR))
    rated(listener, before=[1] * 5, after=[5] * 5, around=reported_at + timedelta(minutes=30))

    result = anomalies_scan()

    found = EthicsCase.objects.get(pk__in=result.case_ids)
    assert result.added[swing_rule.pk] == [found.pk]
    note = supervisors_case.events.get(kind=EthicsCaseEvent.Kind.NOTE)
    assert note.note.startswith(f"异常检测将本案举报的发现记入了尚未结案的案件 {found.reference}：")
    second.refresh_from_db()
    assert second.ethics_case == supervisors_case


def test_the_swing_rule_threshold_and_minimum_are_data(swing_rule, reported_at):
    AnomalyRule.objects.filter(pk=swing_rule.pk).update(threshold=Decimal("0.5"), min_count=3)
    listener = ListenerProfileFactory()
    report_about(listener, reported_at)
    rated(listener, before=[3, 3, 3], after=[4, 4, 4], around=reported_at)

    assert len(anomalies_scan().case_ids) == 1


# --- a finding adds to the open case of the same pattern ----------------------------------------


def two_weeks_before(world):
    """The l1–u0 pattern again, in the week before the world's week."""
    earlier = last_monday_at(9) - timedelta(days=7)
    ListeningSession.objects.bulk_create(
        sessions(world["l1"], world["users"][0], [earlier + timedelta(days=d) for d in range(6)])
    )


def test_a_pair_over_the_threshold_in_two_windows_has_one_case_with_a_note(rules, world):
    two_weeks_before(world)

    result = anomalies_scan()

    case = EthicsCase.objects.get(anomaly_rule=rules["pair_sessions"])
    assert (case.listener, case.user) == (world["l1"], world["users"][0])
    assert case.window_start == timezone.localtime(last_monday_at(0) - timedelta(days=7))
    assert (len(result.case_ids), result.additions) == (3, 1)
    assert list(case.events.values_list("kind", flat=True)) == ["opened", "note"]
    note = case.events.get(kind="note").note
    assert note == case.findings.get(window_start=last_monday_at(0)).summary
    assert f"统计窗口开始于 {timezone.localdate(last_monday_at(9)).isoformat()} 00:00，实际 次数：6" in note


def test_a_finding_in_a_later_window_is_added_to_the_open_case_once(rules, world, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    two_weeks_before(world)
    first = anomalies_scan(until=last_monday_at(0))
    case = EthicsCase.objects.get(pk__in=first.case_ids)

    later = anomalies_scan()
    again = anomalies_scan()

    assert EthicsCase.objects.filter(anomaly_rule=rules["pair_sessions"]).count() == 1
    assert later.added[rules["pair_sessions"].pk] == [case.pk]
    assert case.events.filter(kind="note").count() == 1
    assert (again.case_ids, again.additions) == ([], 0)
    # one message for the first scan, one for the later one (two new cases and one addition)
    assert Notification.objects.filter(recipient=supervisor, kind="supervision.anomaly").count() == 2


def test_once_the_case_is_closed_a_new_finding_opens_a_new_case(rules, world):
    two_weeks_before(world)
    first = anomalies_scan(until=last_monday_at(0))
    EthicsCase.objects.filter(pk__in=first.case_ids).update(state="closed")

    later = anomalies_scan()

    cases = EthicsCase.objects.filter(anomaly_rule=rules["pair_sessions"])
    assert cases.count() == 2
    assert later.additions == 0
    assert not EthicsCaseEvent.objects.filter(kind="note").exists()


def test_a_listener_rule_adds_to_the_open_case_of_the_listener(rules, world):
    thursday = last_monday_at(9) + timedelta(days=3)
    others = UserFactory.create_batch(7)
    ListeningSession.objects.bulk_create(
        [
            row
            for i, user in enumerate(others)
            for row in sessions(world["l3"], user, [thursday + timedelta(hours=i)], 100)
        ]
    )

    result = anomalies_scan()

    case = EthicsCase.objects.get(anomaly_rule=rules["listener_hours"])
    assert case.user is None
    assert result.added[rules["listener_hours"].pk] == [case.pk]
    assert case.findings.count() == 2


def test_cases_opened_before_findings_were_recorded_take_no_note_on_a_rescan(rules, world):
    anomalies_scan()
    AnomalyFinding.objects.all().delete()  # as before migration 0008
    backfill = importlib.import_module("supervision.migrations.0008_anomaly_findings").FINDINGS_BACKFILL
    with connection.cursor() as cursor:
        cursor.execute(backfill)

    again = anomalies_scan()

    assert (again.case_ids, again.additions) == ([], 0)
    assert set(AnomalyFinding.objects.values_list("key", flat=True)) == set(
        EthicsCase.objects.values_list("anomaly_key", flat=True)
    )


# --- a rule that cannot run --------------------------------------------------------------------


def test_a_failing_rule_is_logged_and_the_others_still_open_their_cases(rules, world, caplog):
    broken = AnomalyRule(pk=rules["pair_sessions"].pk, kind=AnomalyKind.PAIR_SESSIONS_7D, window=timedelta(0))
    broken.threshold = Decimal("5")

    with caplog.at_level(logging.ERROR, logger="supervision.anomalies"):
        result = anomalies_scan(rules=[broken, *AnomalyRule.objects.exclude(pk=broken.pk).filter(active=True)])

    assert result.failed == [broken.pk]
    assert set(EthicsCase.objects.values_list("anomaly_rule", flat=True)) == {
        rules["pair_hours"].pk,
        rules["listener_hours"].pk,
    }
    assert any(r.exc_info and str(broken.pk) in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("window", [timedelta(0), timedelta(days=-1)])
def test_the_database_refuses_a_rule_without_a_positive_window(window):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnomalyRule.objects.create(kind=AnomalyKind.PAIR_SESSIONS_7D, window=window, threshold=5)


@pytest.mark.parametrize("window", ["0", "-1 00:00:00"])
def test_the_admin_refuses_a_rule_without_a_positive_window_with_a_clear_message(make_user, window):
    client = signed_in_client(make_user(Role.SUPERVISOR))
    before = AnomalyRule.objects.count()

    response = client.post(
        "/admin/supervision/anomalyrule/add/",
        {"kind": AnomalyKind.PAIR_SESSIONS_7D, "window": window, "threshold": "5", "min_count": "5", "active": "on"},
    )

    assert response.status_code == 200
    assert "统计窗口必须大于零" in response.content.decode()
    assert AnomalyRule.objects.count() == before


def test_the_supervisors_email_counts_new_cases_and_additions_apart():
    both = render_to_string("emails/ethics_anomalies_found.subject.txt", {"count": 0, "added": 3})
    only_new = render_to_string("emails/ethics_anomalies_found.subject.txt", {"count": 2, "added": 0})

    assert "3 项记入未结案件" in both and "新开 0 个" in both
    assert only_new.strip() == "异常检测新开 2 个伦理案件"
