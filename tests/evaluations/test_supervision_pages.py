"""Supervisors' pages: the approval queue, appeals, the archive download, and the evaluations admin."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse

from complaints.models import Complaint, ComplaintState
from core.models import AccessLog, Notification, OutboxEvent
from evaluations import views_appeals, views_approvals, views_archive
from evaluations.models import Appeal, AppealState, Decision, DecisionState, Grade, ListenerTask, TaskState
from evaluations.services import (
    appeal_assign,
    appeal_file,
    contact_record_add,
    decision_approve,
    decision_draft,
    decision_notify,
    decision_submit,
    evaluation_reconcile,
    evaluation_save,
    reviewer_assign,
)

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE
from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, UserFactory
from .helpers import finalized, in_evaluation, scores

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
APPROVALS = "/review/approvals/"
APPEALS = "/review/appeals/"
ROLES = [None, "complainant", "listener", "consultant", "reviewer", "supervisor"]
MASKED_NAME, MASKED_ID, MASKED_PHONE = "张**", "1101**********002X", "138****5678"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=["supervisor"], display_name="督导李")


def client_as(role):
    if role is None:
        return Client(), None
    user = UserFactory(roles=[role])
    if role == "listener":
        ListenerProfileFactory(user=user)
    return signed_in_client(user), user


def draft_and_submit(complaint, lead, level=2, **kwargs):
    values = {
        "text_to_complainant": "经调查，倾听师存在明显的胜任力不足，平台向您致歉并部分退款。",
        "text_to_listener": "专业组认为本次倾诉中共情不足，请完成以下任务。",
        "refund_amount": Decimal("40.00") if level == 2 else None,
    }
    values.update(kwargs)
    decision = decision_draft(complaint=complaint, actor=lead, grade=Grade.objects.get(level=level), **values)
    return decision_submit(decision=decision, actor=lead)


def pending_decision(*, extra_reviewers=0, files=0, disagreements=""):
    """A grade-2 decision with a 40-yuan partial refund, waiting for a supervisor."""
    uploads = [SimpleUploadedFile(f"截图{k}.png", PNG) for k in range(files)]
    complaint, lead = in_evaluation(files=uploads)
    for _ in range(extra_reviewers):
        reviewer = UserFactory(roles=["reviewer"])
        reviewer_assign(complaint=complaint, reviewer=reviewer, actor=lead)
        evaluation_save(complaint=complaint, reviewer=reviewer, data=scores("B", 2), submit=True)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores("B", 2), submit=True)
    evaluation_reconcile(complaint=complaint, lead=lead, data=scores("B", 2), disagreements=disagreements)
    return complaint, lead, draft_and_submit(complaint, lead)


def notified_with_listener_appeal(supervisor):
    complaint, lead, decision = pending_decision()
    decision_approve(decision=decision, actor=supervisor)
    decision_notify(decision=decision, actor=lead)
    appeal = appeal_file(decision=decision, actor=complaint.listener.user, reason="用户提前挂断，录音不完整")
    return complaint, lead, decision, appeal


def closed_case(*, files=1):
    """Grade 0, no money: confirmed and notified, so the case closes at once."""
    uploads = [SimpleUploadedFile("聊天截图.png", PNG) for _ in range(files)]
    complaint, lead = finalized("A", files=uploads)
    contact_record_add(
        complaint=complaint,
        actor=lead,
        party="complainant",
        channel="phone",
        summary="电话了解投诉人的期待。",
        expectations="希望倾听师道歉。",
    )
    decision = draft_and_submit(complaint, lead, level=0, text_to_complainant="平台会与倾听师沟通，并向您说明。")
    decision_notify(decision=decision, actor=lead)
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.CLOSED
    return complaint, lead


def _tag_around(html: str, position: int) -> str:
    """The HTML tag that contains ``position``."""
    return html[html.rfind("<", 0, position) : html.index(">", position) + 1]


def _section(html: str, marker: str) -> str:
    start = html.index(marker)
    end = html.find("</article>", start)
    return html[start:end]


# --- routing -------------------------------------------------------------------------------------


def test_the_review_prefix_reaches_the_supervision_pages():
    assert resolve(APPROVALS).func is views_approvals.approval_queue
    assert resolve(APPEALS).func is views_appeals.appeal_list
    assert resolve("/review/TS-2026-000001/archive.html").func is views_archive.archive_download
    assert reverse("review_supervision:approvals") == APPROVALS


# --- permission matrix ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_supervisors_open_the_approval_queue(role):
    client, _user = client_as(role)

    response = client.get(APPROVALS)

    if role is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if role == "supervisor" else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_supervisors_approve_or_send_back(role, supervisor):
    _complaint, _lead, decision = pending_decision()
    client, _user = client_as(role)

    approve = client.post(reverse("review_supervision:approve", args=[decision.pk]))
    send_back = client.post(
        reverse("review_supervision:send_back", args=[decision.pk]), {f"d{decision.pk}-reason": "x"}
    )

    if role == "supervisor":
        assert approve.status_code == 302
    elif role is None:
        assert approve.status_code == send_back.status_code == 302
        assert Decision.objects.get(pk=decision.pk).state == DecisionState.PENDING_APPROVAL
    else:
        assert approve.status_code == send_back.status_code == 403
        assert Decision.objects.get(pk=decision.pk).state == DecisionState.PENDING_APPROVAL


def test_the_lead_reviewer_cannot_approve_their_own_decision(db):
    _complaint, lead, decision = pending_decision()

    response = signed_in_client(lead).post(reverse("review_supervision:approve", args=[decision.pk]))

    assert response.status_code == 403
    assert Decision.objects.get(pk=decision.pk).state == DecisionState.PENDING_APPROVAL


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_appeals_page_is_for_supervisors_and_reviewers(role):
    client, _user = client_as(role)

    response = client.get(APPEALS)

    if role is None:
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if role in ("supervisor", "reviewer") else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_supervisors_assign_an_appeal(role, supervisor):
    _complaint, _lead, _decision, appeal = notified_with_listener_appeal(supervisor)
    fresh = UserFactory(roles=["reviewer"])
    client, _user = client_as(role)

    response = client.post(
        reverse("review_supervision:appeal_assign", args=[appeal.pk]), {f"a{appeal.pk}-reviewer": fresh.pk}
    )

    expected = {None: 302, "supervisor": 302}.get(role, 403)
    assert response.status_code == expected
    state = Appeal.objects.get(pk=appeal.pk).state
    assert state == (AppealState.REVIEWING if role == "supervisor" else AppealState.SUBMITTED)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_the_assigned_reviewer_or_supervisor_opens_the_resolution_form(role, supervisor):
    _complaint, _lead, _decision, appeal = notified_with_listener_appeal(supervisor)
    assigned = appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))
    url = reverse("review_supervision:appeal_resolve", args=[appeal.pk])
    client, _user = client_as(role)

    response = client.get(url)

    # Another supervisor or reviewer than the two the appeal names is refused too.
    assert response.status_code == (302 if role is None else 403)
    assert signed_in_client(supervisor).get(url).status_code == 200
    assert signed_in_client(assigned.reviewer).get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_archive_is_for_supervisors_and_the_cases_lead(role):
    complaint, lead = closed_case()
    client, _user = client_as(role)
    url = reverse("review_supervision:archive", args=[complaint.reference])

    response = client.get(url)

    if role is None:
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if role == "supervisor" else 403)
    assert signed_in_client(lead).get(url).status_code == 200


def test_the_complainant_cannot_download_the_archive_of_their_own_case(db):
    complaint, _lead = closed_case()

    response = signed_in_client(complaint.complainant).get(
        reverse("review_supervision:archive", args=[complaint.reference])
    )

    assert response.status_code == 403


# --- the approval queue --------------------------------------------------------------------------


def test_the_queue_shows_what_a_supervisor_needs_to_decide(db, supervisor):
    complaint, lead, decision = pending_decision(
        extra_reviewers=1, files=1, disagreements="另一位评估人认为应为 1 级。"
    )

    response = signed_in_client(supervisor).get(APPROVALS)

    html = response.content.decode()
    card = _section(html, f'data-testid="decision-{complaint.reference}"')
    assert "2 级" in card
    assert "部分退款 40.00 元" in card
    assert "接受督导" in card and "个人体验（个人咨询）" in card and "隐藏主页" in card
    assert decision.text_to_complainant in card and decision.text_to_listener in card
    assert "录音显示倾听师多次打断用户。" in card  # facts rationale of the final evaluation
    assert "另一位评估人认为应为 1 级。" in card
    assert str(lead) in card and "起草" in card
    assert "截图0.png" in card
    for secret in (REAL_NAME, VALID_ID, VALID_PHONE, MASKED_NAME):
        assert secret not in html


def test_an_empty_queue_says_so(db, supervisor):
    response = signed_in_client(supervisor).get(APPROVALS)

    assert 'data-testid="queue-empty"' in response.content.decode()


def test_the_queue_pages_oldest_first_and_an_action_returns_to_the_same_page(db, supervisor, monkeypatch):
    monkeypatch.setattr(views_approvals, "QUEUE_PAGE_SIZE", 2)
    references = [pending_decision()[0].reference for _ in range(3)]
    client = signed_in_client(supervisor)

    first = client.get(APPROVALS).content.decode()
    second = client.get(APPROVALS, {"page": 2}).content.decode()
    last_decision = Decision.objects.get(complaint__reference=references[2])
    approved = client.post(reverse("review_supervision:approve", args=[last_decision.pk]), {"page": "2"})

    assert references[0] in first and references[1] in first and references[2] not in first
    assert 'data-testid="pager"' in first and "3 项待批准" in first
    assert references[2] in second and references[0] not in second
    assert approved["Location"] == f"{APPROVALS}?page=2"


def test_approving_on_the_page_approves_and_tells_the_platform_of_the_refund(db, supervisor):
    complaint, _lead, decision = pending_decision()

    response = signed_in_client(supervisor).post(reverse("review_supervision:approve", args=[decision.pk]), follow=True)

    decision.refresh_from_db()
    assert decision.state == DecisionState.APPROVED
    assert decision.approved_by == supervisor
    event = OutboxEvent.objects.get(kind="remedy.approved")
    assert event.payload["order_no"] == complaint.session.order_no
    assert event.payload["remedy"] == "partial_refund"
    assert event.payload["amount"] == "40.00"
    assert f"已批准 {complaint.reference} 的处理决定。" in response.content.decode()
    assert f'data-testid="decision-{complaint.reference}"' not in response.content.decode()


def test_approving_twice_is_told_not_repeated(db, supervisor):
    _complaint, _lead, decision = pending_decision()
    client = signed_in_client(supervisor)
    client.post(reverse("review_supervision:approve", args=[decision.pk]))

    response = client.post(reverse("review_supervision:approve", args=[decision.pk]), follow=True)

    assert "这个决定不在待批准状态。" in response.content.decode()
    assert OutboxEvent.objects.filter(kind="remedy.approved").count() == 1


def test_sending_back_on_the_page_returns_the_draft_with_the_reason(db, supervisor):
    complaint, lead, decision = pending_decision()

    response = signed_in_client(supervisor).post(
        reverse("review_supervision:send_back", args=[decision.pk]), {f"d{decision.pk}-reason": "退款金额依据不足"}
    )

    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.state == DecisionState.DRAFT
    assert decision.returned_reason == "退款金额依据不足"
    assert Notification.objects.filter(recipient=lead, kind="decision.returned").exists()
    assert not OutboxEvent.objects.exists()
    assert complaint.timeline.filter(note__contains="退款金额依据不足").exists()


def test_sending_back_without_a_reason_is_refused_next_to_the_field(db, supervisor):
    _complaint, _lead, decision = pending_decision()
    other = pending_decision()[2]

    response = signed_in_client(supervisor).post(
        reverse("review_supervision:send_back", args=[decision.pk]), {f"d{decision.pk}-reason": "   "}
    )

    assert response.status_code == 200
    assert Decision.objects.get(pk=decision.pk).state == DecisionState.PENDING_APPROVAL
    html = response.content.decode()
    field = html.index(f'id="id_d{decision.pk}-reason"')
    error = html.index("请写明退回的理由。")
    button = html.index('data-testid="send-back"', field)
    assert field < error < button
    assert "is-invalid" in _tag_around(html, field)
    # The other decision's form is untouched.
    assert "is-invalid" not in _tag_around(html, html.index(f'id="id_d{other.pk}-reason"'))
    assert html.count("请写明退回的理由。") == 1


def test_the_queue_costs_the_same_queries_for_2_and_20_pending_decisions(
    db, supervisor, django_assert_max_num_queries, monkeypatch
):
    client = signed_in_client(supervisor)
    for k in range(2):
        pending_decision(extra_reviewers=k, files=k + 1)
    client.get(APPROVALS)

    with django_assert_max_num_queries(20) as few:
        small = client.get(APPROVALS)
    for k in range(18):
        pending_decision(extra_reviewers=k % 3, files=k % 3)
    with django_assert_max_num_queries(20) as many:
        first_page = client.get(APPROVALS)
    with django_assert_max_num_queries(20) as second:
        second_page = client.get(APPROVALS, {"page": 2})
    # The page size is a choice for reading, not for the database: all 20 on one page cost the same.
    monkeypatch.setattr(views_approvals, "QUEUE_PAGE_SIZE", 50)
    with django_assert_max_num_queries(20) as all_at_once:
        everything = client.get(APPROVALS)

    assert small.content.decode().count('data-testid="approve"') == 2
    assert first_page.content.decode().count('data-testid="approve"') == 10
    assert second_page.content.decode().count('data-testid="approve"') == 10
    assert everything.content.decode().count('data-testid="approve"') == 20
    counts = {len(q.captured_queries) for q in (few, many, second, all_at_once)}
    assert len(counts) == 1, counts


# --- appeals -------------------------------------------------------------------------------------


def test_the_supervisor_sees_open_appeals_and_an_original_reviewer_is_refused_next_to_the_field(db, supervisor):
    complaint, lead, _decision, appeal = notified_with_listener_appeal(supervisor)
    client = signed_in_client(supervisor)

    listing = client.get(APPEALS).content.decode()
    refused = client.post(
        reverse("review_supervision:appeal_assign", args=[appeal.pk]), {f"a{appeal.pk}-reviewer": lead.pk}
    )

    assert complaint.reference in listing and "用户提前挂断，录音不完整" in listing
    assert refused.status_code == 200
    html = refused.content.decode()
    field = html.index(f'id="id_a{appeal.pk}-reviewer"')
    error = html.index("复核须由未参与原评估的专业组成员进行。")
    assert field < error < html.index('data-testid="assign"', field)
    # What was chosen is still chosen.
    assert f'<option value="{lead.pk}" selected>' in html
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.SUBMITTED


def test_assigning_without_a_choice_is_refused(db, supervisor):
    _complaint, _lead, _decision, appeal = notified_with_listener_appeal(supervisor)

    response = signed_in_client(supervisor).post(reverse("review_supervision:appeal_assign", args=[appeal.pk]), {})

    assert response.status_code == 200
    assert "请选择复核的专业组成员。" in response.content.decode()


def test_an_appeal_is_assigned_then_changed_by_the_fresh_reviewer(db, supervisor):
    complaint, _lead, decision, appeal = notified_with_listener_appeal(supervisor)
    fresh = UserFactory(roles=["reviewer"], display_name="专业组赵")
    signed_in_client(supervisor).post(
        reverse("review_supervision:appeal_assign", args=[appeal.pk]), {f"a{appeal.pk}-reviewer": fresh.pk}
    )
    appeal.refresh_from_db()
    assert (appeal.state, appeal.reviewer, appeal.supervisor) == (AppealState.REVIEWING, fresh, supervisor)
    reviewer_client = signed_in_client(fresh)
    assert complaint.reference in reviewer_client.get(APPEALS).content.decode()
    url = reverse("review_supervision:appeal_resolve", args=[appeal.pk])

    change = {
        "outcome": "changed",
        "grade": Grade.objects.get(level=1).pk,
        "use_grade_defaults": "on",
        "outcome_note": "录音不完整，改为 1 级",
    }

    # Grade 1 drops the approved partial refund: a money change is the supervisor's to make.
    assert reviewer_client.post(url, change).status_code == 403
    response = signed_in_client(supervisor).post(url, change)

    assert response.status_code == 302
    appeal.refresh_from_db()
    decision.refresh_from_db()
    assert appeal.state == AppealState.CHANGED and appeal.outcome_note == "录音不完整，改为 1 级"
    assert decision.grade.level == 1
    live = set(
        ListenerTask.objects.filter(decision=decision).exclude(state=TaskState.CANCELLED).values_list("kind", flat=True)
    )
    assert live == {"feedback", "continued_learning"}


def test_a_resolution_without_a_note_keeps_what_was_chosen_and_says_what_is_missing(db, supervisor):
    _complaint, _lead, _decision, appeal = notified_with_listener_appeal(supervisor)
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))

    response = signed_in_client(supervisor).post(
        reverse("review_supervision:appeal_resolve", args=[appeal.pk]), {"outcome": "annulled", "outcome_note": ""}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('id="id_outcome_note"') < html.index("请写明复核理由。")
    assert "checked" in _tag_around(html, html.index('value="annulled"'))
    assert "checked" not in _tag_around(html, html.index('value="confirmed"'))
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.REVIEWING


def test_the_supervisor_annuls_a_decision_on_the_page_with_chosen_measures(db, supervisor):
    complaint, _lead, decision, appeal = notified_with_listener_appeal(supervisor)
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))

    response = signed_in_client(supervisor).post(
        reverse("review_supervision:appeal_resolve", args=[appeal.pk]),
        {"outcome": "annulled", "outcome_note": "证据不足，撤销原决定"},
        follow=True,
    )

    assert "复核结论已记录" in response.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.ANNULLED
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.CLOSED
    assert not ListenerTask.objects.filter(decision=decision, state=TaskState.OPEN).exists()


def test_a_resolved_appeal_has_no_form_any_more(db, supervisor):
    _complaint, _lead, _decision, appeal = notified_with_listener_appeal(supervisor)
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))
    client = signed_in_client(supervisor)
    url = reverse("review_supervision:appeal_resolve", args=[appeal.pk])
    client.post(url, {"outcome": "confirmed", "outcome_note": "维持"})

    again = client.post(url, {"outcome": "annulled", "outcome_note": "再改"}, follow=True)

    assert "这份申诉不在复核中。" in again.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.CONFIRMED
    assert 'name="outcome_note"' not in client.get(url).content.decode()


# --- archive -------------------------------------------------------------------------------------


def test_the_archive_downloads_as_a_self_contained_file_with_masked_identity_only(db, supervisor):
    complaint, _lead = closed_case()
    attachment = complaint.attachments.get()

    response = signed_in_client(supervisor).get(reverse("review_supervision:archive", args=[complaint.reference]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"{complaint.reference}-archive.html" in response["Content-Disposition"]
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    html = response.content.decode()
    assert complaint.reference in html
    for masked in (MASKED_NAME, MASKED_ID, MASKED_PHONE):
        assert masked in html
    for secret in (REAL_NAME, VALID_ID, VALID_PHONE, complaint.complainant.email):
        assert secret not in html
    assert complaint.consent_text.version in html
    assert attachment.original_name in html and attachment.sha256 in html and str(attachment.size) in html
    assert "电话了解投诉人的期待。" in html  # contact record
    assert "最终评估（主审汇总）" in html
    assert "平台会与倾听师沟通，并向您说明。" in html  # the decision
    assert "<script" not in html and "<link" not in html and "src=" not in html
    log = AccessLog.objects.get(case_reference=complaint.reference, action="export")
    assert log.actor == supervisor


def test_the_archive_lists_tasks_with_their_verification_and_appeals(db, supervisor):
    complaint, lead, _decision, appeal = notified_with_listener_appeal(supervisor)
    appeal_assign(appeal=appeal, actor=supervisor, reviewer=UserFactory(roles=["reviewer"]))
    signed_in_client(supervisor).post(
        reverse("review_supervision:appeal_resolve", args=[appeal.pk]),
        {"outcome": "annulled", "outcome_note": "证据不足，撤销原决定"},
    )

    html = (
        signed_in_client(lead).get(reverse("review_supervision:archive", args=[complaint.reference])).content.decode()
    )

    assert "用户提前挂断，录音不完整" in html and "证据不足，撤销原决定" in html
    assert "接受督导" in html and "已取消" in html
    assert REAL_NAME not in html and VALID_ID not in html and VALID_PHONE not in html


def test_the_archive_of_an_open_case_is_refused(db, supervisor):
    complaint, _lead, _decision = pending_decision()

    response = signed_in_client(supervisor).get(reverse("review_supervision:archive", args=[complaint.reference]))

    assert response.status_code == 409
    assert "Content-Disposition" not in response
    assert not AccessLog.objects.filter(action="export").exists()


def test_another_reviewer_cannot_download_the_archive(db):
    complaint, _lead = closed_case()

    response = signed_in_client(UserFactory(roles=["reviewer"])).get(
        reverse("review_supervision:archive", args=[complaint.reference])
    )

    assert response.status_code == 403


def test_an_unknown_reference_is_not_found(db, supervisor):
    response = signed_in_client(supervisor).get("/review/TS-2026-999999/archive.html")

    assert response.status_code == 404


# --- the admin -----------------------------------------------------------------------------------


def test_a_supervisor_edits_a_grade_and_the_change_page_shows_who_changed_what(db, supervisor):
    grade = Grade.objects.get(level=1)
    client = signed_in_client(supervisor)
    url = reverse("admin:evaluations_grade_change", args=[grade.pk])

    response = client.post(
        url,
        {
            "level": 1,
            "name": grade.name,
            "meaning": grade.meaning,
            "measures": ["feedback"],
            "remedies": ["apology"],
            "active": "on",
        },
    )

    assert response.status_code == 302
    grade.refresh_from_db()
    assert grade.measures == ["feedback"] and grade.remedies == ["apology"]
    page = client.get(url).content.decode()
    assert "修改历史" in page and "督导李" in page
    assert "书面反馈、继续学习 → 书面反馈" in page


def test_a_reviewer_sees_the_grading_scheme_read_only(db):
    client = signed_in_client(UserFactory(roles=["reviewer"]))
    grade = Grade.objects.get(level=2)

    page = client.get(reverse("admin:evaluations_grade_change", args=[grade.pk]))
    refused = client.post(reverse("admin:evaluations_grade_change", args=[grade.pk]), {"level": 2, "name": "x"})

    assert page.status_code == 200 and 'name="name"' not in page.content.decode()
    assert refused.status_code == 403
    assert Grade.objects.get(pk=grade.pk).name != "x"


@pytest.mark.parametrize(
    "model", ["decision", "evaluation", "listenertask", "appeal", "contactrecord"], ids=lambda m: m
)
def test_case_records_are_read_only_in_the_admin_and_show_no_identity(db, supervisor, model):
    complaint, _lead, _decision, _appeal = notified_with_listener_appeal(supervisor)
    contact_record_add(complaint=complaint, actor=supervisor, party="listener", channel="online", summary="已告知")
    client = signed_in_client(supervisor)

    listing = client.get(reverse(f"admin:evaluations_{model}_changelist"))
    add = client.get(reverse(f"admin:evaluations_{model}_add"))

    assert listing.status_code == 200
    assert complaint.reference in listing.content.decode()
    assert add.status_code == 403
    from django.apps import apps

    obj = apps.get_model("evaluations", model).objects.first()
    detail = client.get(reverse(f"admin:evaluations_{model}_change", args=[obj.pk])).content.decode()
    assert client.post(reverse(f"admin:evaluations_{model}_delete", args=[obj.pk])).status_code == 403
    for secret in (REAL_NAME, VALID_ID, VALID_PHONE, MASKED_NAME, complaint.complainant.email):
        assert secret not in listing.content.decode() and secret not in detail


def test_a_reviewer_sees_no_other_scores_in_the_admin_before_submitting_their_own(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores("B", 2), submit=True)
    evaluation_save(complaint=complaint, reviewer=second, data=scores("B", 3), submit=False)
    client = signed_in_client(second)

    before = client.get(reverse("admin:evaluations_evaluation_changelist")).content.decode()
    evaluation_save(complaint=complaint, reviewer=second, data=scores("B", 3), submit=True)
    after = client.get(reverse("admin:evaluations_evaluation_changelist")).content.decode()

    assert before.count(complaint.reference) == 1
    assert after.count(complaint.reference) == 2
