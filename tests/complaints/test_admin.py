"""Triage in the admin: what each role sees, and that every change goes through the services."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from complaints.admin import reply_template_fill
from complaints.models import (
    Category,
    Complaint,
    ComplaintState,
    ConsentMethod,
    IntakeChannel,
    Priority,
    ReplyTemplate,
    TimelineEvent,
)
from complaints.services import (
    CONFLICT_MESSAGE,
    complaint_assign,
    complaint_classify,
    complaint_start_triage,
)
from core import crypto
from core.models import AccessLog

from ..conftest import signed_in_client
from ..factories import ListeningSessionFactory, UserFactory
from .helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint

CHANGELIST = "/admin/complaints/complaint/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MASKED = ("张**", "1101**********002X", "138****5678")
CLEAR = (REAL_NAME, VALID_ID, VALID_PHONE)


def change_url(complaint: Complaint) -> str:
    return f"{CHANGELIST}{complaint.pk}/change/"


def transition_url(complaint: Complaint, name: str) -> str:
    return f"{CHANGELIST}{complaint.pk}/transition/{name}/"


def reveal_url(complaint: Complaint, field: str) -> str:
    return f"{CHANGELIST}{complaint.pk}/reveal/{field}/"


def refreshed(complaint: Complaint) -> Complaint:
    return Complaint.objects.get(pk=complaint.pk)


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def consultant(make_user):
    return make_user("consultant")


@pytest.fixture
def consultant_client(consultant):
    return signed_in_client(consultant)


@pytest.fixture
def complaint(db):
    return file_complaint()


@pytest.fixture
def triaged(complaint, consultant):
    complaint_start_triage(complaint=complaint, actor=consultant)
    return refreshed(complaint)


# --- changelist ---------------------------------------------------------------------


def test_consultant_changelist_shows_the_case_without_any_identity_data(consultant_client, complaint):
    response = consultant_client.get(CHANGELIST)

    html = page_text(response)
    assert response.status_code == 200
    assert complaint.reference in html
    assert complaint.listener.display_name in html
    for value in CLEAR + MASKED:
        assert value not in html


def test_changelist_marks_an_overdue_first_response(consultant_client, complaint):
    Complaint.objects.filter(pk=complaint.pk).update(first_response_due=timezone.now() - timedelta(hours=1))

    response = consultant_client.get(CHANGELIST)

    assert "已超时" in page_text(response)


def test_overdue_filter_lists_only_unanswered_cases_past_their_due_time(consultant_client):
    overdue, answered, fresh = file_complaint(), file_complaint(), file_complaint()
    past = timezone.now() - timedelta(hours=2)
    Complaint.objects.filter(pk__in=[overdue.pk, answered.pk]).update(first_response_due=past)
    Complaint.objects.filter(pk=answered.pk).update(first_response_at=past)

    html = page_text(consultant_client.get(CHANGELIST, {"overdue": "yes"}))

    assert overdue.reference in html
    assert answered.reference not in html
    assert fresh.reference not in html


def test_assigned_to_me_filter_lists_only_my_cases(consultant, consultant_client):
    mine, theirs = file_complaint(), file_complaint()
    complaint_assign(complaint=mine, actor=consultant, consultant=consultant)

    html = page_text(consultant_client.get(CHANGELIST, {"assigned": "me"}))

    assert mine.reference in html
    assert theirs.reference not in html


def test_crisis_filter_lists_only_flagged_cases(consultant_client):
    crisis = file_complaint(content="通话之后我觉得活不下去了。")
    calm = file_complaint()

    html = page_text(consultant_client.get(CHANGELIST, {"crisis__exact": "1"}))

    assert crisis.crisis
    assert crisis.reference in html
    assert calm.reference not in html


def test_search_finds_a_case_by_its_order_number(consultant_client):
    wanted, other = file_complaint(), file_complaint()

    html = page_text(consultant_client.get(CHANGELIST, {"q": wanted.session.order_no}))

    assert wanted.reference in html
    assert other.reference not in html


def test_changelist_query_count_does_not_grow_with_the_page_size(
    django_assert_max_num_queries, consultant, consultant_client
):
    for _ in range(5):
        complaint_assign(complaint=file_complaint(), actor=consultant, consultant=consultant)
    consultant_client.get(CHANGELIST)  # session and caches warm

    with django_assert_max_num_queries(15) as five_rows:
        assert consultant_client.get(CHANGELIST).status_code == 200
    for _ in range(45):
        complaint_assign(complaint=file_complaint(), actor=consultant, consultant=consultant)
    with django_assert_max_num_queries(15) as fifty_rows:
        response = consultant_client.get(CHANGELIST)

    assert page_text(response).count("/change/") >= 50
    assert len(fifty_rows) == len(five_rows)


def test_changelist_neither_fetches_nor_decrypts_identity(monkeypatch, consultant, consultant_client, make_user):
    assignee = make_user("consultant", phone="13912345678")
    complaint_assign(complaint=file_complaint(), actor=consultant, consultant=assignee)
    decrypted = []
    real_decrypt = crypto.decrypt

    def spy(token, *, label):
        decrypted.append(label)
        return real_decrypt(token, label=label)

    monkeypatch.setattr(crypto, "decrypt", spy)

    with CaptureQueriesContext(connection) as queries:
        response = consultant_client.get(CHANGELIST)

    assert response.status_code == 200
    assert assignee.display_name in page_text(response)
    assert not [label for label in decrypted if label.startswith("complaints.")]
    assert "accounts.User.phone" not in decrypted
    complaint_sql = [q["sql"] for q in queries.captured_queries if 'FROM "complaints_complaint"' in q["sql"]]
    assert complaint_sql
    for column in ("real_name", "id_number", "phone", "content"):
        assert not any(f'"complaints_complaint"."{column}"' in sql for sql in complaint_sql)


def test_changelist_rows_are_the_html_django_would_render(rf, consultant, make_user):
    """The triage list renders its rows itself (for speed); they must match Django's own rendering."""
    assignee = make_user("consultant", display_name='顾问 <"甲">')
    plain, crisis, overdue = (
        file_complaint(),
        file_complaint(content="通话之后我觉得活不下去了。"),
        file_complaint(category="ethics"),
    )
    complaint_assign(complaint=plain, actor=consultant, consultant=assignee)
    complaint_start_triage(complaint=crisis, actor=consultant)
    Complaint.objects.filter(pk=overdue.pk).update(first_response_due=timezone.now() - timedelta(hours=3))
    model_admin = admin.site._registry[Complaint]

    for query in ({}, {"overdue": "yes", "o": "-3"}, {"q": plain.reference}):
        request = rf.get(CHANGELIST, query)
        request.user = consultant
        request.resolver_match = resolve(CHANGELIST)
        changelist = model_admin.get_changelist_instance(request)
        changelist.formset = None  # as changelist_view sets it when nothing is editable

        ours = changelist.triage_table["results"]
        django_rows = ["".join(row) for row in admin_list.results(changelist)]

        assert changelist.cell_makers() is not None
        assert ours == django_rows
        assert len(ours) == len(changelist.result_list) > 0


