"""An ethics case decides with the complaint machinery: grade defaults, tasks, status, interviews."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.roles import Role
from core.models import AccessLog, Deadline, DeadlineKind, Notification
from evaluations.models import Grade, ListenerTask, TaskState
from evaluations.services import task_review, task_submit
from interviews.models import CompetencyInterview, InterviewState
from listeners.models import ListenerStatus, ListenerStatusChange
from supervision.models import EthicsCase, EthicsCaseState, EthicsSource, ListenerReport, ReportKind
from supervision.services import (
    SupervisionConflict,
    ethics_case_close,
    ethics_case_decide,
    ethics_case_open,
    ethics_case_record_evaluation,
    ethics_case_start_investigating,
    listener_report_submit,
)

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


@pytest.fixture
def listener():
    return ListenerProfileFactory(status=ListenerStatus.ACTIVE)


def evaluated(listener, supervisor, level: int) -> EthicsCase:
    case = ethics_case_open(
        listener=listener,
        source=EthicsSource.RATING_MANIPULATION_REPORT,
        summary="倾听师私下联系用户要求修改评价",
        actor=supervisor,
    )
    case = ethics_case_start_investigating(case=case, actor=supervisor)
    return ethics_case_record_evaluation(
        case=case, actor=supervisor, evaluation_summary="举报属实", grade=Grade.objects.get(level=level)
    )


def test_the_grade_defaults_become_tasks_deadlines_and_a_hidden_profile(
    listener, supervisor, django_capture_on_commit_callbacks
):
    case = evaluated(listener, supervisor, 2)

    with django_capture_on_commit_callbacks(execute=True):
        case = ethics_case_decide(case=case, actor=supervisor, text_to_listener="请接受督导并完成个人体验。")

    assert case.state == EthicsCaseState.DECIDED
    assert case.measures == ["feedback", "supervision_sessions", "personal_therapy", "hide_profile"]
    tasks = ListenerTask.objects.filter(listener=listener)
    assert sorted(tasks.values_list("kind", flat=True)) == ["feedback", "personal_therapy", "supervision_sessions"]
    assert {t.source for t in tasks} == {case}
    assert set(tasks.values_list("case_reference", flat=True)) == {case.reference}
    assert tasks.filter(decision__isnull=True).count() == 3
    assert Deadline.objects.filter(kind=DeadlineKind.LISTENER_TASK, owner=listener.user).count() == 3
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.HIDDEN
    change = ListenerStatusChange.objects.get(listener=listener)
    assert change.source_type == ContentType.objects.get_for_model(EthicsCase)
    assert change.source_id == case.pk and case.reference in change.reason
    notice = Notification.objects.get(recipient=listener.user, kind="ethics.decided")
    assert notice.link == f"/portal/ethics/#{case.reference}"
    email = next(m for m in mail.outbox if listener.user.email in m.to)
    assert case.reference in email.subject and "请接受督导并完成个人体验。" in email.body


def test_other_measures_need_a_reason_and_unknown_ones_are_refused(listener, supervisor):
    case = evaluated(listener, supervisor, 1)

    with pytest.raises(ValidationError) as without_reason:
        ethics_case_decide(case=case, actor=supervisor, measures=["feedback"], text_to_listener="说明")
    with pytest.raises(ValidationError) as unknown:
        ethics_case_decide(
            case=case, actor=supervisor, measures=["fine"], adjustment_reason="x", text_to_listener="说明"
        )
    with pytest.raises(ValidationError) as no_text:
        ethics_case_decide(case=case, actor=supervisor, text_to_listener="  ")

    assert "adjustment_reason" in without_reason.value.message_dict
    assert "measures" in unknown.value.message_dict
    assert "text_to_listener" in no_text.value.message_dict
    case.refresh_from_db()
    assert case.state == EthicsCaseState.EVALUATED and not ListenerTask.objects.exists()

    case = ethics_case_decide(
        case=case,
        actor=supervisor,
        measures=["feedback"],
        adjustment_reason="初犯，仅书面反馈",
        text_to_listener="说明",
    )
    assert case.measures == ["feedback"] and case.adjustment_reason == "初犯，仅书面反馈"
    assert list(ListenerTask.objects.values_list("kind", flat=True)) == ["feedback"]


def test_grade_three_suspends_and_requests_an_interview_without_a_complaint(listener, supervisor):
    case = evaluated(listener, supervisor, 3)

    case = ethics_case_decide(case=case, actor=supervisor, text_to_listener="需要参加胜任力考核面试。")

    listener.refresh_from_db()
    assert listener.status == ListenerStatus.SUSPENDED
    interview = CompetencyInterview.objects.get(listener=listener)
    assert interview.state == InterviewState.REQUESTED and interview.complaint is None
    assert case.reference in interview.reason
    # No task to verify: the decision is delivered and the case closes.
    assert case.state == EthicsCaseState.CLOSED and case.closed_at is not None


def test_verifying_the_last_task_restores_the_listener_and_closes_the_case(listener, supervisor):
    case = ethics_case_decide(case=evaluated(listener, supervisor, 2), actor=supervisor, text_to_listener="说明")
    tasks = list(ListenerTask.objects.filter(listener=listener))
    for task in tasks:
        task_submit(task=task, actor=listener.user, note="已完成")

    for task in tasks[:-1]:
        task_review(task=task, actor=supervisor, accepted=True)
    case.refresh_from_db()
    assert case.state == EthicsCaseState.DECIDED
    task_review(task=tasks[-1], actor=supervisor, accepted=True)

    case.refresh_from_db()
    listener.refresh_from_db()
    assert case.state == EthicsCaseState.CLOSED
    assert listener.status == ListenerStatus.ACTIVE
    assert ListenerStatusChange.objects.filter(listener=listener, to_status=ListenerStatus.ACTIVE).count() == 1
    assert set(ListenerTask.objects.values_list("state", flat=True)) == {TaskState.VERIFIED}


def test_a_reviewer_cannot_verify_an_ethics_task_nor_see_it(listener, supervisor, make_user):
    reviewer = make_user(Role.REVIEWER)
    ethics_case_decide(case=evaluated(listener, supervisor, 1), actor=supervisor, text_to_listener="说明")
    task = ListenerTask.objects.filter(listener=listener).first()
    task_submit(task=task, actor=listener.user, note="已完成")

    with pytest.raises(PermissionDenied):
        task_review(task=task, actor=reviewer, accepted=True)
    reviewer_page = signed_in_client(reviewer).get("/review/tasks/")
    supervisor_page = signed_in_client(supervisor).get("/review/tasks/")

    assert reviewer_page.status_code == 200 and f"task-{task.pk}-title" not in reviewer_page.content.decode()
    assert supervisor_page.status_code == 200
    assert task.case_reference in supervisor_page.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.SUBMITTED


def test_the_listener_sees_the_ethics_task_in_the_portal_without_the_other_party(listener, supervisor):
    user = UserFactory(roles=["complainant"], email="private-user@example.test")
    case = evaluated(listener, supervisor, 1)
    EthicsCase.objects.filter(pk=case.pk).update(user=user)
    ethics_case_decide(case=case, actor=supervisor, text_to_listener="请阅读反馈。")

    page = signed_in_client(listener.user).get("/portal/tasks/")

    body = page.content.decode()
    assert page.status_code == 200
    assert case.reference in body and "书面反馈" in body
    assert "private-user@example.test" not in body


def test_the_decide_page_applies_the_decision_and_refuses_a_stale_form(listener, supervisor):
    case = evaluated(listener, supervisor, 1)
    client = signed_in_client(supervisor)
    page = client.get(f"/supervision/ethics/{case.pk}/").content.decode()
    assert 'name="decide-expected_version"' in page and "书面反馈、继续学习" in page

    stale = client.post(
        f"/supervision/ethics/{case.pk}/decide/",
        {"decide-expected_version": case.version - 1, "decide-text_to_listener": "说明"},
        follow=True,
    )
    assert "刚被其他人修改过" in stale.content.decode()
    assert not ListenerTask.objects.exists()

    missing = client.post(
        f"/supervision/ethics/{case.pk}/decide/",
        {"decide-expected_version": case.version, "decide-measures": ["feedback"], "decide-text_to_listener": "说明"},
    )
    assert missing.status_code == 200 and "请写明调整理由" in missing.content.decode()

    done = client.post(
        f"/supervision/ethics/{case.pk}/decide/",
        {"decide-expected_version": case.version, "decide-text_to_listener": "请阅读反馈并继续学习。"},
        follow=True,
    )
    assert done.status_code == 200
    case.refresh_from_db()
    assert case.state == EthicsCaseState.DECIDED
    assert ListenerTask.objects.filter(listener=listener).count() == 2
    assert 'data-testid="case-tasks"' in done.content.decode()


def test_a_stale_version_is_refused_by_the_service(listener, supervisor):
    case = evaluated(listener, supervisor, 1)

    with pytest.raises(SupervisionConflict):
        ethics_case_decide(case=case, actor=supervisor, text_to_listener="说明", expected_version=1)


def test_the_case_page_shows_session_metadata_first_and_reveals_the_user_only_with_a_logged_reason(
    listener, supervisor
):
    user = UserFactory(roles=["complainant"], email="hidden-user@example.test", display_name="王小明")
    other = UserFactory(roles=["complainant"], email="other-user@example.test")
    for hours in (1, 2, 3):
        ListeningSessionFactory(
            listener=listener, complainant=user, started_at=timezone.now() - timedelta(hours=hours), rating=5
        )
    ListeningSessionFactory(listener=listener, complainant=other, order_no="QS-OTHER-PARTY")
    case = evaluated(listener, supervisor, 1)
    EthicsCase.objects.filter(pk=case.pk).update(user=user)
    client = signed_in_client(supervisor)

    page = client.get(f"/supervision/ethics/{case.pk}/").content.decode()
    refused = client.post(f"/supervision/ethics/{case.pk}/reveal/", {"reason": "  "})
    assert AccessLog.objects.filter(case_reference=case.reference, field="user").count() == 0
    revealed = client.post(f"/supervision/ethics/{case.pk}/reveal/", {"reason": "需要联系用户核实聊天记录"})

    assert page.count("相关用户") >= 3  # the heading and one pseudonym per session row
    assert "QS-OTHER-PARTY" not in page  # only the sessions between the two are shown
    assert "hidden-user@example.test" not in page and "王小明" not in page
    assert refused.status_code == 200 and "hidden-user@example.test" not in refused.content.decode()
    body = revealed.content.decode()
    assert revealed.status_code == 200 and "hidden-user@example.test" in body and "王小明" in body
    log = AccessLog.objects.get(case_reference=case.reference, field="user")
    assert log.actor == supervisor and log.reason == "需要联系用户核实聊天记录"
    assert "hidden-user@example.test" not in client.get(f"/supervision/ethics/{case.pk}/").content.decode()


def test_a_listeners_own_sessions_are_pseudonymised_on_a_case_without_a_user(listener, supervisor):
    first = UserFactory(roles=["complainant"], email="a-user@example.test")
    second = UserFactory(roles=["complainant"], email="b-user@example.test")
    ListeningSessionFactory(listener=listener, complainant=first)
    ListeningSessionFactory(listener=listener, complainant=second)
    ListeningSessionFactory(listener=listener, complainant=first)
    case = evaluated(listener, supervisor, 1)

    page = signed_in_client(supervisor).get(f"/supervision/ethics/{case.pk}/").content.decode()
    reveal = signed_in_client(supervisor).post(f"/supervision/ethics/{case.pk}/reveal/", {"reason": "x"})

    assert "用户 A" in page and "用户 B" in page and "用户 C" not in page
    assert "a-user@example.test" not in page and "b-user@example.test" not in page
    assert 'data-testid="reveal-party"' not in page
    assert reveal.status_code == 404


def test_a_supervisor_opens_a_case_of_their_own_and_others_cannot(listener, supervisor, make_user):
    client = signed_in_client(supervisor)

    form = client.get("/supervision/ethics/new/")
    unknown = client.post(
        "/supervision/ethics/new/",
        {"listener_code": "NOPE", "source": "supervisor_observation", "summary": "旁听发现向用户宣泄情绪"},
    )
    created = client.post(
        "/supervision/ethics/new/",
        {
            "listener_code": listener.code.lower(),
            "source": "supervisor_observation",
            "summary": "旁听发现向用户宣泄情绪",
        },
    )
    reviewer = signed_in_client(make_user(Role.REVIEWER)).get("/supervision/ethics/new/")

    assert form.status_code == 200
    assert unknown.status_code == 200 and "没有找到这个倾听师编号" in unknown.content.decode()
    case = EthicsCase.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/supervision/ethics/{case.pk}/"
    assert case.listener == listener and case.source == EthicsSource.SUPERVISOR_OBSERVATION
    assert case.opened_by == supervisor and case.events.count() == 1
    assert reviewer.status_code == 403


def test_a_decided_case_with_open_tasks_cannot_be_closed_by_hand(listener, supervisor):
    case = ethics_case_decide(case=evaluated(listener, supervisor, 2), actor=supervisor, text_to_listener="说明")

    with pytest.raises(ValidationError) as refused:
        ethics_case_close(case=case, actor=supervisor, note="提前结案")
    page = signed_in_client(supervisor).get(f"/supervision/ethics/{case.pk}/").content.decode()

    assert "任务全部核实后案件会自动结案" in " ".join(refused.value.messages)
    case.refresh_from_db()
    assert case.state == EthicsCaseState.DECIDED
    assert 'data-testid="action-close"' not in page
    assert ListenerTask.objects.filter(listener=listener, state=TaskState.OPEN).count() == 3


def test_a_reporters_identity_is_hidden_until_a_supervisor_gives_a_logged_reason(listener, supervisor):
    reporter = UserFactory(roles=["complainant"], email="brave-reporter@example.test", display_name="李同学")
    named = listener_report_submit(
        reporter=reporter, listener_code=listener.code, kind=ReportKind.RATING_MANIPULATION, content="私下要求改评"
    )
    anonymous = listener_report_submit(
        reporter=None,
        listener_code=listener.code,
        kind=ReportKind.VENTING_ON_USERS,
        content="向我宣泄情绪",
        contact="secret-contact@example.test",
    )
    client = signed_in_client(supervisor)

    pages = [client.get(f"/supervision/reports/{r.pk}/").content.decode() for r in (named, anonymous)]
    refused = client.post(f"/supervision/reports/{named.pk}/reveal/", {"reason": " "})
    shown = client.post(f"/supervision/reports/{named.pk}/reveal/", {"reason": "需要联系举报人补充证据"})
    shown_contact = client.post(f"/supervision/reports/{anonymous.pk}/reveal/", {"reason": "需要联系举报人"})

    for page in pages:
        assert "brave-reporter@example.test" not in page and "李同学" not in page
        assert "secret-contact@example.test" not in page
    assert refused.status_code == 200 and "brave-reporter@example.test" not in refused.content.decode()
    assert "brave-reporter@example.test" in shown.content.decode()
    assert "secret-contact@example.test" in shown_contact.content.decode()
    reveals = AccessLog.objects.filter(action="reveal", object_type=ListenerReport._meta.label)
    assert sorted(reveals.values_list("field", flat=True)) == ["contact", "reporter"]
    assert reveals.get(field="reporter").reason == "需要联系举报人补充证据"
