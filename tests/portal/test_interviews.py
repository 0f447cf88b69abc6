"""The listener's competency interviews in the portal: isolation, booking and the 48-hour rule,
materials, the result only once sent, and the improvement plan."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import access
from core.errors import WrongState
from core.models import AccessLog
from interviews.models import (
    CompetencyInterview,
    InterviewMaterial,
    InterviewPlanItem,
    InterviewSlot,
    InterviewState,
    MaterialKind,
    PlanItemState,
)
from interviews.services import interview_request, interview_send_result, plan_item_verify
from listeners.models import ListenerStatus

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory, UserFactory
from ..interviews.conftest import PDF, START, publish, scored

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def supervisor():
    return UserFactory(roles=["supervisor"])


@pytest.fixture
def reviewer():
    return UserFactory(roles=["reviewer"])


@pytest.fixture
def observer():
    return UserFactory(roles=["reviewer"])


@pytest.fixture
def interview(supervisor):
    listener = ListenerProfileFactory(status=ListenerStatus.HIDDEN)
    return interview_request(listener=listener, reason="处理决定要求进行胜任力考核面试。", actor=supervisor)


@pytest.fixture
def client(interview):
    return signed_in_client(interview.listener.user)


def url(interview):
    return f"/portal/interviews/{interview.pk}/"


def fresh(interview):
    return CompetencyInterview.objects.get(pk=interview.pk)


def upload(client, interview, kind=MaterialKind.CASE_REPORT, content=PDF, name="个案报告.pdf"):
    return client.post(
        url(interview),
        {
            "action": "upload",
            "material-kind": kind,
            "material-file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )


# --- who sees what ---------------------------------------------------------------------------------


def test_a_listener_sees_their_interviews_and_not_another_listeners(client, interview, supervisor):
    other = interview_request(listener=ListenerProfileFactory(), reason="另一位倾听师的面试", actor=supervisor)

    listing = client.get("/portal/interviews/")

    assert listing.status_code == 200
    assert url(interview) in listing.content.decode()
    assert url(other) not in listing.content.decode()
    assert client.get(url(other)).status_code == 404
    assert client.post(url(other), {"action": "book"}).status_code == 404


@pytest.mark.parametrize("role", ["complainant", "reviewer", "supervisor"])
def test_people_who_are_not_listeners_are_refused(client_for, interview, role):
    other_client, _user = client_for(role)

    assert other_client.get("/portal/interviews/").status_code == 403
    assert other_client.get(url(interview)).status_code == 403


def test_the_listener_home_links_to_the_interviews(client):
    assert "/portal/interviews/" in client.get("/portal/").content.decode()


def test_the_state_is_explained_in_plain_words(client, interview):
    page = client.get(url(interview)).content.decode()

    assert "请选择一个面试时段" in page


# --- booking and the 48-hour rule ---------------------------------------------------------------


def test_booking_a_slot_48_hours_away_without_the_report_asks_for_the_report(clock, client, interview, supervisor):
    slot = publish(supervisor, timedelta(hours=48))

    response = client.post(url(interview), {"action": "book", "book-slot": slot.pk})

    assert response.status_code == 302
    assert fresh(interview).state == InterviewState.MATERIALS_DUE
    assert InterviewSlot.objects.get(pk=slot.pk).interview_id == interview.pk
    page = client.get(url(interview)).content.decode()
    assert "已预约面试时段。" in page
    assert 'data-testid="report-due"' in page
    assert 'data-testid="meeting-number"' not in page


def test_a_slot_47h59m_away_is_refused_next_to_the_slot_choice(clock, client, interview, supervisor):
    slot = publish(supervisor, timedelta(hours=47, minutes=59))

    response = client.post(url(interview), {"action": "book", "book-slot": slot.pk})

    assert response.status_code == 200
    assert "48 小时" in str(response.context["book_form"].errors["slot"])
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert fresh(interview).state == InterviewState.REQUESTED
    assert InterviewSlot.objects.get(pk=slot.pk).interview_id is None


def test_with_the_report_in_a_near_slot_is_booked_and_the_meeting_number_shown(clock, client, interview, supervisor):
    assert upload(client, interview).status_code == 302
    slot = publish(supervisor, timedelta(hours=47, minutes=59))

    client.post(url(interview), {"action": "book", "book-slot": slot.pk})

    booked = fresh(interview)
    assert booked.state == InterviewState.SCHEDULED
    page = client.get(url(interview)).content.decode()
    assert booked.meeting_number in page


def test_a_slot_someone_else_took_is_a_field_error(clock, client, interview, supervisor):
    slot = publish(supervisor, timedelta(days=5))
    InterviewSlot.objects.filter(pk=slot.pk).update(
        interview=interview_request(listener=ListenerProfileFactory(), reason="x", actor=supervisor)
    )

    response = client.post(url(interview), {"action": "book", "book-slot": slot.pk})

    assert response.status_code == 200
    assert response.context["book_form"].errors["slot"]
    assert fresh(interview).state == InterviewState.REQUESTED


# --- materials ------------------------------------------------------------------------------------


def test_uploading_the_case_report_after_booking_issues_the_meeting_number(clock, client, interview, supervisor):
    slot = publish(supervisor, timedelta(days=5))
    client.post(url(interview), {"action": "book", "book-slot": slot.pk})

    assert upload(client, interview, MaterialKind.CV, name="简历.pdf").status_code == 302
    assert fresh(interview).state == InterviewState.MATERIALS_DUE
    assert upload(client, interview).status_code == 302

    booked = fresh(interview)
    assert booked.state == InterviewState.SCHEDULED
    assert list(InterviewMaterial.objects.filter(interview=interview).values_list("kind", flat=True)) == [
        MaterialKind.CV,
        MaterialKind.CASE_REPORT,
    ]
    page = client.get(url(interview)).content.decode()
    assert "个案报告.pdf" in page
    assert booked.meeting_number in page


def test_a_file_that_is_not_accepted_is_refused_next_to_the_file_field(client, interview):
    response = upload(client, interview, content=b"MZ\x90\x00not a pdf", name="report.pdf")

    assert response.status_code == 200
    assert "不是可接受" in str(response.context["material_form"].errors["file"])
    assert not InterviewMaterial.objects.filter(interview=interview).exists()


def test_a_missing_file_is_a_field_error(client, interview):
    response = client.post(url(interview), {"action": "upload", "material-kind": MaterialKind.CASE_REPORT})

    assert response.status_code == 200
    assert response.context["material_form"].errors["file"]


# --- the result -----------------------------------------------------------------------------------


def test_the_result_shows_only_once_sent_and_not_the_total_when_it_was_sent_without(
    clock, interview, supervisor, reviewer, observer, settings
):
    client = signed_in_client(interview.listener.user)
    done = scored(interview, supervisor, reviewer, observer, clock, 7)

    before = client.get(url(interview)).content.decode()
    assert 'data-testid="band"' not in before
    assert "整体反馈。" not in before
    assert "结果会在一周内通知您" in before

    settings.INTERVIEW_RESULT_SHOWS_TOTAL = False
    interview_send_result(interview=done, actor=reviewer)
    page = client.get(url(interview)).content.decode()
    assert 'data-testid="band"' in page
    assert "合格：继续执业" in page
    assert "整体反馈。" in page
    assert 'data-testid="total"' not in page
    assert page.count('data-testid="plan-item"') == 3

    # What the listener was told stays as it was when the setting changes later.
    settings.INTERVIEW_RESULT_SHOWS_TOTAL = True
    assert 'data-testid="total"' not in client.get(url(interview)).content.decode()


def test_the_total_is_shown_when_the_result_was_sent_with_it(clock, interview, supervisor, reviewer, observer):
    client = signed_in_client(interview.listener.user)
    done = scored(interview, supervisor, reviewer, observer, clock, 7)

    interview_send_result(interview=done, actor=reviewer, show_total=True)

    page = client.get(url(interview)).content.decode()
    assert "总分：70.00" in page
    assert "整体反馈。" in page


def test_a_plan_item_is_submitted_and_then_shown_as_verified(clock, interview, supervisor, reviewer, observer):
    client = signed_in_client(interview.listener.user)
    done = scored(interview, supervisor, reviewer, observer, clock, 6)
    interview_send_result(interview=done, actor=reviewer)
    item = InterviewPlanItem.objects.filter(interview=interview).order_by("due_at", "id").first()

    empty = client.post(url(interview), {"action": "plan_submit", "item": item.pk, f"p{item.pk}-note": ""})
    assert empty.status_code == 200
    assert empty.context["plan_items"][0][1].errors["note"]

    response = client.post(
        url(interview), {"action": "plan_submit", "item": item.pk, f"p{item.pk}-note": "完成了 12 小时的共情训练课程。"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == PlanItemState.SUBMITTED
    assert item.completion_note == "完成了 12 小时的共情训练课程。"

    plan_item_verify(item=item, actor=reviewer, note="记录齐全。")
    page = client.get(url(interview)).content.decode()
    assert 'data-testid="plan-verified"' in page
    assert "记录齐全。" in page
    assert client.post(url(interview), {"action": "plan_submit", "item": item.pk}).status_code == 404


def test_another_listeners_plan_item_cannot_be_submitted_here(clock, interview, supervisor, reviewer, observer):
    done = scored(interview, supervisor, reviewer, observer, clock, 7)
    interview_send_result(interview=done, actor=reviewer)
    item = InterviewPlanItem.objects.filter(interview=interview).first()
    mine = interview_request(listener=ListenerProfileFactory(), reason="我的面试", actor=supervisor)
    client = signed_in_client(mine.listener.user)

    response = client.post(url(mine), {"action": "plan_submit", "item": item.pk, f"p{item.pk}-note": "x"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == PlanItemState.OPEN


def test_the_detail_page_query_count_is_bounded(clock, interview, supervisor, reviewer, observer):
    client = signed_in_client(interview.listener.user)
    done = scored(interview, supervisor, reviewer, observer, clock, 7)
    interview_send_result(interview=done, actor=reviewer)
    client.get(url(interview))

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url(interview)).status_code == 200

    assert len(ctx.captured_queries) <= 15


# --- plan evidence ----------------------------------------------------------------------------------


def _plan_item(clock, interview, supervisor, reviewer, observer):
    done = scored(interview, supervisor, reviewer, observer, clock, 7)
    interview_send_result(interview=done, actor=reviewer)
    return InterviewPlanItem.objects.filter(interview=interview).order_by("due_at", "id").first()


def submit_evidence(client, interview, item, content=PDF, name="督导记录.pdf", note=""):
    return client.post(
        url(interview),
        {
            "action": "plan_submit",
            "item": item.pk,
            f"p{item.pk}-note": note,
            f"p{item.pk}-evidence": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )


def evidence_url(interview, item):
    return f"/portal/interviews/{interview.pk}/plan/{item.pk}/evidence/"


def test_the_plan_form_takes_a_file(clock, interview, supervisor, reviewer, observer):
    _plan_item(clock, interview, supervisor, reviewer, observer)

    page = signed_in_client(interview.listener.user).get(url(interview)).content.decode()

    assert 'enctype="multipart/form-data"' in page
    assert "-evidence" in page


def test_a_plan_item_is_submitted_with_a_file_alone_and_the_listener_can_download_it(
    clock, interview, supervisor, reviewer, observer
):
    item = _plan_item(clock, interview, supervisor, reviewer, observer)
    client = signed_in_client(interview.listener.user)

    response = submit_evidence(client, interview, item)

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == PlanItemState.SUBMITTED
    assert item.evidence_name == "督导记录.pdf"
    assert item.evidence_type == "application/pdf"
    assert "督导记录.pdf" not in item.evidence.name  # stored under a random name
    page = client.get(url(interview)).content.decode()
    assert evidence_url(interview, item) in page
    download = client.get(evidence_url(interview, item))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_a_file_that_is_not_accepted_is_refused_next_to_the_evidence_field(
    clock, interview, supervisor, reviewer, observer
):
    item = _plan_item(clock, interview, supervisor, reviewer, observer)
    client = signed_in_client(interview.listener.user)

    response = submit_evidence(client, interview, item, content=b"MZ\x90\x00not a pdf", name="记录.pdf", note="说明")

    assert response.status_code == 200
    form = dict(response.context["plan_items"])[item]
    assert "不是可接受" in str(form.errors["evidence"])
    assert "不是可接受" in response.content.decode()
    item.refresh_from_db()
    assert item.state == PlanItemState.OPEN
    assert not item.evidence


def test_neither_a_note_nor_a_file_is_refused(clock, interview, supervisor, reviewer, observer):
    item = _plan_item(clock, interview, supervisor, reviewer, observer)

    response = signed_in_client(interview.listener.user).post(
        url(interview), {"action": "plan_submit", "item": item.pk, f"p{item.pk}-note": "  "}
    )

    assert response.status_code == 200
    assert "上传证明文件" in response.content.decode()
    item.refresh_from_db()
    assert item.state == PlanItemState.OPEN


def test_another_listener_and_other_people_get_a_404_or_403_for_the_evidence(
    clock, interview, supervisor, reviewer, observer, client_for
):
    item = _plan_item(clock, interview, supervisor, reviewer, observer)
    submit_evidence(signed_in_client(interview.listener.user), interview, item)
    other = interview_request(listener=ListenerProfileFactory(), reason="另一位倾听师", actor=supervisor)
    other_client = signed_in_client(other.listener.user)

    assert other_client.get(evidence_url(interview, item)).status_code == 404
    assert other_client.get(evidence_url(other, item)).status_code == 404
    complainant_client, _user = client_for("complainant")
    assert complainant_client.get(evidence_url(interview, item)).status_code == 403


def test_staff_who_verify_plans_download_the_evidence_from_the_admin_and_it_is_logged(
    clock, interview, supervisor, reviewer, observer, client_for
):
    item = _plan_item(clock, interview, supervisor, reviewer, observer)
    submit_evidence(signed_in_client(interview.listener.user), interview, item)
    item.refresh_from_db()
    assert item.evidence.name
    staff_url = reverse("admin:interviews_competencyinterview_plan_evidence", args=[interview.pk, item.pk])

    change = signed_in_client(reviewer).get(reverse("admin:interviews_competencyinterview_change", args=[interview.pk]))
    assert staff_url in change.content.decode()
    assert item.evidence.name not in change.content.decode()  # never the storage path
    item_page = signed_in_client(supervisor).get(reverse("admin:interviews_interviewplanitem_change", args=[item.pk]))
    assert staff_url in item_page.content.decode()
    assert item.evidence.name not in item_page.content.decode()

    download = signed_in_client(supervisor).get(staff_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert AccessLog.objects.filter(actor=supervisor, object_id=str(item.pk), action="download").exists()

    consultant_client, _user = client_for("consultant")
    assert consultant_client.get(staff_url).status_code == 404  # interviews are not a consultant's to see
    assert signed_in_client(interview.listener.user).get(staff_url).status_code == 302


def test_a_listener_on_another_listeners_panel_does_not_get_that_interview_in_the_portal(
    clock, interview, supervisor, reviewer
):
    # given: a reviewer who is also a listener observes the interview (the access policy lets them see it)
    observer = UserFactory(roles=["reviewer", "listener"])
    ListenerProfileFactory(user=observer)
    item = _plan_item(clock, interview, supervisor, reviewer, observer)
    submit_evidence(signed_in_client(interview.listener.user), interview, item)
    assert access.can_view(observer, interview)

    # when
    client = signed_in_client(observer)
    page = client.get(url(interview))
    download = client.get(evidence_url(interview, item))

    # then: the portal shows a listener only their own
    assert page.status_code == 404
    assert download.status_code == 404


def test_a_move_refused_as_a_conflict_is_a_message_not_an_error_page(clock, client, interview, supervisor, monkeypatch):
    # given: the interview services will raise the conflict family once they leave ValidationError
    slot = publish(supervisor, timedelta(days=3))

    def refuse(**_kwargs):
        raise WrongState("该面试当前不能预约时段。")

    monkeypatch.setattr("portal.interview_views.interview_book", refuse)

    # when
    response = client.post(url(interview), {"action": "book", "book-slot": slot.pk}, follow=True)

    # then
    assert response.redirect_chain[-1] == (url(interview), 302)
    assert "该面试当前不能预约时段。" in response.content.decode()