# --- change page --------------------------------------------------------------------


def test_change_page_shows_masked_identity_and_never_the_clear_values(consultant_client, complaint):
    response = consultant_client.get(change_url(complaint))

    html = page_text(response)
    assert response.status_code == 200
    for masked in MASKED:
        assert masked in html
    for clear in CLEAR:
        assert clear not in html
    assert "/reveal/" not in html  # a consultant may not reveal, so no link


def test_change_page_offers_reveal_links_to_a_supervisor(make_user, complaint):
    client = signed_in_client(make_user("supervisor"))

    html = page_text(client.get(change_url(complaint)))

    for field in ("real_name", "id_number", "phone"):
        assert reveal_url(complaint, field) in html
    for clear in CLEAR:
        assert clear not in html


def test_change_page_shows_case_timeline_consent_and_transition_buttons(consultant_client, complaint):
    html = page_text(consultant_client.get(change_url(complaint)))

    assert complaint.content in html
    assert complaint.session.order_no in html
    assert complaint.consent_text.version in html
    assert "投诉已提交" in html  # the first timeline event
    assert transition_url(complaint, "start_triage") in html
    assert transition_url(complaint, "reject") in html
    assert transition_url(complaint, "resolve_directly") not in html  # not from "submitted"


def test_change_page_links_evidence_to_the_checked_download_view(settings, tmp_path, consultant_client):
    settings.MEDIA_ROOT = tmp_path
    complaint = file_complaint(files=[SimpleUploadedFile("聊天截图.png", PNG, content_type="image/png")])
    attachment = complaint.attachments.get()

    html = page_text(consultant_client.get(change_url(complaint)))

    assert f'href="/complaints/attachments/{attachment.public_id}/"' in html
    assert "聊天截图.png" in html


