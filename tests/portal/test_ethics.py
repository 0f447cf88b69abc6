"""A listener reads the ethics decisions about them, and nothing of the investigation or of others."""

import pytest

from accounts.roles import Role
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
