"""The web intake form as a complainant meets it."""

import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from complaints.models import Attachment, Complaint, ComplaintState, ConsentText, Priority, TimelineEvent

from ..conftest import signed_in_client
from ..factories import ListeningSessionFactory, UserFactory
from .helpers import REAL_NAME, VALID_ID, VALID_PHONE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64


@pytest.fixture
def complainant(db):
    return UserFactory(roles=["complainant"], email="lin@example.cn")


@pytest.fixture
def session(complainant):
    return ListeningSessionFactory(complainant=complainant, order_no="QS20261120001")


@pytest.fixture
def client(complainant):
    return signed_in_client(complainant)


def form_data(chosen, **overrides):
    data = {
        "session": str(chosen.pk),
        "order_no": "",
        "category": "professional_competence",
        "content": "倾听师在通话中多次打断我，还说我想太多。",
        "demands": ["apology", "explanation"],
        "demands_other": "",
        "real_name": REAL_NAME,
        "id_number": VALID_ID,
        "phone": VALID_PHONE,
        "consent": "on",
        "consent_version": ConsentText.objects.get(is_current=True).version,
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def test_a_complainant_files_a_complaint_and_sees_its_reference(client, session, complainant):
    response = client.post("/complaints/new/", form_data(session), follow=True)

    complaint = Complaint.objects.get()
    page = response.content.decode()
    assert complaint.reference in page
    assert complaint.reference.startswith("TS-")
    assert complaint.complainant == complainant
    assert complaint.state == ComplaintState.SUBMITTED
    assert complaint.consent_text.is_current
    assert complaint.consent_ip == "127.0.0.1"
    assert (complaint.first_response_due - complaint.submitted_at).total_seconds() == 24 * 3600
    assert response["Cache-Control"].count("no-store") == 1


def test_the_complainant_is_emailed_the_reference_without_identity_data(
    client, session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/complaints/new/", form_data(session))

    complaint = Complaint.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lin@example.cn"]
    assert complaint.reference in message.subject + message.body
    for secret in (REAL_NAME, VALID_ID, VALID_PHONE, "1101", "138****"):
        assert secret not in message.body


def test_typing_an_order_number_of_ones_own_session_works(client, session):
    client.post("/complaints/new/", form_data(session, session="", order_no="QS20261120001"))

    assert Complaint.objects.get().session == session


def test_an_order_number_that_is_not_yours_is_refused_and_nothing_typed_is_lost(client, session):
    someone_elses = ListeningSessionFactory(order_no="QS-OTHER-1")

    response = client.post(
        "/complaints/new/", form_data(session, session="", order_no=someone_elses.order_no, content="我的经历")
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "没有找到属于您账户的这个订单号" in page
    assert "我的经历" in page
    assert f'value="{VALID_ID}"' in page
    assert not Complaint.objects.exists()


def test_choosing_another_users_session_id_is_refused(client, session):
    other = ListeningSessionFactory()

    response = client.post("/complaints/new/", form_data(session, session=str(other.pk)))

    assert response.status_code == 200
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("110105194912310021", "校验位不正确"),
        ("110105491231002", "15 位的旧版身份证号"),
        ("11010519491331002X", "出生日期不正确"),
        ("abc", "18 位"),
    ],
)
def test_a_bad_id_number_is_explained_next_to_the_field(client, session, id_number, message):
    response = client.post("/complaints/new/", form_data(session, id_number=id_number))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_complaint_without_consent_is_refused_with_a_gentle_reason(client, session):
    data = form_data(session)
    del data["consent"]

    response = client.post("/complaints/new/", data)

    assert "不同意也没关系" in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_consent_checkbox_is_unticked_and_shows_the_version(client, session):
    page = client.get("/complaints/new/").content.decode()

    assert 'name="consent"' in page
    assert 'name="consent" checked' not in page
    assert "版本 2026.1" in page
    assert "谁能看到这些信息" in page


def test_a_consent_text_changed_meanwhile_must_be_read_again(client, session):
    response = client.post("/complaints/new/", form_data(session, consent_version="2025.9"))

    assert "知情同意书刚刚更新了" in response.content.decode()
    assert not Complaint.objects.exists()


def test_double_submission_creates_one_complaint(client, session):
    data = form_data(session)

    first = client.post("/complaints/new/", data)
    second = client.post("/complaints/new/", data)

    assert Complaint.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_evidence_files_are_stored_under_random_names_with_their_real_type(client, session):
    files = [
        SimpleUploadedFile("../../etc/截图.png", PNG, content_type="image/png"),
        SimpleUploadedFile("聊天记录.pdf", PDF, content_type="application/pdf"),
    ]

    client.post("/complaints/new/", {**form_data(session), "evidence": files})

    attachments = list(Attachment.objects.order_by("id"))
    assert [a.original_name for a in attachments] == ["截图.png", "聊天记录.pdf"]
    assert [a.content_type for a in attachments] == ["image/png", "application/pdf"]
    for a in attachments:
        assert ".." not in a.file.name and "截图" not in a.file.name
        assert a.file.name.startswith("complaints/")


def test_a_pdf_that_is_really_an_executable_is_refused_and_must_be_chosen_again(client, session):
    bad = SimpleUploadedFile("report.pdf", ELF, content_type="application/pdf")

    response = client.post("/complaints/new/", {**form_data(session), "evidence": [bad]})

    page = response.content.decode()
    assert "不是可接受的图片、PDF 或音频文件" in page
    assert "请重新选择" in page and "report.pdf" in page
    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()


def test_an_oversize_file_is_refused(client, session):
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (10 * 1024 * 1024), content_type="image/png")

    response = client.post("/complaints/new/", {**form_data(session), "evidence": [big]})

    assert "超过 10 MB" in response.content.decode()
    assert not Complaint.objects.exists()