def test_change_page_flags_crisis_and_a_suspected_duplicate(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)
    first = file_complaint(complainant=complainant, session=session)
    second = file_complaint(complainant=complainant, session=session, content="挂了电话后我真的不想活了。")

    html = page_text(consultant_client.get(change_url(second)))

    assert "危机信号：" in html
    assert f"可能与 {first.reference} 重复" in html


def test_session_autocomplete_on_the_add_page_finds_order_numbers(consultant_client):
    session = ListeningSessionFactory()

    response = consultant_client.get(
        "/admin/autocomplete/",
        {"term": session.order_no, "app_label": "complaints", "model_name": "complaint", "field_name": "session"},
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(session.pk), "text": session.order_no}]


def test_change_page_shows_no_transition_buttons_to_a_reviewer(make_user, complaint):
    client = signed_in_client(make_user("reviewer"))

    html = page_text(client.get(change_url(complaint)))

    assert "/transition/" not in html
    assert 'name="category"' not in html  # view only


def test_changing_category_and_priority_goes_through_classify(consultant_client, complaint):
    response = consultant_client.post(
        change_url(complaint),
        {
            "category": Category.CALL_QUALITY,
            "priority": Priority.HIGH,
            "assigned_consultant": "",
            "assigned_reviewer": "",
            "expected_version": complaint.version,
        },
    )

    after = refreshed(complaint)
    assert response.status_code == 302
    assert (after.category, after.priority, after.version) == (Category.CALL_QUALITY, Priority.HIGH, 2)
    assert TimelineEvent.objects.filter(complaint=complaint, kind=TimelineEvent.Kind.NOTE, note__contains="通话质量")


def test_a_stale_change_form_gets_the_conflict_message_and_changes_nothing(consultant, consultant_client, complaint):
    stale_version = complaint.version
    complaint_classify(complaint=complaint, actor=consultant, category=Category.ETHICS, priority=Priority.NORMAL)

    response = consultant_client.post(
        change_url(complaint),
        {
            "category": Category.CALL_QUALITY,
            "priority": Priority.LOW,
            "assigned_consultant": "",
            "assigned_reviewer": "",
            "expected_version": stale_version,
        },
        follow=True,
    )

    assert str(CONFLICT_MESSAGE) in page_text(response)
    assert refreshed(complaint).category == Category.ETHICS


# --- revealing identity ---------------------------------------------------------------


def test_supervisor_reveals_a_field_with_a_reason_and_it_is_logged(make_user, complaint):
    supervisor = make_user("supervisor")
    client = signed_in_client(supervisor)

    response = client.post(reveal_url(complaint, "id_number"), {"reason": "需要核实投诉人身份"})

    html = page_text(response)
    assert response.status_code == 200
    assert VALID_ID in html
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.actor, log.field, log.reason, log.case_reference) == (
        supervisor,
        "id_number",
        "需要核实投诉人身份",
        complaint.reference,
    )


def test_the_assigned_reviewer_may_reveal(make_user, consultant, complaint):
    reviewer = make_user("reviewer")
    complaint_assign(complaint=complaint, actor=consultant, reviewer=reviewer)
    client = signed_in_client(reviewer)

    response = client.post(reveal_url(complaint, "phone"), {"reason": "需要电话联系投诉人"})

    assert VALID_PHONE in page_text(response)
    assert AccessLog.objects.filter(actor=reviewer, field="phone").count() == 1


# A consultant sees the case but may not reveal; a reviewer not on the case does not even see it.
@pytest.mark.parametrize(("role", "status"), [("consultant", 403), ("reviewer", 404)])
def test_consultant_and_unassigned_reviewer_cannot_reveal(make_user, complaint, role, status):
    client = signed_in_client(make_user(role))

    form = client.get(reveal_url(complaint, "real_name"))
    post = client.post(reveal_url(complaint, "real_name"), {"reason": "想看看是谁投诉的"})

    assert (form.status_code, post.status_code) == (status, status)
    assert REAL_NAME not in page_text(post)
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("reason", ["", "看看"])
def test_reveal_without_a_proper_reason_is_refused(make_user, complaint, reason):
    client = signed_in_client(make_user("supervisor"))

    response = client.post(reveal_url(complaint, "real_name"), {"reason": reason})

    assert response.status_code == 200
    assert REAL_NAME not in page_text(response)
    assert "理由" in page_text(response)
    assert not AccessLog.objects.exists()


