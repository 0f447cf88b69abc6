"""The supervisors' quality dashboard: metrics in SQL, funnel limits, the page, the CSV exports."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, TimelineEvent
from core.models import Deadline, DeadlineKind
from evaluations.models import DecisionState, Evaluation, Grade
from evaluations.services import decision_draft, decision_submit
from supervision.dashboard import latest_date, neutralise
from supervision.metrics import (
    Period,
    complaints_by_month,
    dashboard_metrics,
    first_response_compliance,
    grade_distribution,
    listener_complaint_rates,
    poisson_cdf,
    poisson_limits,
    poisson_quantile,
    satisfaction,
    stage_median_hours,
    top_causes,
)

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint
from ..conftest import signed_in_client
from ..evaluations.helpers import finalized
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory

URL = "/supervision/dashboard/"
EXPORT = "/supervision/dashboard/export.csv"
ALL_TIME = Period()


# --- the Poisson limits, against values worked out by hand -------------------------------------


def test_poisson_cdf_matches_hand_computed_values():
    # lam = 1: P(X<=k) = e^-1 * sum 1/i!
    assert poisson_cdf(0, 1.0) == pytest.approx(0.367879, abs=1e-6)
    assert poisson_cdf(1, 1.0) == pytest.approx(0.735759, abs=1e-6)
    assert poisson_cdf(3, 1.0) == pytest.approx(0.981012, abs=1e-6)
    # lam = 10: P(X<=16) = 0.97296, P(X<=17) = 0.98572
    assert poisson_cdf(16, 10.0) == pytest.approx(0.972958, abs=1e-5)
    assert poisson_cdf(17, 10.0) == pytest.approx(0.985722, abs=1e-5)


@pytest.mark.parametrize(
    ("q", "lam", "expected"),
    [
        (0.025, 1.0, 0),  # P(X<=0) = 0.368
        (0.975, 1.0, 3),  # P(X<=2) = 0.920 < 0.975 <= P(X<=3) = 0.981
        (0.999, 1.0, 5),  # P(X<=4) = 0.99634 < 0.999 <= P(X<=5) = 0.99941
        (0.025, 10.0, 4),  # P(X<=3) = 0.0103 < 0.025 <= P(X<=4) = 0.0293
        (0.975, 10.0, 17),  # P(X<=16) = 0.9730 < 0.975 <= P(X<=17) = 0.9857
        (0.001, 10.0, 2),  # P(X<=1) = 0.0005 < 0.001 <= P(X<=2) = 0.0028
        (0.999, 10.0, 21),  # P(X<=20) = 0.9984 < 0.999 <= P(X<=21) = 0.9993
        (0.5, 0.0, 0),
    ],
)
def test_poisson_quantile_matches_hand_computed_values(q, lam, expected):
    assert poisson_quantile(q, lam) == expected


def test_poisson_limits_are_two_sided_and_work_for_large_volumes():
    assert poisson_limits(10.0, 0.95) == (4, 17)
    assert poisson_limits(10.0, 0.998) == (2, 21)
    # lam = 10,000: the normal approximation gives 10000 +/- 1.96 * 100.
    low, high = poisson_limits(10_000.0, 0.95)
    assert 9800 <= low <= 9806 and 10194 <= high <= 10200


# --- metrics ------------------------------------------------------------------------------------


def _sessions(listener, complainant, n):
    return [ListeningSessionFactory(listener=listener, complainant=complainant) for _ in range(n)]


@pytest.mark.django_db
def test_a_listener_far_above_the_platform_rate_is_flagged_and_typical_ones_are_not():
    # given: three listeners with 40 sessions and one complaint each, one with 10 sessions and 6 complaints
    complainant = UserFactory(roles=["complainant"])
    typical = [ListenerProfileFactory() for _ in range(3)]
    outlier = ListenerProfileFactory(code="L-OUT")
    for listener in typical:
        sessions = _sessions(listener, complainant, 40)
        file_complaint(complainant=complainant, session=sessions[0])
    for session in _sessions(outlier, complainant, 10)[:6]:
        file_complaint(complainant=complainant, session=session)

    # when
    rates = listener_complaint_rates(ALL_TIME)

    # then: platform rate 9 / 130 sessions; the outlier's expected count is 0.69, its 99.8 % upper limit 4
    assert rates["platform_rate"] == pytest.approx(1000 * 9 / 130, abs=0.01)
    by_code = {r["code"]: r for r in rates["listeners"]}
    assert by_code["L-OUT"]["rate"] == 600.0
    assert by_code["L-OUT"]["alarm_upper"] == 400.0
    assert by_code["L-OUT"]["flag"] == "alarm"
    assert all(by_code[listener.code]["flag"] == "" for listener in typical)
    assert rates["flagged"] == 1
    assert rates["listeners"][0]["code"] == "L-OUT"


@pytest.mark.django_db
def test_first_response_compliance_counts_on_time_late_and_unanswered_cases():
    now = timezone.now()
    on_time, late, unanswered, not_due = (file_complaint() for _ in range(4))
    Complaint.objects.filter(pk=on_time.pk).update(first_response_at=on_time.first_response_due - timedelta(hours=1))
    Complaint.objects.filter(pk=late.pk).update(first_response_at=late.first_response_due + timedelta(hours=1))
    Complaint.objects.filter(pk=unanswered.pk).update(first_response_due=now - timedelta(hours=1))

    result = first_response_compliance(ALL_TIME)

    assert (result["counted"], result["on_time"], result["late"], result["unanswered"]) == (3, 1, 1, 1)
    assert result["rate"] == pytest.approx(33.3)
    assert not_due.first_response_at is None


@pytest.mark.django_db
def test_median_hours_per_stage_come_from_the_timeline():
    first, second = file_complaint(), file_complaint()
    for complaint, hours in ((first, 2), (second, 4)):
        TimelineEvent.objects.create(
            complaint=complaint,
            kind=TimelineEvent.Kind.TRANSITION,
            from_state="submitted",
            to_state="triage",
            created_at=complaint.submitted_at + timedelta(hours=hours),
        )
    TimelineEvent.objects.create(
        complaint=first,
        kind=TimelineEvent.Kind.TRANSITION,
        from_state="triage",
        to_state="investigation",
        created_at=first.submitted_at + timedelta(hours=12),
    )

    stages = {s["key"]: s for s in stage_median_hours(ALL_TIME)}

    assert stages["submitted_triage"]["median_hours"] == 3.0
    assert stages["submitted_triage"]["count"] == 2
    assert stages["triage_outcome"]["median_hours"] == 10.0
    assert stages["evaluation_decided"]["median_hours"] is None


@pytest.mark.django_db
def test_the_period_filter_keeps_only_complaints_submitted_inside_it():
    inside, outside = file_complaint(), file_complaint()
    Complaint.objects.filter(pk=inside.pk).update(submitted_at=timezone.make_aware(timezone.datetime(2026, 3, 10)))
    Complaint.objects.filter(pk=outside.pk).update(submitted_at=timezone.make_aware(timezone.datetime(2025, 12, 31)))

    months = complaints_by_month(Period(start=date(2026, 1, 1), end=date(2026, 3, 31)))

    assert months == [
        {"key": "2026-01", "label": "2026-01", "count": 0},
        {"key": "2026-02", "label": "2026-02", "count": 0},
        {"key": "2026-03", "label": "2026-03", "count": 1},
    ]


@pytest.mark.django_db
def test_satisfaction_average_and_distribution():
    for score in (5, 4, 4, None):
        complaint = file_complaint()
        Complaint.objects.filter(pk=complaint.pk).update(satisfaction_score=score)

    result = satisfaction(ALL_TIME)

    assert result["average"] == pytest.approx(4.33, abs=0.01)
    assert result["responses"] == 3
    assert [r["count"] for r in result["distribution"]] == [0, 0, 0, 2, 1]


@pytest.mark.django_db
def test_confirmed_decisions_count_in_the_grade_distribution():
    complaint, lead = finalized("B", 1)
    decision = decision_draft(
        complaint=complaint,
        actor=lead,
        grade=Grade.objects.get(level=1),
        text_to_complainant="平台已向倾听师反馈。",
        text_to_listener="请加强倾听。",
    )
    decision = decision_submit(decision=decision, actor=lead)

    grades = grade_distribution(ALL_TIME)

    expected = 1 if decision.state in (DecisionState.APPROVED, DecisionState.NOTIFIED) else 0
    assert sum(g["count"] for g in grades if g["key"] == 1) == expected


@pytest.mark.django_db
def test_overdue_items_are_grouped_by_owner():
    owner = UserFactory(roles=["consultant"], display_name="顾问甲")
    complaint = file_complaint()
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Complaint)
    now = timezone.now()
    for i, (state, closed) in enumerate([("breached", None), ("breached", None), ("breached", now), ("open", None)]):
        Deadline.objects.create(
            subject_type=ct,
            subject_id=complaint.pk + 1000 + i,
            label=complaint.reference,
            kind=DeadlineKind.choices[0][0],
            owner=owner,
            starts_at=now - timedelta(days=3),
            due_at=now - timedelta(days=1),
            remind_at=now - timedelta(days=2),
            state=state,
            closed_at=closed,
        )

    overdue = [r for r in dashboard_metrics(ALL_TIME)["overdue"] if r["owner_id"] == owner.pk]

    assert overdue == [{"owner_id": owner.pk, "owner": "顾问甲", "team": "", "count": 2}]


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["consultant", "reviewer", "listener", "complainant"])
def test_only_supervisors_may_open_the_dashboard_and_exports(client_for, role):
    client, _user = client_for(role)

    assert client.get(URL).status_code == 403
    assert client.get(EXPORT, {"report": "by_state"}).status_code == 403


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


@pytest.mark.django_db
def test_the_dashboard_renders_charts_tables_and_freshness_within_the_query_budget(
    client_for, django_assert_max_num_queries
):
    for _ in range(3):
        file_complaint()
    client, _user = client_for("supervisor")

    with django_assert_max_num_queries(25):
        response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "数据更新于" in html
    assert 'id="dashboard-data" type="application/json"' in html
    assert "vendor/echarts-5.6.0/echarts.min.js" in html
    assert "js/dashboard.js" in html
    for chart in (
        "by_month",
        "by_category",
        "by_state",
        "by_channel",
        "stages",
        "grades",
        "causes",
        "satisfaction",
        "funnel",
    ):
        assert f'data-chart="{chart}"' in html
    assert 'data-testid="table-by_state"' in html
    assert "<script>" not in html  # nothing inline for the CSP to refuse
    assert response.context["data"]["total"] == 3
    assert REAL_NAME not in html and VALID_PHONE not in html and VALID_ID not in html


@pytest.mark.django_db
def test_the_second_view_is_served_from_the_cache_with_the_same_freshness(
    client_for, django_assert_max_num_queries, settings
):
    # A private in-memory cache: test runs side by side flush the shared Redis at any moment.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    file_complaint()
    client, _user = client_for("supervisor")
    first = client.get(URL)
    file_complaint()

    with django_assert_max_num_queries(8):
        second = client.get(URL)

    assert second.context["computed_at"] == first.context["computed_at"]
    assert second.context["data"]["total"] == 1


@pytest.mark.django_db
def test_the_dashboard_computed_afresh_stays_within_the_query_budget(
    client_for, django_assert_max_num_queries, settings
):
    # given: an empty private cache, so every aggregate is computed in this request
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    complainant = UserFactory(roles=["complainant"])
    for listener in (ListenerProfileFactory(), ListenerProfileFactory()):
        for session in _sessions(listener, complainant, 3)[:2]:
            file_complaint(complainant=complainant, session=session)
    client, _user = client_for("supervisor")
    cache.clear()

    # when
    with django_assert_max_num_queries(25) as captured:
        response = client.get(URL)

    # then: the figures were computed now, over every complaint and listener
    assert response.status_code == 200
    assert any("GROUPING SETS" in q["sql"] for q in captured.captured_queries)
    assert response.context["data"]["total"] == 4
    assert len(response.context["data"]["listeners"]["listeners"]) == 2


@pytest.mark.django_db
def test_months_are_counted_in_local_time_over_the_data_of_any_period(settings):
    # given: 16:30 UTC on 31 January is already 1 February in Shanghai
    settings.TIME_ZONE = "Asia/Shanghai"
    late_january, early_march = file_complaint(), file_complaint()
    Complaint.objects.filter(pk=late_january.pk).update(submitted_at=datetime(2026, 1, 31, 16, 30, tzinfo=UTC))
    Complaint.objects.filter(pk=early_march.pk).update(submitted_at=datetime(2026, 3, 1, 1, 0, tzinfo=UTC))

    # when
    open_ended = complaints_by_month(ALL_TIME)
    from_february = complaints_by_month(Period(start=date(2026, 2, 1)))
    first_quarter = complaints_by_month(Period(start=date(2026, 1, 1), end=date(2026, 3, 31)))

    # then
    assert open_ended == [
        {"key": "2026-02", "label": "2026-02", "count": 1},
        {"key": "2026-03", "label": "2026-03", "count": 1},
    ]
    assert from_february == open_ended
    assert first_quarter == [{"key": "2026-01", "label": "2026-01", "count": 0}, *open_ended]


@pytest.mark.django_db
def test_months_without_complaints_are_counted_as_zero_so_the_line_does_not_skip_them():
    # given: complaints in January and April, none in between
    for when in (datetime(2026, 1, 10, 4, tzinfo=UTC), datetime(2026, 4, 10, 4, tzinfo=UTC)):
        complaint = file_complaint()
        Complaint.objects.filter(pk=complaint.pk).update(submitted_at=when)

    # when
    months = complaints_by_month(ALL_TIME)

    # then
    assert [(m["key"], m["count"]) for m in months] == [("2026-01", 1), ("2026-02", 0), ("2026-03", 0), ("2026-04", 1)]


@pytest.mark.django_db
def test_a_period_reaching_into_the_future_stops_at_the_current_month():
    file_complaint()
    today = timezone.localdate()

    months = complaints_by_month(Period(start=today.replace(day=1), end=date(today.year + 1, 12, 31)))

    assert months == [{"key": today.strftime("%Y-%m"), "label": today.strftime("%Y-%m"), "count": 1}]


@pytest.mark.django_db
def test_the_last_representable_day_does_not_overflow():
    file_complaint()

    data = dashboard_metrics(Period(end=date.max))

    assert data["total"] == 1


@pytest.mark.django_db
def test_a_period_without_complaints_gives_empty_figures():
    data = dashboard_metrics(Period(start=date(2020, 1, 1), end=date(2020, 1, 31)))

    assert data["total"] == 0
    assert data["by_month"] == [{"key": "2020-01", "label": "2020-01", "count": 0}]
    assert data["causes"] == {"evaluated": 0, "rows": []}
    assert data["first_response"] == {"counted": 0, "on_time": 0, "late": 0, "unanswered": 0, "rate": None}
    assert data["satisfaction"]["average"] is None


@pytest.mark.django_db
def test_a_period_from_the_form_filters_the_figures(client_for):
    complaint = file_complaint()
    Complaint.objects.filter(pk=complaint.pk).update(submitted_at=timezone.make_aware(timezone.datetime(2025, 6, 1)))
    client, _user = client_for("supervisor")

    response = client.get(URL, {"from": "2025-06-01", "to": "2025-06-30"})
    elsewhere = client.get(URL, {"from": "2025-07-01", "to": "2025-07-31"})

    assert response.context["data"]["total"] == 1
    assert elsewhere.context["data"]["total"] == 0


@pytest.mark.django_db
def test_an_inverted_period_shows_an_error_and_falls_back_to_the_default(client_for):
    client, _user = client_for("supervisor")

    response = client.get(URL, {"from": "2026-05-01", "to": "2026-01-01"})

    assert response.status_code == 200
    assert "起始日期不能晚于截止日期。" in response.content.decode()


# --- CSV exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised(prefix):
    assert neutralise(f'{prefix}HYPERLINK("http://x")') == f'\'{prefix}HYPERLINK("http://x")'


def test_ordinary_cells_are_left_alone():
    assert neutralise("L00012") == "L00012"
    assert neutralise(12) == "12"
    assert neutralise(None) == ""


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_the_listener_export_is_de_identified_and_neutralises_formula_codes(client_for):
    # given: a listener whose code a spreadsheet would read as a formula
    listener = ListenerProfileFactory(code="=cmd|' /C calc'!A0", display_name="倾听师王某")
    complainant = UserFactory(roles=["complainant"], email="zhang@example.cn", display_name="张先生")
    file_complaint(complainant=complainant, session=ListeningSessionFactory(listener=listener, complainant=complainant))
    client, _user = client_for("supervisor")

    # when
    response = client.get(EXPORT, {"report": "listeners"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows[0][0] == "倾听师编号"
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    text = response.content.decode("utf-8-sig")
    for personal in (REAL_NAME, VALID_ID, VALID_PHONE, "zhang@example.cn", "张先生", "倾听师王某", listener.user.email):
        assert personal not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "report",
    [
        "by_month",
        "by_category",
        "by_state",
        "by_channel",
        "first_response",
        "stages",
        "grades",
        "satisfaction",
        "overdue",
        "causes",
        "listeners",
    ],
)
def test_every_report_exports_without_personal_data(client_for, report):
    file_complaint()
    client, user = client_for("supervisor")

    response = client.get(EXPORT, {"report": report})

    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert len(_csv(response)) >= 1
    for personal in (REAL_NAME, VALID_ID, VALID_PHONE, user.email):
        assert personal not in text


@pytest.mark.django_db
def test_an_unknown_report_is_not_found(client_for):
    client, _user = client_for("supervisor")

    assert client.get(EXPORT, {"report": "users"}).status_code == 404


def test_the_urls_are_named():
    assert reverse("supervision_dashboard:dashboard") == URL
    assert reverse("supervision_dashboard:export") == EXPORT


# --- top causes ---------------------------------------------------------------------------------


def _final_evaluation(complaint, *, outcome="B", submitted=True, **findings):
    return Evaluation.objects.create(
        complaint=complaint,
        reviewer=UserFactory(roles=["reviewer"]),
        is_final=True,
        outcome=outcome,
        submitted_at=timezone.now() if submitted else None,
        **{f"finding_{name}": True for name in findings},
    )


@pytest.fixture
def evaluated_complaints():
    """Five complaints with final evaluations, one still being evaluated, one never evaluated."""
    for _ in range(2):
        _final_evaluation(file_complaint(category="professional_competence"), competence_gap=True, subjective_harm=True)
    _final_evaluation(file_complaint(category="professional_competence"), competence_gap=True)
    _final_evaluation(file_complaint(category="ethics"), inducing_orders=True)
    _final_evaluation(file_complaint(category="call_quality"), outcome="A")
    _final_evaluation(file_complaint(category="ethics"), illegality=True, submitted=False)
    file_complaint(category="order_anomaly")


@pytest.mark.django_db
def test_top_causes_pair_the_category_with_the_final_findings_most_frequent_first(evaluated_complaints):
    causes = top_causes(ALL_TIME)

    assert causes["evaluated"] == 5
    assert [(r["rank"], r["category"], r["finding"], r["count"]) for r in causes["rows"]] == [
        (1, "professional_competence", "competence_gap", 3),
        (2, "professional_competence", "subjective_harm", 2),
        (3, "ethics", "inducing_orders", 1),
        (4, "call_quality", "none", 1),
    ]
    assert causes["rows"][0]["label"] == "专业能力 · 专业胜任力不足"
    assert causes["rows"][0]["share"] == 60.0
    assert causes["rows"][3]["finding_label"] == "未发现明确不足"


@pytest.mark.django_db
def test_a_shortcoming_without_a_ticked_finding_counts_as_another_shortcoming():
    _final_evaluation(file_complaint(category="other"), outcome="B")

    rows = top_causes(ALL_TIME)["rows"]

    assert [(r["category"], r["finding"], r["finding_label"]) for r in rows] == [("other", "other", "其他不足")]


@pytest.mark.django_db
def test_a_reconciled_evaluation_gives_the_cause_of_its_complaint():
    complaint, _lead = finalized("B", 2)

    rows = top_causes(ALL_TIME)["rows"]

    assert {(r["category"], r["finding"]) for r in rows} == {
        (complaint.category, "competence_gap"),
        (complaint.category, "subjective_harm"),
    }


@pytest.mark.django_db
def test_the_page_ranks_the_causes_in_a_chart_and_a_table(client_for, evaluated_complaints):
    client, _user = client_for("supervisor")

    response = client.get(URL)

    html = response.content.decode()
    assert 'data-chart="causes"' in html
    assert 'data-testid="table-causes"' in html
    assert "专业胜任力不足" in html
    assert response.context["charts"]["causes"]["labels"][0] == "专业能力 · 专业胜任力不足"
    assert response.context["charts"]["causes"]["values"] == [3, 2, 1, 1]
    assert response.context["not_evaluated"] == 2


@pytest.mark.django_db
def test_the_causes_export_is_ranked_and_de_identified(client_for, evaluated_complaints):
    client, user = client_for("supervisor")

    response = client.get(EXPORT, {"report": "causes"})

    assert response.status_code == 200
    rows = _csv(response)
    assert rows[0][:5] == ["排名", "投诉类别", "类别代码", "评估认定", "认定代码"]
    assert rows[1] == ["1", "专业能力", "professional_competence", "专业胜任力不足", "competence_gap", "3", "60.0"]
    assert len(rows) == 5
    text = response.content.decode("utf-8-sig")
    for personal in (REAL_NAME, VALID_ID, VALID_PHONE, user.email):
        assert personal not in text


# --- below the lower limit -------------------------------------------------------------------


@pytest.fixture
def a_listener_below_the_lower_limit():
    # 60 sessions without a complaint against a platform rate of 6 / 80: expected 4.5, the 95 % lower
    # limit 1 (P(X = 0) = 0.011 < 0.025); the two others (expected 0.75, 3 complaints) stay inside.
    complainant = UserFactory(roles=["complainant"])
    _sessions(ListenerProfileFactory(code="L-LOW"), complainant, 60)
    for _ in range(2):
        for session in _sessions(ListenerProfileFactory(), complainant, 10)[:3]:
            file_complaint(complainant=complainant, session=session)


@pytest.mark.django_db
def test_a_listener_well_below_the_platform_rate_is_marked_below_the_lower_limit(a_listener_below_the_lower_limit):
    rates = listener_complaint_rates(ALL_TIME)

    by_code = {r["code"]: r for r in rates["listeners"]}
    assert by_code["L-LOW"]["warning_lower"] == pytest.approx(1000 / 60, abs=0.01)
    assert by_code["L-LOW"]["flag"] == "below"
    assert [r["flag"] for r in rates["listeners"] if r["code"] != "L-LOW"] == ["", ""]
    assert (rates["flagged"], rates["below"]) == (0, 1)
    assert all("warning_lower" in p for p in rates["funnel"])


@pytest.mark.django_db
def test_below_the_lower_limit_shows_on_the_page_and_in_the_export_alike(client_for, a_listener_below_the_lower_limit):
    client, _user = client_for("supervisor")

    page = client.get(URL)
    export = client.get(EXPORT, {"report": "listeners"})

    html = page.content.decode()
    row = html[html.index('data-testid="listener-L-LOW"') :].split("</tr>")[0]
    assert "低于下限" in row
    assert [60, 0.0, "L-LOW", "below"] in page.context["charts"]["funnel"]["points"]
    rows = _csv(export)
    assert "95% 下限" in rows[0]
    low = next(r for r in rows if r[0] == "L-LOW")
    assert low[rows[0].index("标记")] == "低于下限"
    assert low[rows[0].index("95% 下限")] == "16.67"


# --- who may see it, and bad periods -------------------------------------------------------------


@pytest.mark.django_db
def test_a_superuser_may_open_the_dashboard_and_exports_as_on_the_other_supervision_pages(make_user):
    client = signed_in_client(make_user(is_superuser=True, is_staff=True))

    assert client.get(URL).status_code == 200
    assert client.get(EXPORT, {"report": "by_state"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{"to": "9999-12-31"}, {"from": "9999-12-01"}, {"from": "0001-01-01"}, {"from": "1999-12-31", "to": "2026-01-01"}],
)
def test_a_period_outside_the_allowed_range_shows_an_error_not_a_server_error(client_for, params):
    file_complaint()
    client, _user = client_for("supervisor")

    response = client.get(URL, params)

    assert response.status_code == 200
    html = response.content.decode()
    assert "日期须在 2000-01-01 至" in html
    assert 'data-testid="period-fallback"' in html
    assert response.context["data"]["total"] == 1  # the last 12 months, as said on the page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"to": "9999-12-31"}, "日期须在 2000-01-01 至"),
        ({"from": "0001-01-01", "to": "2026-01-01"}, "日期须在 2000-01-01 至"),
        ({"from": "2026-05-01", "to": "2026-01-01"}, "起始日期不能晚于截止日期。"),
        ({"from": "not-a-date"}, "日期"),
    ],
)
def test_an_export_of_a_bad_period_is_refused_with_the_reason(client_for, params, message):
    client, _user = client_for("supervisor")

    response = client.get(EXPORT, {"report": "by_month", **params})

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_the_latest_allowed_day_is_a_year_ahead(client_for):
    client, _user = client_for("supervisor")
    latest = latest_date()

    allowed = client.get(EXPORT, {"report": "by_month", "to": latest.isoformat()})
    refused = client.get(EXPORT, {"report": "by_month", "to": (latest + timedelta(days=1)).isoformat()})

    assert allowed.status_code == 200
    assert refused.status_code == 400
