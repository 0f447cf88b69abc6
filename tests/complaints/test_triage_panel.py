"""The triage page's panel: the facts a consultant decides on, and nothing of anyone else."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints.models import Complaint
from core.templatetags.highlight import highlight_terms
from listeners.holds import hold_place
from listeners.models import Channel, HoldEnd, ListenerStatus

from ..conftest import signed_in_client
from ..factories import ListeningSessionFactory, UserFactory
from .helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint

CHANGELIST = "/admin/complaints/complaint/"


def change_url(complaint: Complaint) -> str:
    return f"{CHANGELIST}{complaint.pk}/change/"


def panel(response) -> str:
    html = response.content.decode()
    start = html.index('data-testid="triage-panel"')
    return html[start : html.index("</fieldset>", start)]


@pytest.fixture
def consultant_client(make_user):
    return signed_in_client(make_user("consultant"))


def earlier_complaints(complainant, n: int, days_ago: int = 30) -> list[Complaint]:
    made = []
    for k in range(n):
        complaint = file_complaint(complainant=complainant)
        Complaint.objects.filter(pk=complaint.pk).update(submitted_at=timezone.now() - timedelta(days=days_ago + k))
        made.append(complaint)
    return made


def someone_elses_complaint(listener, **kwargs) -> Complaint:
    session = ListeningSessionFactory(listener=listener)
    return file_complaint(complainant=session.complainant, session=session, **kwargs)


def test_the_panel_shows_the_sessions_facts_in_beijing_time(consultant_client):
    session = ListeningSessionFactory(
        channel=Channel.TEXT,
        started_at=datetime(2026, 3, 2, 14, 5, tzinfo=UTC),  # 22:05 in Beijing
        duration_minutes=45,
        amount=Decimal("128.00"),
        rating=2,
    )
    complaint = file_complaint(complainant=session.complainant, session=session)

    html = panel(consultant_client.get(change_url(complaint)))

    assert session.order_no in html
    assert "文字" in html
    assert "北京时间 2026-03-02 22:05–22:50" in html
    assert "45 分钟" in html and "128.00 元" in html
    assert "用户评分 2/5" in html


def test_an_unrated_session_says_so(consultant_client):
    session = ListeningSessionFactory(rating=None)
    complaint = file_complaint(complainant=session.complainant, session=session)

    assert "用户未评分" in panel(consultant_client.get(change_url(complaint)))


def test_the_listener_shows_the_status_their_active_holds_make(consultant_client, make_user):
    complaint = file_complaint()
    listener = complaint.listener
    supervisor = make_user("supervisor")
    hold_place(
        listener=listener, effect=ListenerStatus.HIDDEN, ends=HoldEnd.MANUAL, reason="主页待整改", actor=supervisor
    )

    html = panel(consultant_client.get(change_url(complaint)))

    assert listener.code in html
    assert "已隐藏" in html and "主页待整改" in html
    assert "1 项限制在执行" in html


def test_an_unrestricted_listener_is_shown_as_taking_orders(consultant_client):
    complaint = file_complaint()

    html = panel(consultant_client.get(change_url(complaint)))

    assert "正常接单" in html and "限制在执行" not in html


def test_earlier_complaints_of_the_same_complainant_are_counted_and_linked(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    earlier = earlier_complaints(complainant, 3)
    current = file_complaint(complainant=complainant)
    stranger = someone_elses_complaint(current.listener)

    html = panel(consultant_client.get(change_url(current)))

    assert "该投诉人此前有 3 件投诉" in html
    for complaint in earlier:
        assert f'href="{change_url(complaint)}"' in html and complaint.reference in html
    assert current.reference not in html
    assert stranger.reference not in html and change_url(stranger) not in html


def test_a_first_complaint_says_there_is_none_before_it(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    first = file_complaint(complainant=complainant)
    file_complaint(complainant=complainant)  # a later one is not "earlier"

    assert "该投诉人此前没有投诉" in panel(consultant_client.get(change_url(first)))


def test_the_crisis_text_is_shown_with_its_terms_marked(consultant_client):
    complaint = file_complaint(content="通话之后我觉得<b>活不下去</b>了。")

    html = panel(consultant_client.get(change_url(complaint)))

    assert complaint.crisis
    assert '<mark class="crisis-term">活不下去</mark>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # the complaint's own text stays escaped


def test_a_case_without_crisis_shows_no_crisis_text(consultant_client):
    complaint = file_complaint(content="倾听师迟到了十分钟。")

    html = panel(consultant_client.get(change_url(complaint)))

    assert not complaint.crisis
    assert "<mark" not in html and 'data-testid="crisis-source"' not in html


def test_the_panel_never_shows_the_complainants_identity(consultant_client):
    complainant = UserFactory(roles=["complainant"], display_name="投诉人昵称甲")
    earlier_complaints(complainant, 1)
    complaint = file_complaint(complainant=complainant)

    page = consultant_client.get(change_url(complaint)).content.decode()
    html = panel(consultant_client.get(change_url(complaint)))

    for clear in (REAL_NAME, VALID_ID, VALID_PHONE, complainant.email, "投诉人昵称甲"):
        assert clear not in html
    for clear in (REAL_NAME, VALID_ID, VALID_PHONE):
        assert clear not in page


def test_the_page_costs_the_same_queries_however_long_the_history(
    consultant_client, make_user, django_assert_max_num_queries
):
    supervisor = make_user("supervisor")
    short_complainant, long_complainant = UserFactory(roles=["complainant"]), UserFactory(roles=["complainant"])
    earlier_complaints(short_complainant, 1)
    short = file_complaint(complainant=short_complainant)
    earlier_complaints(long_complainant, 8)
    long = file_complaint(complainant=long_complainant, content="我真的活不下去了。")
    for k in range(3):
        other_source = someone_elses_complaint(long.listener)
        hold_place(
            listener=long.listener, effect=ListenerStatus.SUSPENDED, ends=HoldEnd.MANUAL, reason=f"第{k}项",
            actor=supervisor, source=other_source,
        )  # fmt: skip
    consultant_client.get(change_url(short))  # warm caches (content types, permissions)

    with django_assert_max_num_queries(60) as plain:
        consultant_client.get(change_url(short))
    with django_assert_max_num_queries(len(plain.captured_queries)):
        response = consultant_client.get(change_url(long))

    assert "该投诉人此前有 8 件投诉" in panel(response)
    assert "3 项限制在执行" in panel(response)


def test_highlighting_marks_every_occurrence_longest_term_first_and_escapes_the_rest():
    html = highlight_terms("A<x> 不想活了，真的不想活了\nabc", ["不想活", "不想活了", "ABC", ""])

    assert html.count('<mark class="crisis-term">不想活了</mark>') == 2
    assert "不想活</mark>" not in html
    assert '<mark class="crisis-term">abc</mark>' in html
    assert "A&lt;x&gt;" in html and "<br>" in html


def test_highlighting_without_terms_only_escapes():
    assert "<mark" not in highlight_terms("<i>x</i>", [])
    assert "&lt;i&gt;" in highlight_terms("<i>x</i>", None)


def test_a_reviewer_gets_the_count_but_no_link_to_earlier_complaints_they_are_not_on(make_user):
    from complaints.services import complaint_escalate, complaint_start_triage

    consultant, reviewer = make_user("consultant"), make_user("reviewer")
    complainant = UserFactory(roles=["complainant"])
    earlier = earlier_complaints(complainant, 2)
    current = file_complaint(complainant=complainant)
    complaint_start_triage(complaint=current, actor=consultant)
    complaint_escalate(complaint=Complaint.objects.get(pk=current.pk), actor=consultant, reviewer=reviewer)

    html = panel(signed_in_client(reviewer).get(change_url(current)))

    assert "该投诉人此前有 2 件投诉" in html
    assert html.count('data-testid="earlier-hidden"') == 2
    for complaint in earlier:
        assert complaint.reference not in html and change_url(complaint) not in html
