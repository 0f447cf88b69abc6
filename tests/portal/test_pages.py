"""The listener portal: who may see what, the forms that call the evaluation services, query counts."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints.models import Complaint, ComplaintState
from evaluations.models import Appeal, InformationRequest, ListenerStatement, ListenerTask, TaskState
from evaluations.services import information_request_create, task_review
from interviews.defaults import rubric_load
from interviews.models import CompetencyInterview, InterviewPlanItem, InterviewSlot, InterviewState
from interviews.services import interview_request, interview_send_result
from listeners.holds import hold_place
from listeners.models import HoldEnd, ListenerStatusChange
from portal.views import COMPLAINTS_PER_PAGE, HOME_ITEMS

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint
from ..conftest import signed_in_client
from ..evaluations.helpers import escalated_case
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory
from ..interviews.conftest import scored
from .helpers import notified_case, shared_case, shared_case_about

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"

pytestmark = pytest.mark.django_db


def listener_client(complaint):
    return signed_in_client(complaint.listener.user)


def identity_of(complaint) -> list[str]:
    c = complaint.complainant
    return [
        REAL_NAME,
        VALID_ID,
        VALID_PHONE,
        c.email,
        c.display_name,
        complaint.masked_real_name,
        complaint.masked_id_number,
        complaint.masked_phone,
    ]


def local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


# --- who may enter -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["complainant", "consultant", "reviewer", "supervisor"])
def test_people_who_are_not_listeners_are_refused(client_for, role):
    client, _user = client_for(role)

    for url in ("/portal/", "/portal/complaints/", "/portal/tasks/"):
        assert client.get(url).status_code == 403


def test_a_listener_account_without_a_profile_is_refused(client_for):
    client, _user = client_for("listener")

    assert client.get("/portal/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/portal/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_site_home_still_serves_every_role_and_links_listeners_to_the_portal(client_for):
    profile = ListenerProfileFactory()
    complainant_client, _ = client_for("complainant")

    listener_page = signed_in_client(profile.user).get("/")

    assert listener_page.status_code == 200
    assert "/portal/" in listener_page.content.decode()
    assert complainant_client.get("/").status_code == 200


# --- isolation ---------------------------------------------------------------------------------


def test_a_complaint_about_another_listener_is_not_found(db):
    complaint, _lead = shared_case()
    other = ListenerProfileFactory()

    response = signed_in_client(other.user).get(f"/portal/complaints/{complaint.pk}/")

    assert response.status_code == 404
    assert complaint.session.order_no not in signed_in_client(other.user).get("/portal/complaints/").content.decode()


def test_a_complaint_not_yet_shared_is_neither_listed_nor_found(db):
    complaint = file_complaint()
    client = listener_client(complaint)

    assert client.get(f"/portal/complaints/{complaint.pk}/").status_code == 404
    assert complaint.session.order_no not in client.get("/portal/complaints/").content.decode()


def test_another_listeners_task_cannot_be_submitted(db):
    _complaint, _lead, decision = notified_case()
    task = decision.tasks.first()
    other = ListenerProfileFactory()

    response = signed_in_client(other.user).post("/portal/tasks/", {"task": task.pk, f"t{task.pk}-evidence_note": "x"})

    assert response.status_code == 404
    assert ListenerTask.objects.get(pk=task.pk).state == TaskState.OPEN


# --- no identity anywhere ------------------------------------------------------------------------


def test_no_page_of_the_portal_shows_who_complained(db):
    complaint, _lead, decision = notified_case()
    client = listener_client(complaint)

    pages = [
        client.get("/portal/"),
        client.get("/portal/complaints/"),
        client.get(f"/portal/complaints/{complaint.pk}/"),
        client.get("/portal/tasks/"),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for secret in identity_of(complaint):
            assert secret not in html, secret
    assert decision.text_to_listener in pages[2].content.decode()


# --- list and home -------------------------------------------------------------------------------


def test_the_list_shows_order_date_channel_and_state_in_plain_words(db):
    complaint, _lead = shared_case()

    html = listener_client(complaint).get("/portal/complaints/").content.decode()

    assert complaint.session.order_no in html
    assert complaint.session.get_channel_display() in html
    assert "请写下您的陈述" in html


def test_home_shows_status_with_its_reason_and_the_open_items(db):
    complaint, _lead, _decision = notified_case()
    shared, lead = shared_case_about(complaint.listener)
    information_request_create(complaint=shared, actor=lead, party="listener", question="当时您为什么打断用户？")

    response = listener_client(complaint).get("/portal/")

    html = response.content.decode()
    reason = ListenerStatusChange.objects.filter(listener=complaint.listener).first().reason
    assert response.context["listener"].status == "hidden"
    assert reason in html
    assert len(response.context["statements"]) == 1
    assert len(response.context["questions"]) == 1
    assert len(response.context["tasks"]) == 3
    assert response.context["unread"] >= 1
    assert shared.session.order_no in html
    due = ListenerStatement.objects.get(complaint=shared).due_at
    assert response.context["statements"][0]["due_at"] == due
    assert f"{timezone.localtime(due):%Y-%m-%d %H:%M} 前" in html
    page = listener_client(complaint).get(f"/portal/complaints/{shared.pk}/").content.decode()
    assert f"请在 {timezone.localtime(due):%Y-%m-%d %H:%M} 前提交陈述" in page


def test_a_listener_with_nothing_open_is_told_so(db):
    profile = ListenerProfileFactory()

    response = signed_in_client(profile.user).get("/portal/")

    html = response.content.decode()
    assert 'data-testid="nothing-open"' in html and "目前没有需要您处理的事项。" in html
    assert "您可以正常接单。" in html
    assert "查看全部" not in html


def test_home_lists_every_open_interview_with_its_next_step_and_date(db):
    profile = ListenerProfileFactory()
    staff = UserFactory(roles=["supervisor"])
    slot_at = timezone.now() + timedelta(days=5)

    def interview(state, *, with_slot=False):
        found = CompetencyInterview.objects.create(listener=profile, reason="督导提出", requested_by=staff, state=state)
        if with_slot:
            InterviewSlot.objects.create(
                starts_at=slot_at, ends_at=slot_at + timedelta(hours=1), published_by=staff, interview=found
            )
        return found

    requested = interview(InterviewState.REQUESTED)
    scheduling = interview(InterviewState.SCHEDULING)
    materials = interview(InterviewState.MATERIALS_DUE, with_slot=True)
    scheduled = interview(InterviewState.SCHEDULED, with_slot=True)
    interview(InterviewState.CANCELLED)
    interview(InterviewState.RESULT_SENT)

    response = signed_in_client(profile.user).get("/portal/")

    html = response.content.decode()
    steps = {step.pk: step for step in response.context["interviews"]}
    assert set(steps) == {requested.pk, scheduling.pk, materials.pk, scheduled.pk}
    assert response.context["n_interviews"] == 4
    for found in (requested, scheduling, materials, scheduled):
        assert f'href="/portal/interviews/{found.pk}/"' in html
    assert steps[requested.pk].text == steps[scheduling.pk].text == "请预约一个面试时段"
    assert steps[materials.pk].due == slot_at - timedelta(hours=48)
    assert steps[scheduled.pk].due == slot_at and steps[scheduled.pk].at_slot
    assert f"{local(slot_at - timedelta(hours=48))} 前" in html
    assert f"面试时间 {local(slot_at)}" in html
    assert "工作人员会与您预约时间" not in html


def test_home_shows_the_most_urgent_ten_tasks_with_due_dates_a_count_and_a_link_to_all(db):
    complaint, _lead, decision = notified_case()
    listener = complaint.listener
    template = decision.tasks.first()
    soon = timezone.now() + timedelta(days=1)
    for i in range(12):
        ListenerTask.objects.create(
            decision=decision, listener=listener, kind=template.kind, description="x", due_at=soon + timedelta(days=i)
        )
    overdue = ListenerTask.objects.create(
        decision=decision, listener=listener, kind=template.kind, description="x", due_at=soon - timedelta(days=3)
    )

    response = listener_client(complaint).get("/portal/")

    html = response.content.decode()
    shown = [t["id"] for t, _kind in response.context["tasks"]]
    assert len(shown) == HOME_ITEMS and shown[0] == overdue.pk
    assert response.context["n_tasks"] == 12 + 3 + 1
    assert "已逾期" in html
    assert f"{timezone.localtime(soon):%Y-%m-%d} 前完成" in html
    assert 'data-testid="all-tasks"' in html and "查看全部 16 项" in html


def test_home_caps_statements_and_questions_and_links_to_the_complaints_needing_action(db):
    listener = listener_with(14, 3)

    response = signed_in_client(listener.user).get("/portal/")

    html = response.content.decode()
    assert len(response.context["statements"]) == HOME_ITEMS
    assert len(response.context["questions"]) == HOME_ITEMS
    assert response.context["n_statements"] == 13 and response.context["n_questions"] == 13
    assert html.count('href="/portal/complaints/?todo=1"') >= 2
    assert "查看全部 13 项" in html


def test_a_short_list_has_no_see_all_link(db):
    complaint, _lead = shared_case()

    html = listener_client(complaint).get("/portal/").content.decode()

    assert complaint.session.order_no in html
    assert "查看全部" not in html


def test_home_shows_nothing_of_another_listeners_items(db):
    mine, _lead = shared_case()
    theirs, lead = shared_case()
    information_request_create(complaint=theirs, actor=lead, party="listener", question="当时发生了什么？")
    other_profile = theirs.listener
    CompetencyInterview.objects.create(listener=other_profile, reason="督导提出", requested_by=lead)

    response = listener_client(mine).get("/portal/")

    html = response.content.decode()
    assert mine.session.order_no in html
    assert theirs.session.order_no not in html
    assert response.context["n_questions"] == 0 and response.context["n_interviews"] == 0
    for secret in identity_of(mine) + identity_of(theirs):
        assert secret not in html, secret


def test_the_list_can_show_only_the_complaints_needing_the_listener(db):
    complaint, _lead = shared_case()
    done, _ = shared_case_about(complaint.listener)
    ListenerStatement.objects.filter(complaint=done).update(body="写好了", submitted_at=timezone.now())
    theirs, _ = shared_case()
    client = listener_client(complaint)

    everything = client.get("/portal/complaints/").content.decode()
    todo = client.get("/portal/complaints/?todo=1").content.decode()

    assert complaint.session.order_no in everything and done.session.order_no in everything
    assert complaint.session.order_no in todo and done.session.order_no not in todo
    assert theirs.session.order_no not in everything and theirs.session.order_no not in todo
    for secret in identity_of(complaint):
        assert secret not in todo, secret


# --- statement --------------------------------------------------------------------------------------


def test_the_listener_saves_a_draft_then_submits_the_statement(db):
    complaint, _lead = shared_case()
    client = listener_client(complaint)
    url = f"/portal/complaints/{complaint.pk}/"

    client.post(url, {"action": "statement_draft", "body": "草稿：用户一开始就很激动。"})
    statement = ListenerStatement.objects.get(complaint=complaint)
    assert statement.body == "草稿：用户一开始就很激动。" and statement.submitted_at is None
    assert "草稿：用户一开始就很激动。" in client.get(url).content.decode()

    response = client.post(url, {"action": "statement_submit", "body": "用户一开始就很激动，我试图稳定情绪。"})

    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.submitted_at is not None
    page = client.get(url).content.decode()
    assert 'data-testid="statement-submitted"' in page and 'value="statement_submit"' not in page


def test_an_empty_statement_is_refused_next_to_the_field(db):
    complaint, _lead = shared_case()

    response = listener_client(complaint).post(
        f"/portal/complaints/{complaint.pk}/", {"action": "statement_submit", "body": "  "}
    )

    assert response.status_code == 200
    assert response.context["statement_form"].errors["body"] == ["请写下您的陈述再提交。"]
    assert ListenerStatement.objects.get(complaint=complaint).submitted_at is None


def test_a_submitted_statement_cannot_be_changed(db):
    complaint, _lead = shared_case()
    client = listener_client(complaint)
    url = f"/portal/complaints/{complaint.pk}/"
    client.post(url, {"action": "statement_submit", "body": "第一版"})

    response = client.post(url, {"action": "statement_submit", "body": "第二版"}, follow=True)

    assert ListenerStatement.objects.get(complaint=complaint).body == "第一版"
    assert "陈述已经提交，不能再修改。" in response.content.decode()


# --- questions ---------------------------------------------------------------------------------------


def test_the_listener_answers_a_question_addressed_to_them(db):
    complaint, lead = shared_case()
    question = information_request_create(complaint=complaint, actor=lead, party="listener", question="为什么打断？")
    to_complainant = information_request_create(complaint=complaint, actor=lead, party="complainant", question="秘密")
    client = listener_client(complaint)
    url = f"/portal/complaints/{complaint.pk}/"
    assert "秘密" not in client.get(url).content.decode()

    empty = client.post(url, {"action": "answer", "question": question.pk, f"q{question.pk}-answer": ""})
    assert empty.status_code == 200 and "answer" in empty.context["question_items"][0][1].errors
    client.post(url, {"action": "answer", "question": question.pk, f"q{question.pk}-answer": "用户反复离题。"})

    question.refresh_from_db()
    assert question.answer == "用户反复离题。" and question.answered_at is not None
    refused = client.post(url, {"action": "answer", "question": to_complainant.pk, f"q{to_complainant.pk}-answer": "x"})
    assert refused.status_code == 404
    assert InformationRequest.objects.get(pk=to_complainant.pk).answered_at is None


# --- decision, response, appeal ---------------------------------------------------------------------


def test_the_decision_is_shown_only_once_notified(db):
    complaint, _lead = shared_case()
    client = listener_client(complaint)

    response = client.get(f"/portal/complaints/{complaint.pk}/")

    assert response.context["decision"] is None
    assert client.post(f"/portal/complaints/{complaint.pk}/", {"action": "appeal", "reason": "x"}).status_code == 404


def test_the_listener_disagrees_with_reasons_and_sees_the_grade_and_measures(db):
    complaint, _lead, decision = notified_case()
    client = listener_client(complaint)
    url = f"/portal/complaints/{complaint.pk}/"
    page = client.get(url).content.decode()
    assert "2 级" in page and "书面反馈" in page

    missing_reason = client.post(url, {"action": "respond", "response": "disagrees", "reason": ""})
    assert missing_reason.context["response_form"].errors["reason"] == ["不同意时请写明理由。"]
    client.post(url, {"action": "respond", "response": "disagrees", "reason": "用户的期待超出倾诉范围"})

    decision.refresh_from_db()
    assert decision.listener_response == "disagrees"
    assert decision.listener_response_reason == "用户的期待超出倾诉范围"


def test_the_listener_appeals_within_the_window_and_sees_its_state(db):
    complaint, _lead, decision = notified_case()
    client = listener_client(complaint)
    url = f"/portal/complaints/{complaint.pk}/"

    client.post(url, {"action": "appeal", "reason": "录音不完整"})

    appeal = Appeal.objects.get(decision=decision)
    assert appeal.party == "listener"
    page = client.get(url)
    assert page.context["can_appeal"] is False
    assert appeal.get_state_display() in page.content.decode()


def test_after_seven_days_the_appeal_form_is_gone_and_a_late_post_is_refused(db):
    complaint, _lead, _decision = notified_case()
    client = listener_client(complaint)
    url = f"/portal/complaints/{complaint.pk}/"

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        page = client.get(url)
        late = client.post(url, {"action": "appeal", "reason": "晚了"})

    assert page.context["can_appeal"] is False
    assert 'value="appeal"' not in page.content.decode()
    assert late.status_code == 200 and "申诉须在决定送达后 7 天内提出。" in late.content.decode()
    assert not Appeal.objects.exists()


# --- tasks ----------------------------------------------------------------------------------------------


def test_the_listener_uploads_evidence_and_later_sees_the_review(db):
    complaint, lead, decision = notified_case()
    task = decision.tasks.order_by("pk").first()
    client = listener_client(complaint)

    response = client.post(
        "/portal/tasks/",
        {
            "task": task.pk,
            f"t{task.pk}-evidence_note": "已完成书面反思",
            f"t{task.pk}-evidence": SimpleUploadedFile("反思.pdf", PDF),
        },
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.SUBMITTED and task.evidence_name == "反思.pdf"
    task_review(task=task, actor=lead, accepted=True, note="反思认真。")
    html = client.get("/portal/tasks/").content.decode()
    assert "已核实" in html and "反思认真。" in html


def test_a_bad_evidence_file_is_refused_next_to_the_field_and_the_note_is_kept(db):
    complaint, _lead, decision = notified_case()
    task = decision.tasks.order_by("pk").first()

    response = listener_client(complaint).post(
        "/portal/tasks/",
        {
            "task": task.pk,
            f"t{task.pk}-evidence_note": "我的说明",
            f"t{task.pk}-evidence": SimpleUploadedFile("a.pdf", b"MZ\x90"),
        },
    )

    assert response.status_code == 200
    form = dict((t.pk, f) for t, f in response.context["items"])[task.pk]
    assert form.errors["evidence"] == ["文件“a.pdf”不是可接受的图片、PDF 或音频文件。"]
    html = response.content.decode()
    assert "我的说明" in html and 'class="invalid-feedback d-block">文件“a.pdf”' in html
    assert ListenerTask.objects.get(pk=task.pk).state == TaskState.OPEN


# --- constant queries -------------------------------------------------------------------------------


def listener_with(n_complaints: int, n_tasks: int):
    """A listener with a notified decision (3 tasks) plus more complaints under investigation, each
    with a statement to write and a question to answer, more tasks and an interview request."""
    complaint, lead, decision = notified_case()
    listener = complaint.listener
    for _ in range(n_complaints - 1):
        session = ListeningSessionFactory(listener=listener)
        other = file_complaint(complainant=session.complainant, session=session)
        ListenerStatement.objects.create(complaint=other, listener=listener)
        InformationRequest.objects.create(
            complaint=other, party="listener", question="?", asked_by=lead, due_at=timezone.now() + timedelta(days=3)
        )
    # Arrangement shortcut: walking each case through triage and escalation adds nothing here.
    Complaint.objects.filter(listener=listener, state=ComplaintState.SUBMITTED).update(
        state=ComplaintState.INVESTIGATION
    )
    CompetencyInterview.objects.create(listener=listener, reason="督导提出", requested_by=lead)
    template = decision.tasks.first()
    for i in range(n_tasks - 3):
        ListenerTask.objects.create(
            decision=decision,
            listener=listener,
            kind=template.kind,
            description=f"任务 {i}",
            due_at=template.due_at,
        )
    return listener


def test_home_and_list_take_the_same_few_queries_for_3_or_30_cases_and_tasks(db, django_assert_max_num_queries):
    counts = []
    for n in (3, 30):
        client = signed_in_client(listener_with(n, n).user)
        with django_assert_max_num_queries(15) as home_queries:
            home = client.get("/portal/")
        with django_assert_max_num_queries(15) as list_queries:
            listing = client.get("/portal/complaints/")
        counts.append((len(home_queries), len(list_queries)))

        assert home.context["n_statements"] == n - 1 and home.context["n_tasks"] == n
        assert len(home.context["statements"]) == min(n - 1, HOME_ITEMS)
        assert len(home.context["questions"]) == min(n - 1, HOME_ITEMS)
        assert len(home.context["tasks"]) == min(n, HOME_ITEMS)
        assert len(home.context["interviews"]) == 1
        assert len(listing.context["rows"]) == min(n, COMPLAINTS_PER_PAGE)  # paginated

    assert counts[0] == counts[1]


def test_the_list_pages_by_thirty_and_keeps_the_filter_across_pages(db):
    listener = listener_with(COMPLAINTS_PER_PAGE + 2, 3)
    client = signed_in_client(listener.user)

    first = client.get("/portal/complaints/?todo=1")
    second = client.get("/portal/complaints/?todo=1&page=2")

    assert len(first.context["rows"]) == COMPLAINTS_PER_PAGE
    assert 'href="?todo=1&amp;page=2"' in first.content.decode()
    assert len(second.context["rows"]) == 1  # 31 complaints wait for a statement and an answer


def test_a_statement_is_no_longer_asked_for_once_the_case_has_moved_past_evaluation(db):
    from complaints.services import complaint_withdraw

    complaint, _lead = shared_case()
    complaint_withdraw(complaint=complaint, actor=complaint.complainant, reason="不想继续了")
    client = listener_client(complaint)

    home = client.get("/portal/")
    late = client.post(f"/portal/complaints/{complaint.pk}/", {"action": "statement_submit", "body": "迟到的陈述"})

    assert home.context["statements"] == []
    assert late.status_code == 302
    assert ListenerStatement.objects.get(complaint=complaint).submitted_at is None


@pytest.mark.parametrize("value", ["abc", "", "1e3", "-1", "99999999999999999999999"])
def test_a_tampered_task_id_is_a_404_not_an_error(db, value):
    complaint, _lead, _decision = notified_case()

    response = listener_client(complaint).post("/portal/tasks/", {"task": value, "evidence_note": "x"})

    assert response.status_code == 404


def test_open_improvement_plan_items_show_on_home_and_tasks_page(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    rubric_load()
    supervisor, reviewer, observer = (UserFactory(roles=[r]) for r in ("supervisor", "reviewer", "reviewer"))
    profile = ListenerProfileFactory()
    other = ListenerProfileFactory()
    for listener in (profile, other):
        interview = interview_request(listener=listener, reason="面试", actor=supervisor)
        with time_machine.travel(timezone.now() - timedelta(days=10)) as clock:
            interview_send_result(interview=scored(interview, supervisor, reviewer, observer, clock, 8), actor=reviewer)
    mine = list(InterviewPlanItem.objects.filter(interview__listener=profile))
    client = signed_in_client(profile.user)

    home = client.get("/portal/")
    tasks = client.get("/portal/tasks/").content.decode()

    assert home.context["n_plan_items"] == len(mine) == 3
    html = home.content.decode()
    assert f"{timezone.localtime(mine[0].due_at):%Y-%m-%d} 前完成" in html
    assert f"/portal/interviews/{mine[0].interview_id}/#plan" in html
    assert 'data-testid="plan-items"' in tasks and f"/portal/interviews/{mine[0].interview_id}/#plan" in tasks
    theirs = InterviewPlanItem.objects.filter(interview__listener=other).first()
    assert f"/portal/interviews/{theirs.interview_id}/" not in html + tasks


def test_the_listener_reads_the_complaint_as_the_group_edited_it(db):
    complaint, lead = escalated_case()
    Complaint.objects.filter(pk=complaint.pk).update(
        content="我叫王芳，电话13800001111。倾听师一直打断我。", demands_other="请王芳的家人也得到道歉"
    )
    complaint.refresh_from_db()
    reviewer_page = signed_in_client(lead).get(f"/review/{complaint.reference}/").content.decode()
    assert 'name="shared_content"' in reviewer_page and "电话13800001111" in reviewer_page

    empty = signed_in_client(lead).post(
        f"/review/{complaint.reference}/statement-request/", {"shared_content": "  "}, follow=True
    )
    assert "请填写与倾听师分享的投诉内容" in empty.content.decode()
    assert not ListenerStatement.objects.filter(complaint=complaint).exists()
    signed_in_client(lead).post(
        f"/review/{complaint.reference}/statement-request/",
        {"shared_content": "倾听师一直打断我。", "shared_demands_other": "希望得到道歉"},
    )

    page = listener_client(complaint).get(f"/portal/complaints/{complaint.pk}/").content.decode()

    assert "倾听师一直打断我。" in page and "希望得到道歉" in page
    assert "王芳" not in page and "13800001111" not in page


def test_a_delisted_listener_is_told_the_date_they_may_reapply(db):
    profile = ListenerProfileFactory(status="active")
    when = timezone.now() + timedelta(days=100)
    failed = CompetencyInterview.objects.create(
        listener=profile,
        reason="面试",
        requested_by=UserFactory(roles=["supervisor"]),
        state=InterviewState.RESULT_SENT,
        band="fail",
        result_sent_at=timezone.now(),
        eligible_to_reapply_at=when,
    )
    hold_place(
        listener=profile,
        effect="delisted",
        ends=HoldEnd.INTERVIEW_PASSED,
        reason="面试不合格",
        actor=None,
        source=failed,
    )

    html = signed_in_client(profile.user).get("/portal/").content.decode()

    assert f"{timezone.localtime(when):%Y-%m-%d} 起可以" in html


def test_a_standard_task_reads_in_the_listeners_language(db, settings):
    complaint, _lead, _decision = notified_case()
    client = listener_client(complaint)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/portal/tasks/").content.decode()

    assert "Receive at least 3 sessions of case supervision" in html
    assert "接受至少 3 次个案督导" not in html