def test_an_unknown_identity_field_cannot_be_revealed(make_user, complaint):
    client = signed_in_client(make_user("supervisor"))

    response = client.post(reveal_url(complaint, "content"), {"reason": "需要核实投诉人身份"})

    assert response.status_code == 404
    assert not AccessLog.objects.exists()


# --- transitions ---------------------------------------------------------------------


def test_start_triage_moves_the_case_to_triage(consultant, consultant_client, complaint):
    form = consultant_client.get(transition_url(complaint, "start_triage"))

    response = consultant_client.post(
        transition_url(complaint, "start_triage"), {"version": complaint.version, "note": ""}
    )

    after = refreshed(complaint)
    assert form.status_code == 200
    assert f'name="version" value="{complaint.version}"' in page_text(form)
    assert response.status_code == 302
    assert response["Location"] == change_url(complaint)
    assert after.state == ComplaintState.TRIAGE
    assert after.assigned_consultant == consultant
    assert after.first_response_at is not None


def test_resolve_form_is_prefilled_from_a_reply_template_and_resolves(consultant_client, triaged):
    template = ReplyTemplate.objects.create(title="通用答复", body="订单 {order_no} 的投诉 {reference} 已处理。")

    form = consultant_client.get(
        transition_url(triaged, "resolve_directly"), {"template": template.pk, "version": triaged.version}
    )
    filled = f"订单 {triaged.session.order_no} 的投诉 {triaged.reference} 已处理。"
    response = consultant_client.post(
        transition_url(triaged, "resolve_directly"), {"version": triaged.version, "resolution": filled}
    )

    after = refreshed(triaged)
    assert filled in page_text(form)
    assert "<script>" not in page_text(form)
    assert response.status_code == 302
    assert (after.state, after.resolution) == (ComplaintState.RESOLVED, filled)


def test_reply_template_placeholders_are_filled_without_str_format(complaint):
    template = ReplyTemplate(title="x", body="{reference} {reference.__class__} {unknown} {")

    text = reply_template_fill(template, complaint)

    assert text == f"{complaint.reference} {{reference.__class__}} {{unknown}} {{"


def test_reject_needs_a_reason(consultant_client, triaged):
    response = consultant_client.post(transition_url(triaged, "reject"), {"version": triaged.version, "reason": " "})

    assert response.status_code == 200
    assert "不予受理必须写明理由" in page_text(response)
    assert refreshed(triaged).state == ComplaintState.TRIAGE


def test_reject_with_a_reason_rejects(consultant_client, triaged):
    response = consultant_client.post(
        transition_url(triaged, "reject"), {"version": triaged.version, "reason": "不属于平台受理范围。"}
    )

    after = refreshed(triaged)
    assert response.status_code == 302
    assert (after.state, after.rejection_reason) == (ComplaintState.REJECTED, "不属于平台受理范围。")


def test_escalate_needs_a_reviewer(consultant_client, triaged):
    response = consultant_client.post(transition_url(triaged, "escalate"), {"version": triaged.version, "note": ""})

    assert response.status_code == 200
    assert "转专业组前请指定一位专业组成员" in page_text(response)
    assert refreshed(triaged).state == ComplaintState.TRIAGE


def test_escalate_refuses_someone_who_is_not_a_reviewer(consultant, consultant_client, triaged):
    response = consultant_client.post(
        transition_url(triaged, "escalate"), {"version": triaged.version, "reviewer": consultant.pk}
    )

    assert response.status_code == 200
    assert refreshed(triaged).state == ComplaintState.TRIAGE


def test_escalate_offers_reviewers_and_hands_the_case_over(make_user, consultant_client, triaged):
    reviewer = make_user("reviewer")

    form = consultant_client.get(transition_url(triaged, "escalate"))
    response = consultant_client.post(
        transition_url(triaged, "escalate"), {"version": triaged.version, "reviewer": reviewer.pk, "note": ""}
    )

    after = refreshed(triaged)
    assert f'value="{reviewer.pk}"' in page_text(form)
    assert response.status_code == 302
    assert (after.state, after.assigned_reviewer) == (ComplaintState.INVESTIGATION, reviewer)


