"""The decision page beside the form: the four dimensions, demands against remedies, the listener's history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints.models import Complaint
from evaluations.history import demands_vs_remedies
from evaluations.models import Grade, ListenerTask
from evaluations.services import decision_draft
from interviews.models import CompetencyInterview
from listeners.holds import hold_place
from listeners.models import HoldEnd, ListenerStatus

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE
from ..conftest import signed_in_client
from ..factories import ListeningSessionFactory, UserFactory
from .helpers import finalized

TEXTS = {
    "text_to_complainant": "经调查，平台向您致歉并部分退款。",
    "text_to_listener": "请完成以下任务。",
}


def decision_url(complaint: Complaint) -> str:
    return f"/review/{complaint.reference}/decision/"


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def case_about(listener, **kwargs):
    """A finalized case about ``listener`` filed by a new complainant."""
    session = ListeningSessionFactory(listener=listener)
    return finalized("B", 2, complainant=session.complainant, session=session, **kwargs)


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor")


def with_history(listener, supervisor, n: int) -> list[Complaint]:
    """``n`` earlier graded cases about the listener, each with a hold, an open task and an interview."""
    earlier = []
    for k in range(n):
        complaint, lead = case_about(listener)
        decision = decision_draft(
            complaint=complaint, actor=lead, grade=Grade.objects.get(level=2), refund_amount=Decimal("40"), **TEXTS
        )
        hold_place(
            listener=listener, effect=ListenerStatus.HIDDEN, ends=HoldEnd.MANUAL, reason=f"第{k}次整改",
            actor=supervisor, source=complaint,
        )  # fmt: skip
        ListenerTask.objects.create(
            decision=decision,
            listener=listener,
            kind="continued_learning",
            description="学习课程",
            due_at=timezone.now() + timedelta(days=10 + k),
            case_reference=complaint.reference,
        )
        CompetencyInterview.objects.create(
            listener=listener, complaint=complaint, reason=f"第{k}次面试", requested_by=supervisor
        )
        Complaint.objects.filter(pk=complaint.pk).update(submitted_at=timezone.now() - timedelta(days=60 - k))
        earlier.append(complaint)
    return earlier


def test_the_final_evaluations_four_dimensions_are_shown_with_their_reasons(db):
    complaint, lead = finalized("B", 2)

    html = section(signed_in_client(lead).get(decision_url(complaint)).content.decode(), "evaluation-card")

    for label, reason in [
        ("投诉是否属实", "录音显示倾听师多次打断用户。"),
        ("诉求是否合理", "道歉合理，全额退款过高。"),
        ("查实的情形", "共情不足，对用户造成伤害。"),
        ("倾诉中的觉察", "事后经提示才觉察，陈述中有反思。"),
    ]:
        assert label in html and reason in html
    assert "属实且有证据" in html and "部分合理" in html and "专业胜任力不足" in html
    assert "2 · 事后经提示才觉察" in html and "3 · 部分觉察" in html


def test_demands_are_set_against_the_grades_default_remedies_in_the_form(db):
    complaint, lead = finalized(
        "B", 2, demands=["refund", "apology", "explanation", "listener_handling"], demands_other="希望平台回访"
    )

    html = section(signed_in_client(lead).get(decision_url(complaint)).content.decode(), "demands-vs-remedies")

    # Grade 2 defaults: apology and a partial refund, four measures.
    assert "表单中当前选择的" in html
    apology = html[html.index("<td>道歉") :].split("</tr>")[0]
    refund = html[html.index("<td>退款") :].split("</tr>")[0]
    explanation = html[html.index("<td>解释说明") :].split("</tr>")[0]
    handling = html[html.index("<td>对倾听师进行处理") :].split("</tr>")[0]
    other = html[html.index("<td>其他") :].split("</tr>")[0]
    assert "已回应" in apology
    assert "部分回应" in refund and "部分退款" in refund
    assert "未回应" in explanation
    assert "已回应" in handling and "接受督导" in handling
    assert "须人工判断" in other and "希望平台回访" in other


def test_the_comparison_follows_a_chosen_grade_and_names_remedies_nobody_asked_for(db):
    complaint, lead = finalized("B", 2, demands=["refund"])
    grade_3 = Grade.objects.get(level=3)

    html = section(
        signed_in_client(lead).get(f"{decision_url(complaint)}?grade={grade_3.pk}").content.decode(),
        "demands-vs-remedies",
    )

    refund = html[html.index("<td>退款") :].split("</tr>")[0]
    assert "已回应" in refund and "全额退款" in refund
    unasked = section(html + "</section>", "unasked")
    assert "道歉" in unasked and "补偿" in unasked


def test_a_saved_decision_is_compared_once_the_form_is_gone(db, supervisor):
    complaint, lead = finalized("B", 2, demands=["explanation"])
    decision_draft(
        complaint=complaint,
        actor=lead,
        grade=Grade.objects.get(level=2),
        remedies=["apology", "explanation"],
        adjustment_reason="用户要求解释",
        **TEXTS,
    )

    html = section(signed_in_client(supervisor).get(decision_url(complaint)).content.decode(), "demands-vs-remedies")

    explanation = html[html.index("<td>解释说明") :].split("</tr>")[0]
    assert "已回应" in explanation


def test_the_listeners_history_lists_earlier_grades_holds_open_tasks_and_interviews(db, supervisor):
    complaint, lead = finalized("B", 2)
    earlier = with_history(complaint.listener, supervisor, 2)
    Complaint.objects.filter(pk=complaint.pk).update(submitted_at=timezone.now())
    later, _later_lead = case_about(complaint.listener)  # filed after this one: not "earlier"

    html = section(signed_in_client(lead).get(decision_url(complaint)).content.decode(), "listener-history")

    assert complaint.listener.code in html and "已隐藏" in html
    for case in earlier:
        assert case.reference in html
    assert html.count("2 · 明显胜任力不足或轻微伦理问题") == 2
    assert "第0次整改" in html and "第1次整改" in html
    assert html.count("继续学习 · 待完成") == 2
    assert html.count("已提出") == 2
    assert later.reference not in html
    assert f"<td>{complaint.reference}</td>" not in html


def test_a_listener_without_history_is_said_to_have_none(db):
    complaint, lead = finalized("B", 2)

    html = section(signed_in_client(lead).get(decision_url(complaint)).content.decode(), "listener-history")

    for empty in ("此前没有投诉", "没有正在执行的限制", "没有未完成的任务", "没有面试记录"):
        assert empty in html


def test_the_decision_page_shows_no_complainants_identity_nor_other_complainants_data(db, supervisor):
    complainant = UserFactory(roles=["complainant"], display_name="投诉人昵称乙")
    session = ListeningSessionFactory(complainant=complainant)
    complaint, lead = finalized("B", 2, complainant=complainant, session=session)
    earlier = with_history(complaint.listener, supervisor, 1)[0]
    Complaint.objects.filter(pk=complaint.pk).update(submitted_at=timezone.now())

    html = signed_in_client(lead).get(decision_url(complaint)).content.decode()

    for clear in (REAL_NAME, VALID_ID, VALID_PHONE, complainant.email, "投诉人昵称乙"):
        assert clear not in html
    other = earlier.complainant
    for clear in (other.email, other.display_name, earlier.masked_phone, earlier.content):
        assert clear not in html


def test_the_decision_page_costs_the_same_queries_however_long_the_listeners_history(
    db, supervisor, django_assert_max_num_queries
):
    short, short_lead = finalized("B", 2)
    with_history(short.listener, supervisor, 1)
    Complaint.objects.filter(pk=short.pk).update(submitted_at=timezone.now())
    long, long_lead = finalized("B", 2)
    with_history(long.listener, supervisor, 5)
    Complaint.objects.filter(pk=long.pk).update(submitted_at=timezone.now())
    short_client, long_client = signed_in_client(short_lead), signed_in_client(long_lead)
    short_client.get(decision_url(short))  # warm caches (content types, grades)
    long_client.get(decision_url(long))

    with django_assert_max_num_queries(60) as plain:
        short_client.get(decision_url(short))
    with django_assert_max_num_queries(len(plain.captured_queries)):
        response = long_client.get(decision_url(long))

    assert section(response.content.decode(), "listener-history").count("继续学习 · 待完成") == 5


def test_demands_vs_remedies_without_any_remedy_chosen_marks_every_demand_unanswered(db):
    complaint, _lead = finalized("B", 2, demands=["refund", "apology"])

    result = demands_vs_remedies(complaint, remedies=[], measures=[], chosen_from="")

    assert [row.status for row in result.rows] == ["not_met", "not_met"]
    assert result.unasked == []


def test_a_refused_draft_is_compared_as_posted(db):
    complaint, lead = finalized("B", 2, demands=["refund", "explanation"])
    grade = Grade.objects.get(level=2)

    response = signed_in_client(lead).post(
        decision_url(complaint),
        {"grade": grade.pk, "measures": grade.measures, "remedies": ["explanation"], **TEXTS},
    )  # changed the defaults without a reason: refused, shown again

    html = section(response.content.decode(), "demands-vs-remedies")
    assert response.status_code == 200
    assert "已回应" in html[html.index("<td>解释说明") :].split("</tr>")[0]
    assert "未回应" in html[html.index("<td>退款") :].split("</tr>")[0]


def test_the_decision_page_shows_not_even_the_masked_identity(db):
    complaint, lead = finalized("B", 2)

    html = signed_in_client(lead).get(decision_url(complaint)).content.decode()

    for masked in (complaint.masked_real_name, complaint.masked_id_number, complaint.masked_phone):
        assert masked not in html
