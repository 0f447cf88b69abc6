"""The review workspace (/review/): who may open what, scoring, reconciling, deciding, tasks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from complaints.models import Complaint, ComplaintState
from core.models import Deadline, DeadlineKind
from evaluations.models import (
    ContactRecord,
    Decision,
    DecisionState,
    Evaluation,
    Grade,
    InformationRequest,
    ListenerResponse,
    ListenerStatement,
    ListenerTask,
    TaskState,
)
from evaluations.services import (
    decision_approve,
    decision_draft,
    decision_notify,
    decision_submit,
    evaluation_save,
    information_request_answer,
    information_request_create,
    reviewer_assign,
    statement_request,
    statement_save,
    task_submit,
)

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint
from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory
from .helpers import escalated_case, finalized, in_evaluation, scores

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
LEAD_SECRET = "主审独有的理由：录音第 7 分钟有明显的评判。"
TEXTS = {
    "text_to_complainant": "经调查，倾听师存在明显的胜任力不足，平台向您致歉并部分退款。",
    "text_to_listener": "专业组认为本次倾诉中共情不足，请完成以下任务。",
}


def form_data(values: dict) -> dict:
    """Scores as a browser would post them: ids for the grade, booleans only when checked."""
    data = {}
    for key, value in values.items():
        if isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, Grade):
            data[key] = str(value.pk)
        else:
            data[key] = "" if value is None else str(value)
    return data


def page_urls(reference: str) -> dict[str, str]:
    return {
        "queue": "/review/",
        "tasks": "/review/tasks/",
        "case": f"/review/{reference}/",
        "evaluation": f"/review/{reference}/evaluation/",
        "final": f"/review/{reference}/final/",
        "decision": f"/review/{reference}/decision/",
    }


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=["supervisor"])


# --- who may open what -----------------------------------------------------------------------------

CASE_PAGES = ["case", "evaluation", "final", "decision"]
EXPECTED = {
    # role: (queue and tasks, case pages)
    "complainant": (403, 403),
    "listener": (403, 403),
    "consultant": (403, 403),
    "unrelated reviewer": (200, 404),
    "case reviewer": (200, 200),
    "supervisor": (200, 200),
}


def client_as(who: str, complaint: Complaint, lead) -> Client:
    users = {
        "complainant": lambda: complaint.complainant,
        "listener": lambda: complaint.listener.user,
        "consultant": lambda: UserFactory(roles=["consultant"]),
        "unrelated reviewer": lambda: UserFactory(roles=["reviewer"]),
        "case reviewer": lambda: lead,
        "supervisor": lambda: UserFactory(roles=["supervisor"]),
    }
    return signed_in_client(users[who]())


@pytest.mark.parametrize("page", ["queue", "tasks", *CASE_PAGES])
@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_page_opens_only_for_the_case_reviewers_and_supervisors(db, who, page):
    complaint, lead = in_evaluation()
    client = client_as(who, complaint, lead)

    response = client.get(page_urls(complaint.reference)[page])

    expected = EXPECTED[who][0 if page in ("queue", "tasks") else 1]
    assert response.status_code == expected


@pytest.mark.parametrize("page", ["queue", "tasks", *CASE_PAGES])
def test_anonymous_visitors_are_sent_to_sign_in(db, page):
    complaint, _lead = in_evaluation()

    response = Client().get(page_urls(complaint.reference)[page])

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_reviewer_who_has_not_passed_the_second_factor_is_sent_to_it(db):
    complaint, lead = in_evaluation()

    response = signed_in_client(lead, verified=False).get(f"/review/{complaint.reference}/")

    assert response.status_code == 302
    assert "/accounts/otp/" in response["Location"]


def test_an_added_reviewer_opens_the_case_pages(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    client = signed_in_client(second)

    for name in CASE_PAGES:
        assert client.get(page_urls(complaint.reference)[name]).status_code == 200


def test_review_pages_are_never_cached(db):
    complaint, lead = in_evaluation()
    client = signed_in_client(lead)

    for url in page_urls(complaint.reference).values():
        response = client.get(url)
        assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_the_supervisions_pages_under_review_are_not_taken_for_a_case(db):
    assert resolve("/review/approvals/").namespace != "review"
    assert resolve("/review/TS-2026-000123/").url_name == "case"


# --- the queue --------------------------------------------------------------------------------------


def test_the_queue_lists_my_cases_with_their_deadline_and_what_waits_for_me(db):
    complaint, lead = in_evaluation()
    waiting_in_triage = file_complaint()
    other_case, _other_lead = in_evaluation()
    client = signed_in_client(lead)

    response = client.get("/review/")

    body = response.content.decode()
    assert complaint.reference in body
    assert other_case.reference not in body and waiting_in_triage.reference not in body
    deadline = Deadline.objects.get(
        subject_type=ContentType.objects.get_for_model(Complaint),
        subject_id=complaint.pk,
        kind=DeadlineKind.DECISION,
        state=Deadline.State.OPEN,
    )
    assert timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M") in body
    assert "我的评估尚未提交" in body
    assert "主审" in body
    assert "已超时" not in body


def test_an_added_reviewer_sees_the_case_in_their_queue(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)

    body = signed_in_client(second).get("/review/").content.decode()

    assert complaint.reference in body
    assert "我的评估尚未提交" in body


def test_a_breached_deadline_shows_as_overdue(db):
    complaint, lead = escalated_case()
    Deadline.objects.filter(subject_type=ContentType.objects.get_for_model(Complaint), subject_id=complaint.pk).update(
        due_at=timezone.now() - timedelta(hours=1), state=Deadline.State.BREACHED
    )

    body = signed_in_client(lead).get("/review/").content.decode()

    assert "已超时" in body


def test_the_queue_shows_a_submitted_statement_and_answered_requests(db):
    from evaluations.services import (
        statement_save,
    )

    complaint, lead = escalated_case()
    statement = statement_request(complaint=complaint, actor=lead)
    statement_save(statement=statement, actor=complaint.listener.user, body="我当时很累。", submit=True)
    request = information_request_create(complaint=complaint, actor=lead, party="complainant", question="几点？")
    information_request_answer(request=request, actor=complaint.complainant, answer="晚上九点")

    body = signed_in_client(lead).get("/review/").content.decode()

    assert "倾听师已提交陈述" in body
    assert "补充信息已回复（1）" in body


def test_a_supervisor_can_see_all_of_the_groups_cases(db, supervisor):
    complaint, _lead = in_evaluation()
    client = signed_in_client(supervisor)

    assert complaint.reference not in client.get("/review/").content.decode()
    assert complaint.reference in client.get("/review/?scope=all").content.decode()


def _cases_for(lead, n: int) -> None:
    for _ in range(n):
        complaint, _other = in_evaluation()
        Complaint.objects.filter(pk=complaint.pk).update(assigned_reviewer=lead)


def test_the_queue_takes_the_same_number_of_queries_for_3_or_30_cases(db, django_assert_max_num_queries):
    lead = UserFactory(roles=["reviewer"])
    client = signed_in_client(lead)
    _cases_for(lead, 3)
    client.get("/review/")  # warm the content-type cache

    with django_assert_max_num_queries(15) as few:
        response = client.get("/review/")
    assert response.content.decode().count('data-testid="queue-row"') == 3
    _cases_for(lead, 27)
    with django_assert_max_num_queries(15) as many:
        response = client.get("/review/")

    assert response.content.decode().count('data-testid="queue-row"') == 30
    assert len(many.captured_queries) == len(few.captured_queries), (len(few), len(many))


# --- the case ----------------------------------------------------------------------------------------


def test_the_case_page_shows_the_complaint_evidence_and_timeline_with_masked_identity(db):
    evidence = SimpleUploadedFile("截图.pdf", PDF)
    complaint, lead = escalated_case(files=[evidence])

    body = signed_in_client(lead).get(f"/review/{complaint.reference}/").content.decode()

    assert complaint.content in body
    assert complaint.session.order_no in body
    attachment = complaint.attachments.get()
    assert f"/complaints/attachments/{attachment.public_id}/" in body
    assert complaint.masked_real_name in body and complaint.masked_phone in body
    assert f"/admin/complaints/complaint/{complaint.pk}/reveal/real_name/" in body
    assert "您的投诉已转交专业组调查" in body  # the staff timeline
    assert REAL_NAME not in body and VALID_ID not in body and VALID_PHONE not in body


def test_only_those_allowed_to_reveal_identity_get_the_reveal_link(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)

    body = signed_in_client(second).get(f"/review/{complaint.reference}/").content.decode()

    assert complaint.masked_real_name in body
    assert "/reveal/" not in body


def test_clear_identity_never_appears_on_any_review_page(db, supervisor):
    complaint, lead = finalized("B", 2)
    decision = decision_draft(
        complaint=complaint, actor=lead, grade=Grade.objects.get(level=2), refund_amount=Decimal("40"), **TEXTS
    )
    decision_submit(decision=decision, actor=lead)

    for user in (lead, supervisor):
        client = signed_in_client(user)
        for url in page_urls(complaint.reference).values():
            body = client.get(url).content.decode()
            assert REAL_NAME not in body and VALID_ID not in body and VALID_PHONE not in body, url


def test_the_lead_asks_for_the_listeners_statement_and_sees_it_once_submitted(db):
    complaint, lead = escalated_case()
    client = signed_in_client(lead)

    assert "请倾听师提交陈述" in client.get(f"/review/{complaint.reference}/").content.decode()
    client.post(f"/review/{complaint.reference}/statement-request/")
    statement = ListenerStatement.objects.get(complaint=complaint)
    assert "倾听师尚未提交" in client.get(f"/review/{complaint.reference}/").content.decode()
    statement_save(statement=statement, actor=complaint.listener.user, body="那天我连续接了五单。", submit=True)

    assert "那天我连续接了五单。" in client.get(f"/review/{complaint.reference}/").content.decode()


def test_a_contact_record_is_added_with_the_fields_of_the_party_spoken_with(db):
    complaint, lead = escalated_case()
    client = signed_in_client(lead)

    response = client.post(
        f"/review/{complaint.reference}/contacts/",
        {
            "party": "listener",
            "channel": "online",
            "contacted_at": "2026-01-05T10:30",
            "summary": "倾听师承认当时状态不好",
            "expectations": "这一栏属于投诉人，不应保存",
            "consent_disclosed": "on",
            "listener_account": "当天连续接了五单",
        },
    )

    assert response.status_code == 302
    record = ContactRecord.objects.get(complaint=complaint)
    assert record.party == "listener" and record.consent_disclosed
    assert record.listener_account == "当天连续接了五单"
    assert record.expectations == ""
    assert "倾听师承认当时状态不好" in client.get(f"/review/{complaint.reference}/").content.decode()


def test_a_contact_record_without_a_summary_shows_the_error_and_keeps_what_was_typed(db):
    complaint, lead = escalated_case()

    response = signed_in_client(lead).post(
        f"/review/{complaint.reference}/contacts/",
        {"party": "complainant", "channel": "phone", "summary": "", "expectations": "希望被认真倾听"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "is-invalid" in body
    assert "希望被认真倾听" in body
    assert not ContactRecord.objects.exists()


def test_an_information_request_is_sent_from_the_case_page(db):
    complaint, lead = escalated_case()
    client = signed_in_client(lead)

    client.post(f"/review/{complaint.reference}/information-requests/", {"party": "complainant", "question": "几点？"})
    empty = client.post(f"/review/{complaint.reference}/information-requests/", {"party": "listener", "question": ""})

    assert InformationRequest.objects.get(complaint=complaint).question == "几点？"
    assert empty.status_code == 200 and "is-invalid" in empty.content.decode()


def test_the_lead_begins_the_evaluation(db):
    complaint, lead = escalated_case()
    client = signed_in_client(lead)

    assert "调查完成，开始评估" in client.get(f"/review/{complaint.reference}/").content.decode()
    response = client.post(f"/review/{complaint.reference}/begin-evaluation/", {"version": complaint.version})

    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.EVALUATION


def test_beginning_the_evaluation_on_a_stale_page_shows_a_message_not_an_error(db):
    complaint, lead = escalated_case()
    client = signed_in_client(lead)

    response = client.post(
        f"/review/{complaint.reference}/begin-evaluation/", {"version": complaint.version - 1}, follow=True
    )

    assert response.status_code == 200
    assert "刚被其他人修改过" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.INVESTIGATION


def test_an_added_reviewer_cannot_begin_the_evaluation(db):
    complaint, lead = escalated_case()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    client = signed_in_client(second)

    assert "调查完成，开始评估" not in client.get(f"/review/{complaint.reference}/").content.decode()
    assert client.post(f"/review/{complaint.reference}/begin-evaluation/").status_code == 403


def test_the_lead_adds_a_reviewer(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"], display_name="专业组李")

    response = signed_in_client(lead).post(f"/review/{complaint.reference}/reviewers/", {"reviewer": second.pk})

    assert response.status_code == 302
    assert second.pk in {a.reviewer_id for a in complaint.reviewer_assignments.all()}


def test_a_conflict_of_interest_is_shown_as_the_form_error(db):
    mentor = UserFactory(roles=["reviewer"], display_name="个人督导赵")
    complainant = UserFactory(roles=["complainant"])
    listener = ListenerProfileFactory(supervisor=mentor)
    complaint, lead = escalated_case(
        complainant=complainant, session=ListeningSessionFactory(complainant=complainant, listener=listener)
    )

    response = signed_in_client(lead).post(f"/review/{complaint.reference}/reviewers/", {"reviewer": mentor.pk})

    body = response.content.decode()
    assert response.status_code == 200
    assert "不能指派" in body and "个人督导" in body
    assert 'class="invalid-feedback d-block"' in body
    assert not complaint.reviewer_assignments.exists()


def test_an_added_reviewer_cannot_add_reviewers(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    third = UserFactory(roles=["reviewer"])

    response = signed_in_client(second).post(f"/review/{complaint.reference}/reviewers/", {"reviewer": third.pk})

    assert response.status_code == 403


def test_the_lead_declares_a_conflict_and_steps_aside(db):
    complaint, lead = escalated_case()
    client = signed_in_client(lead)

    refused = client.post(f"/review/{complaint.reference}/conflict/", {"reason": ""})
    response = client.post(f"/review/{complaint.reference}/conflict/", {"reason": "与倾听师是同门"})

    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()
    assert response.status_code == 302 and response["Location"] == "/review/"
    assert Complaint.objects.get(pk=complaint.pk).assigned_reviewer is None
    assert client.get(f"/review/{complaint.reference}/").status_code == 404


# --- scoring -----------------------------------------------------------------------------------------


def test_a_reviewer_saves_a_draft_then_submits_and_the_evaluation_becomes_read_only(db):
    complaint, lead = in_evaluation()
    client = signed_in_client(lead)
    url = f"/review/{complaint.reference}/evaluation/"
    page = client.get(url).content.decode()
    assert "保存草稿" in page and "提交评估" in page
    assert "<legend" in page and 'for="id_facts_rationale"' in page

    client.post(url, {"action": "save", "facts": "partly", "facts_rationale": "草稿中的理由"})
    draft = Evaluation.objects.get(complaint=complaint, reviewer=lead)
    assert draft.facts == "partly" and not draft.submitted
    assert "草稿中的理由" in client.get(url).content.decode()

    response = client.post(url, {"action": "submit", **form_data(scores())})
    assert response.status_code == 302
    assert Evaluation.objects.get(pk=draft.pk).submitted

    page = client.get(url).content.decode()
    assert "已提交，只读" in page
    assert 'data-testid="scoring-form"' not in page
    again = client.post(url, {"action": "save", "facts": "not"}, follow=True)
    assert "不能再修改" in again.content.decode()
    assert Evaluation.objects.get(pk=draft.pk).facts == "substantiated"


def test_submitting_an_incomplete_evaluation_explains_each_missing_part_and_keeps_the_input(db):
    complaint, lead = in_evaluation()

    response = signed_in_client(lead).post(
        f"/review/{complaint.reference}/evaluation/",
        {"action": "submit", "facts": "partly", "facts_rationale": "只写了这一条"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "请评估诉求是否合理。" in body and "请选择结论 A 或 B。" in body
    assert "只写了这一条" in body
    assert not Evaluation.objects.filter(complaint=complaint).exists()


def test_a_reviewer_cannot_see_another_reviewers_scores_before_submitting_their_own(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(facts_rationale=LEAD_SECRET), submit=True)
    client = signed_in_client(second)
    evaluation_url = f"/review/{complaint.reference}/evaluation/"

    before = client.get(evaluation_url).content.decode()
    before_final = client.get(f"/review/{complaint.reference}/final/").content.decode()
    client.post(evaluation_url, {"action": "submit", **form_data(scores(level=3))})
    after = client.get(evaluation_url).content.decode()

    assert LEAD_SECRET not in before and LEAD_SECRET not in before_final
    assert "提交您自己的评估之后" in before
    assert LEAD_SECRET in after


def test_a_supervisor_sees_the_evaluations_but_has_no_scoring_form(db, supervisor):
    complaint, lead = in_evaluation()
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(facts_rationale=LEAD_SECRET), submit=True)
    client = signed_in_client(supervisor)

    body = client.get(f"/review/{complaint.reference}/evaluation/").content.decode()

    assert LEAD_SECRET in body
    assert 'data-testid="scoring-form"' not in body
    assert client.post(f"/review/{complaint.reference}/evaluation/", {"action": "save"}).status_code == 403


# --- the final evaluation --------------------------------------------------------------------------------


def test_the_lead_reconciles_with_the_evaluations_side_by_side_and_records_disagreements(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"], display_name="专业组李")
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(level=3), submit=True)
    client = signed_in_client(lead)
    url = f"/review/{complaint.reference}/final/"

    waiting = client.get(url).content.decode()
    evaluation_save(complaint=complaint, reviewer=second, data=scores(facts_rationale=LEAD_SECRET), submit=True)
    page = client.get(url).content.decode()
    response = client.post(url, {**form_data(scores(level=2)), "disagreements": "王主张 3 级，李主张 2 级"})

    assert "还有评估人没有提交评估" in waiting and "专业组李" in waiting
    assert 'data-testid="comparison"' in page and LEAD_SECRET in page and "分歧" in page
    assert response.status_code == 302 and response["Location"] == f"/review/{complaint.reference}/decision/"
    final = Evaluation.objects.get(complaint=complaint, is_final=True)
    assert final.disagreements == "王主张 3 级，李主张 2 级"
    assert final.proposed_grade.level == 2


def test_reconciling_before_everyone_submitted_shows_the_reason(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(), submit=True)

    response = signed_in_client(lead).post(f"/review/{complaint.reference}/final/", form_data(scores()))

    assert response.status_code == 200
    assert "还有评估人没有提交评估。" in response.content.decode()
    assert not Evaluation.objects.filter(is_final=True).exists()


def test_only_the_lead_may_reconcile(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)

    response = signed_in_client(second).post(f"/review/{complaint.reference}/final/", form_data(scores()))

    assert response.status_code == 403


# --- the decision --------------------------------------------------------------------------------------


def checked(body: str, name: str, value: str) -> bool:
    """Whether the checkbox ``name=value`` is rendered checked."""
    for chunk in body.split("<input")[1:]:
        if f'name="{name}"' in chunk and f'value="{value}"' in chunk:
            return "checked" in chunk.split(">")[0]
    raise AssertionError(f"no {name}={value} in the page")


def test_the_decision_form_starts_from_the_proposed_grades_defaults_and_a_chosen_grade_refills_them(db):
    complaint, lead = finalized("B", 2)
    client = signed_in_client(lead)
    url = f"/review/{complaint.reference}/decision/"

    default = client.get(url).content.decode()
    grade_3 = Grade.objects.get(level=3)
    chosen = client.get(f"{url}?grade={grade_3.pk}").content.decode()

    assert checked(default, "measures", "supervision_sessions") and checked(default, "remedies", "partial_refund")
    assert not checked(default, "measures", "competency_interview")
    assert checked(chosen, "measures", "competency_interview") and checked(chosen, "remedies", "full_refund")
    assert not checked(chosen, "measures", "supervision_sessions")
    assert f'<input type="hidden" name="grade" value="{grade_3.pk}"' in chosen
    assert "此等级的决定须督导批准" in chosen


def test_the_lead_drafts_a_grade_2_decision_and_submits_it_for_approval(db):
    complaint, lead = finalized("B", 2)
    client = signed_in_client(lead)
    url = f"/review/{complaint.reference}/decision/"
    grade = Grade.objects.get(level=2)
    data = {"grade": grade.pk, "measures": grade.measures, "remedies": grade.remedies, **TEXTS}

    refused = client.post(url, {**data, "refund_amount": "120"})
    saved = client.post(url, {**data, "refund_amount": "40"})
    submitted = client.post(f"{url}submit/", follow=True)

    assert refused.status_code == 200
    assert "部分退款金额须大于 0 且小于订单金额" in refused.content.decode()
    assert TEXTS["text_to_listener"] in refused.content.decode()
    assert saved.status_code == 302
    decision = Decision.objects.get(complaint=complaint)
    assert decision.state == DecisionState.PENDING_APPROVAL
    assert decision.refund_amount == Decimal("40.00")
    assert "已提交督导批准" in submitted.content.decode()
    assert "待督导批准" in submitted.content.decode()


def test_changing_the_grades_defaults_without_a_reason_is_explained_next_to_the_field(db):
    complaint, lead = finalized("B", 2)
    grade = Grade.objects.get(level=2)

    response = signed_in_client(lead).post(
        f"/review/{complaint.reference}/decision/",
        {"grade": grade.pk, "measures": ["feedback"], "remedies": grade.remedies, "refund_amount": "40", **TEXTS},
    )

    body = response.content.decode()
    assert "请写明调整理由" in body
    assert checked(body, "measures", "feedback") and not checked(body, "measures", "personal_therapy")
    assert not Decision.objects.exists()


def test_submitting_a_decision_twice_shows_a_message(db):
    complaint, lead = finalized("B", 2)
    decision = decision_draft(
        complaint=complaint, actor=lead, grade=Grade.objects.get(level=2), refund_amount=Decimal("40"), **TEXTS
    )
    decision_submit(decision=decision, actor=lead)

    response = signed_in_client(lead).post(f"/review/{complaint.reference}/decision/submit/", follow=True)

    assert response.status_code == 200
    assert "决定已经提交过了" in response.content.decode()


def test_an_added_reviewer_cannot_draft_the_decision(db):
    from evaluations.services import evaluation_reconcile, evaluation_save

    from .helpers import in_evaluation, scores

    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    for person in (lead, second):
        evaluation_save(complaint=complaint, reviewer=person, data=scores(), submit=True)
    evaluation_reconcile(complaint=complaint, lead=lead, data=scores())
    client = signed_in_client(second)

    assert 'data-testid="decision-form"' not in client.get(f"/review/{complaint.reference}/decision/").content.decode()
    assert client.post(f"/review/{complaint.reference}/decision/", {}).status_code == 403


def test_an_approved_decision_is_delivered_and_the_listeners_response_recorded(db, supervisor):
    complaint, lead = finalized("B", 2)
    decision = decision_draft(
        complaint=complaint, actor=lead, grade=Grade.objects.get(level=2), refund_amount=Decimal("40"), **TEXTS
    )
    decision_submit(decision=decision, actor=lead)
    decision_approve(decision=decision, actor=supervisor)
    client = signed_in_client(lead)
    url = f"/review/{complaint.reference}/decision/"

    assert "送达双方" in client.get(url).content.decode()
    client.post(f"{url}notify/")
    refused = client.post(f"{url}listener-response/", {"response": "disagrees", "reason": ""})
    client.post(f"{url}listener-response/", {"response": "disagrees", "reason": "认为当天情况特殊"})

    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.FOLLOW_UP
    assert "不同意时请写明理由" in refused.content.decode()
    decision.refresh_from_db()
    assert decision.state == DecisionState.NOTIFIED
    assert decision.listener_response == ListenerResponse.DISAGREES


# --- listener tasks ------------------------------------------------------------------------------------


@pytest.fixture
def submitted_task(db, supervisor, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    complaint, lead = finalized("B", 2)
    decision = decision_draft(
        complaint=complaint, actor=lead, grade=Grade.objects.get(level=2), refund_amount=Decimal("40"), **TEXTS
    )
    decision_submit(decision=decision, actor=lead)
    decision_approve(decision=decision, actor=supervisor)
    decision_notify(decision=decision, actor=lead)
    task = ListenerTask.objects.filter(decision=decision).order_by("pk").first()
    task_submit(
        task=task, actor=complaint.listener.user, note="已完成督导", upload=SimpleUploadedFile("督导记录.pdf", PDF)
    )
    return complaint, lead, ListenerTask.objects.get(pk=task.pk)


def test_tasks_submitted_on_my_cases_wait_for_verification(submitted_task):
    complaint, lead, task = submitted_task

    body = signed_in_client(lead).get("/review/tasks/").content.decode()
    other = signed_in_client(UserFactory(roles=["reviewer"])).get("/review/tasks/").content.decode()

    assert complaint.reference in body and "已完成督导" in body
    assert f"/review/tasks/{task.pk}/evidence/" in body
    assert complaint.reference not in other


def test_the_task_evidence_downloads_as_an_attachment_for_those_allowed_only(submitted_task, supervisor):
    complaint, lead, task = submitted_task
    url = f"/review/tasks/{task.pk}/evidence/"

    response = signed_in_client(lead).get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    assert signed_in_client(complaint.listener.user).get(url).status_code == 200
    assert signed_in_client(supervisor).get(url).status_code == 200
    assert signed_in_client(UserFactory(roles=["reviewer"])).get(url).status_code == 404
    assert signed_in_client(complaint.complainant).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_a_task_is_sent_back_only_with_a_note_and_then_verified(submitted_task):
    complaint, lead, task = submitted_task
    client = signed_in_client(lead)
    prefix = f"task-{task.pk}"

    refused = client.post(f"/review/tasks/{task.pk}/review/", {"verdict": "return", f"{prefix}-review_note": ""})
    client.post(f"/review/tasks/{task.pk}/review/", {"verdict": "return", f"{prefix}-review_note": "请补充签字"})
    assert ListenerTask.objects.get(pk=task.pk).state == TaskState.OPEN
    task_submit(task=task, actor=complaint.listener.user, note="已补充签字")
    client.post(f"/review/tasks/{task.pk}/review/", {"verdict": "verify", f"{prefix}-review_note": ""})

    assert refused.status_code == 200 and "退回时请说明还需要什么" in refused.content.decode()
    assert ListenerTask.objects.get(pk=task.pk).state == TaskState.VERIFIED


def test_an_unrelated_reviewer_cannot_review_a_task(submitted_task):
    _complaint, _lead, task = submitted_task

    response = signed_in_client(UserFactory(roles=["reviewer"])).post(
        f"/review/tasks/{task.pk}/review/", {"verdict": "verify"}
    )

    assert response.status_code == 404
    assert ListenerTask.objects.get(pk=task.pk).state == TaskState.SUBMITTED
