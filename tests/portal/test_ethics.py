"""A listener reads the ethics decisions about them, and nothing of the investigation or of others."""

import pytest

from accounts.roles import Role
from core.models import Notification
from evaluations.models import Grade
from listeners.models import ListenerStatus
from supervision.models import EthicsSource
from supervision.services import (
    ethics_case_decide,
    ethics_case_open,
    ethics_case_record_evaluation,
    ethics_case_start_investigating,
)

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory

pytestmark = pytest.mark.django_db


def decided_case(listener, supervisor, text):
    case = ethics_case_open(
        listener=listener,
        source=EthicsSource.SUPERVISOR_OBSERVATION,
        summary="督导旁听发现：向用户宣泄个人情绪（内部摘要）",
        actor=supervisor,
    )
    case = ethics_case_start_investigating(case=case, actor=supervisor)
    case = ethics_case_record_evaluation(
        case=case, actor=supervisor, evaluation_summary="评估意见（内部）", grade=Grade.objects.get(level=1)
    )
    return ethics_case_decide(case=case, actor=supervisor, text_to_listener=text)


def test_the_listener_reads_their_decision_and_tasks_but_not_the_investigation(
    make_user, django_assert_max_num_queries
):
    supervisor = make_user(Role.SUPERVISOR)
    mine = ListenerProfileFactory(status=ListenerStatus.ACTIVE)
    other = ListenerProfileFactory(status=ListenerStatus.ACTIVE)
    case = decided_case(mine, supervisor, "请阅读反馈并继续学习。")
    other_case = decided_case(other, supervisor, "给另一位倾听师的说明")
    undecided = ethics_case_open(
        listener=mine, source=EthicsSource.SUPERVISOR_OBSERVATION, summary="尚在调查", actor=supervisor
    )
    client = signed_in_client(mine.user)

    with django_assert_max_num_queries(12):
        page = client.get("/portal/ethics/")
    tasks_page = client.get("/portal/tasks/").content.decode()

    body = page.content.decode()
    assert page.status_code == 200
    assert case.reference in body and "请阅读反馈并继续学习。" in body and "书面反馈" in body
    assert "内部摘要" not in body and "评估意见（内部）" not in body
    assert other_case.reference not in body and "给另一位倾听师的说明" not in body
    assert undecided.reference not in body
    assert f"/portal/ethics/#{case.reference}" in tasks_page


def test_only_listeners_have_the_page(make_user):
    assert signed_in_client(make_user(Role.COMPLAINANT)).get("/portal/ethics/").status_code == 403
    assert signed_in_client(make_user(Role.SUPERVISOR)).get("/portal/ethics/").status_code == 403


def test_the_listener_answers_the_decision_once_and_supervisors_are_told(make_user):
    supervisor = make_user(Role.SUPERVISOR)
    mine = ListenerProfileFactory(status=ListenerStatus.ACTIVE)
    case = decided_case(mine, supervisor, "请阅读反馈")
    client = signed_in_client(mine.user)

    no_reason = client.post("/portal/ethics/", {"case": case.pk, f"c{case.pk}-response": "disagrees"})
    tampered = client.post("/portal/ethics/", {"case": "x", f"c{case.pk}-response": "agrees"})
    done = client.post(
        "/portal/ethics/",
        {"case": case.pk, f"c{case.pk}-response": "disagrees", f"c{case.pk}-reason": "当时用户主动要求加时"},
        follow=True,
    )
    again = client.post("/portal/ethics/", {"case": case.pk, f"c{case.pk}-response": "agrees"}, follow=True)

    assert no_reason.status_code == 200 and "不同意时请写明理由" in no_reason.content.decode()
    assert tampered.status_code == 404
    case.refresh_from_db()
    assert case.listener_response == "disagrees" and case.listener_response_reason == "当时用户主动要求加时"
    assert 'data-testid="ethics-response-given"' in done.content.decode()
    assert "已经回复过" in again.content.decode()
    assert Notification.objects.filter(recipient=supervisor, kind="ethics.listener_responded").count() == 1
    assert case.events.filter(kind="note", actor=mine.user).count() == 1
    page = signed_in_client(supervisor).get(f"/supervision/ethics/{case.pk}/").content.decode()
    assert "当时用户主动要求加时" in page


def test_supervisors_add_investigation_notes_until_the_case_is_closed(make_user):
    supervisor = make_user(Role.SUPERVISOR)
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)
    case = ethics_case_open(
        listener=listener, source=EthicsSource.SUPERVISOR_OBSERVATION, summary="x", actor=supervisor
    )
    client = signed_in_client(supervisor)

    empty = client.post(f"/supervision/ethics/{case.pk}/note/", {"note-note": " "})
    client.post(
        f"/supervision/ethics/{case.pk}/note/", {"note-note": "与倾听师电话沟通", "note-expected_version": case.version}
    )

    assert empty.status_code == 200 and "请写下记录内容" in empty.content.decode()
    assert list(case.events.filter(kind="note").values_list("note", flat=True)) == ["与倾听师电话沟通"]