def test_merge_closes_the_duplicate_into_the_named_case(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)
    first = file_complaint(complainant=complainant, session=session)
    duplicate = file_complaint(complainant=complainant, session=session)

    form = consultant_client.get(transition_url(duplicate, "merge"))
    response = consultant_client.post(
        transition_url(duplicate, "merge"), {"version": duplicate.version, "target_reference": first.reference}
    )

    after = refreshed(duplicate)
    assert f'value="{first.reference}"' in page_text(form)  # the suspected original is offered
    assert response.status_code == 302
    assert (after.state, after.merged_into) == (ComplaintState.CLOSED, first)


def test_merge_into_an_unknown_reference_is_a_form_error(consultant_client, complaint):
    response = consultant_client.post(
        transition_url(complaint, "merge"), {"version": complaint.version, "target_reference": "TS-1999-000001"}
    )

    assert response.status_code == 200
    assert "没有找到编号为 TS-1999-000001 的案件" in page_text(response)
    assert refreshed(complaint).state == ComplaintState.SUBMITTED


def test_a_stale_transition_form_gets_the_conflict_message_and_the_state_is_unchanged(
    consultant, consultant_client, complaint
):
    stale_version = complaint.version
    complaint_classify(complaint=complaint, actor=consultant, category=Category.ETHICS, priority=Priority.HIGH)

    response = consultant_client.post(
        transition_url(complaint, "reject"), {"version": stale_version, "reason": "重复投诉。"}
    )

    html = page_text(response)
    assert response.status_code == 200
    assert str(CONFLICT_MESSAGE) in html
    assert "重复投诉。" in html  # what was typed is kept
    assert refreshed(complaint).state == ComplaintState.SUBMITTED


def test_a_transition_no_longer_possible_sends_back_to_the_case_with_a_message(consultant_client, triaged):
    response = consultant_client.post(
        transition_url(triaged, "start_triage"), {"version": triaged.version, "note": ""}, follow=True
    )

    assert "下不能进行这个操作" in page_text(response)
    assert refreshed(triaged).state == ComplaintState.TRIAGE


def test_a_reviewer_not_on_the_case_does_not_even_find_the_transition_views(make_user, complaint):
    client = signed_in_client(make_user("reviewer"))

    form = client.get(transition_url(complaint, "start_triage"))
    post = client.post(transition_url(complaint, "start_triage"), {"version": complaint.version, "note": ""})

    assert (form.status_code, post.status_code) == (404, 404)
    assert refreshed(complaint).state == ComplaintState.SUBMITTED


def test_an_unknown_transition_is_not_found(consultant_client, complaint):
    response = consultant_client.get(transition_url(complaint, "withdraw"))

    assert response.status_code == 404


def test_a_visible_note_counts_as_the_first_response(consultant_client, complaint):
    note = "已收到，我们会尽快联系您。"

    response = consultant_client.post(
        f"{CHANGELIST}{complaint.pk}/note/", {"version": complaint.version, "note": note, "visible": "on"}
    )

    assert response.status_code == 302
    assert refreshed(complaint).first_response_at is not None
    assert TimelineEvent.objects.filter(complaint=complaint, note=note, visible_to_complainant=True).exists()


# --- bulk assignment --------------------------------------------------------------------


def test_bulk_assign_asks_for_a_consultant_then_assigns_each_case(make_user, consultant_client):
    first, second = file_complaint(), file_complaint()
    colleague = make_user("consultant")
    selection = {"action": "assign_to_consultant", "_selected_action": [first.pk, second.pk]}

    page = consultant_client.post(CHANGELIST, {**selection, "index": 0})
    response = consultant_client.post(CHANGELIST, {**selection, "apply": "yes", "consultant": colleague.pk})

    assert page.status_code == 200
    assert f'value="{colleague.pk}"' in page_text(page)
    assert response.status_code == 302
    assert {refreshed(c).assigned_consultant for c in (first, second)} == {colleague}
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.ASSIGNMENT).count() == 2


def test_bulk_assign_is_not_offered_to_a_reviewer(make_user, complaint):
    client = signed_in_client(make_user("reviewer"))

    html = page_text(client.get(CHANGELIST))

    assert "assign_to_consultant" not in html


# --- entering a complaint on a complainant's behalf ------------------------------------------


def on_behalf_data(complainant, session, **overrides):
    data = {
        "complainant": complainant.pk,
        "session": session.pk,
        "intake_channel": IntakeChannel.PHONE,
        "category": Category.CALL_QUALITY,
        "content": "电话里反映：通话中断了三次，倾听师没有回拨。",
        "demands": ["refund"],
        "demands_other": "",
        "real_name": REAL_NAME,
        "id_number": VALID_ID,
        "phone": VALID_PHONE,
        "consent_version": "2026.1",
        "consent_given": "on",
        "submission_key": "8a1c6a0e-2f34-4c1b-9d0e-5b7f1f2a3c4d",
    }
    data.update(overrides)
    return data