def test_more_than_five_files_are_refused(client, session):
    files = [SimpleUploadedFile(f"{n}.png", PNG, content_type="image/png") for n in range(6)]

    response = client.post("/complaints/new/", {**form_data(session), "evidence": files})

    assert "最多上传 5 个文件" in response.content.decode()
    assert not Complaint.objects.exists()


def test_crisis_words_raise_priority_alert_supervisors_and_show_the_hotline(
    client, session, django_capture_on_commit_callbacks
):
    supervisor = UserFactory(roles=["supervisor"], email="li@hearken.cn")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/complaints/new/", form_data(session, content="那次之后我真的不想活了"), follow=True)

    complaint = Complaint.objects.get()
    assert complaint.crisis
    assert complaint.priority == Priority.URGENT
    assert "12356" in response.content.decode()
    assert any(m.to == [supervisor.email] and complaint.reference in m.subject for m in mail.outbox)
    assert TimelineEvent.objects.filter(complaint=complaint, kind="crisis").exists()


def test_ordinary_content_is_not_flagged_as_crisis(client, session):
    client.post("/complaints/new/", form_data(session, content="倾听师迟到了十分钟"))

    complaint = Complaint.objects.get()
    assert not complaint.crisis
    assert complaint.priority == Priority.NORMAL


def test_content_is_rendered_escaped(client, session):
    client.post("/complaints/new/", form_data(session, content="<script>alert(1)</script>"))
    reference = Complaint.objects.get().reference

    page = client.get(f"/complaints/{reference}/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_identity_is_encrypted_at_rest(client, session):
    client.post("/complaints/new/", form_data(session))

    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, id_number, phone FROM complaints_complaint")
        row = cursor.fetchone()
    assert all(value.startswith("v1:") for value in row)
    assert REAL_NAME not in str(row) and VALID_ID not in str(row) and VALID_PHONE not in str(row)


def test_a_second_open_complaint_about_the_same_session_is_flagged_as_duplicate(client, session):
    client.post("/complaints/new/", form_data(session))
    client.post("/complaints/new/", form_data(session, content="再说一次"))

    first, second = Complaint.objects.order_by("id")
    assert second.duplicate_of == first
    assert first.duplicate_of is None


def test_non_complainants_cannot_use_the_form(make_user):
    for role in ("listener", "consultant"):
        response = signed_in_client(make_user(role)).get("/complaints/new/")
        assert response.status_code == 403


def test_file_upload_names_cannot_escape_the_storage_folder(client, session, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    upload = SimpleUploadedFile("../../../../tmp/evil.png", PNG, content_type="image/png")

    client.post("/complaints/new/", {**form_data(session), "evidence": [upload]})

    stored = Attachment.objects.get().file.path
    assert stored.startswith(str(tmp_path))
    assert Path(stored).read_bytes() == PNG