def test_consultant_enters_a_phone_complaint_with_verbal_consent(consultant, consultant_client):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)

    form = consultant_client.get(f"{CHANGELIST}add/")
    response = consultant_client.post(f"{CHANGELIST}add/", on_behalf_data(complainant, session))

    complaint = Complaint.objects.get(complainant=complainant)
    assert form.status_code == 200
    assert "投诉人已口头同意实名投诉知情同意书（当前版本）" in page_text(form)
    assert response.status_code == 302
    assert response["Location"] == change_url(complaint)
    assert (complaint.consent_method, complaint.consent_recorded_by, complaint.intake_channel) == (
        ConsentMethod.VERBAL,
        consultant,
        IntakeChannel.PHONE,
    )
    assert (complaint.session, complaint.real_name, complaint.category) == (session, REAL_NAME, Category.CALL_QUALITY)


def test_on_behalf_entry_needs_the_consent_box(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)

    response = consultant_client.post(f"{CHANGELIST}add/", on_behalf_data(complainant, session, consent_given=""))

    assert response.status_code == 200
    assert "请先向投诉人宣读知情同意书" in page_text(response)
    assert not Complaint.objects.filter(complainant=complainant).exists()


def test_on_behalf_entry_refuses_a_session_of_someone_else(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    others_session = ListeningSessionFactory()

    response = consultant_client.post(f"{CHANGELIST}add/", on_behalf_data(complainant, others_session))

    assert response.status_code == 200
    assert "这个订单不属于所选的投诉人" in page_text(response)
    assert not Complaint.objects.filter(complainant=complainant).exists()


def test_on_behalf_entry_shows_identity_errors_next_to_the_fields(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)

    response = consultant_client.post(
        f"{CHANGELIST}add/", on_behalf_data(complainant, session, id_number="110105194912310021")
    )

    assert response.status_code == 200
    assert 'class="form-row field-id_number errors"' in page_text(response)
    assert not Complaint.objects.filter(complainant=complainant).exists()


def test_the_complainant_sees_an_on_behalf_complaint_in_their_account(consultant_client):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)
    consultant_client.post(f"{CHANGELIST}add/", on_behalf_data(complainant, session))
    complaint = Complaint.objects.get(complainant=complainant)

    response = signed_in_client(complainant).get("/complaints/")

    assert complaint.reference in page_text(response)


def test_reviewer_cannot_enter_a_complaint(make_user):
    client = signed_in_client(make_user("reviewer"))

    assert client.get(f"{CHANGELIST}add/").status_code == 403


# --- access log admin -------------------------------------------------------------------


@pytest.fixture
def logged_reveal(make_user, complaint):
    supervisor = make_user("supervisor")
    signed_in_client(supervisor).post(reveal_url(complaint, "phone"), {"reason": "需要电话联系投诉人"})
    return AccessLog.objects.get()


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_access_log_admin_lists_reveals_and_allows_no_add_change_or_delete(make_user, logged_reveal, who):
    user = make_user("supervisor") if who == "supervisor" else UserFactory(is_superuser=True, is_staff=True)
    client = signed_in_client(user)
    base = "/admin/core/accesslog/"

    listing = client.get(base)
    detail = client.get(f"{base}{logged_reveal.pk}/change/")
    add = client.get(f"{base}add/")
    delete = client.post(f"{base}{logged_reveal.pk}/delete/", {"post": "yes"})
    change = client.post(f"{base}{logged_reveal.pk}/change/", {"reason": "改掉"})

    assert listing.status_code == 200
    assert logged_reveal.case_reference in page_text(listing)
    assert detail.status_code == 200
    assert 'name="reason"' not in page_text(detail)
    assert (add.status_code, delete.status_code, change.status_code) == (403, 403, 403)
    assert AccessLog.objects.get().reason == "需要电话联系投诉人"


@pytest.mark.parametrize("role", ["consultant", "reviewer"])
def test_access_log_is_hidden_from_consultants_and_reviewers(make_user, role):
    client = signed_in_client(make_user(role))

    assert client.get("/admin/core/accesslog/").status_code == 403
