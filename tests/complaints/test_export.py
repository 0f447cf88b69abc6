"""A complainant downloads their own complaints as JSON: theirs only, identity in clear, logged."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from complaints.models import TimelineEvent
from complaints.services import complaint_add_note
from core.models import AccessLog

from ..conftest import signed_in_client
from ..factories import UserFactory
from .helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint

pytestmark = pytest.mark.django_db

URL = "/complaints/export/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def owner():
    return UserFactory(roles=[Role.COMPLAINANT])


@pytest.fixture
def stranger_complaint():
    other = UserFactory(roles=[Role.COMPLAINANT], email="other-person@example.cn")
    return file_complaint(
        other,
        content="另一个人的投诉内容",
        real_name="李四",
        id_number="110101199003077774",
        phone="13900001111",
        files=[SimpleUploadedFile("别人的截图.png", PNG, content_type="image/png")],
    )


def download(user):
    response = signed_in_client(user).get(URL)
    assert response.status_code == 200
    return response, json.loads(response.content.decode())


def test_the_download_is_a_json_attachment_not_cached(owner):
    file_complaint(owner)

    response, data = download(owner)

    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="hearken-complaints-')
    assert "no-store" in response["Cache-Control"]
    assert data["format"] == "hearken-complainant-export"


def test_it_holds_my_complaints_with_my_identity_in_clear_events_and_file_names(owner, make_user):
    # given
    complaint = file_complaint(
        owner, files=[SimpleUploadedFile("聊天截图.png", PNG, content_type="image/png")], demands=["apology", "refund"]
    )
    consultant = make_user(Role.CONSULTANT)
    complaint_add_note(complaint=complaint, actor=consultant, note="我们已联系倾听师了解情况", visible=True)
    complaint_add_note(complaint=complaint, actor=consultant, note="内部备注：倾听师态度差", visible=False)

    # when
    _response, data = download(owner)

    # then
    [item] = data["complaints"]
    assert item["reference"] == complaint.reference
    assert item["state"] == complaint.state and item["category"] == "professional_competence"
    assert item["content"] == complaint.content
    assert [d["key"] for d in item["demands"]] == ["apology", "refund"]
    assert item["identity"] == {"real_name": REAL_NAME, "id_number": VALID_ID, "phone": VALID_PHONE}
    assert item["session_order_no"] == complaint.session.order_no
    assert item["submitted_at"]
    notes = [e["note"] for e in item["timeline"]]
    assert "我们已联系倾听师了解情况" in notes
    assert "内部备注：倾听师态度差" not in json.dumps(data, ensure_ascii=False)
    visible = TimelineEvent.objects.filter(complaint=complaint, visible_to_complainant=True).count()
    assert len(item["timeline"]) == visible
    assert [a["name"] for a in item["attachments"]] == ["聊天截图.png"]


def test_another_complainants_data_never_appears(owner, stranger_complaint):
    # given
    mine = file_complaint(owner)

    # when
    _response, data = download(owner)

    # then
    text = json.dumps(data, ensure_ascii=False)
    assert [c["reference"] for c in data["complaints"]] == [mine.reference]
    for secret in (
        stranger_complaint.reference,
        "另一个人的投诉内容",
        "李四",
        "110101199003077774",
        "13900001111",
        "别人的截图.png",
        "other-person@example.cn",
    ):
        assert secret not in text


def test_a_complainant_without_complaints_gets_an_empty_list(owner, stranger_complaint):
    _response, data = download(owner)

    assert data["complaints"] == []


def test_each_download_is_written_to_the_access_log(owner):
    file_complaint(owner)

    download(owner)

    log = AccessLog.objects.get(actor=owner)
    assert log.action == "export"
    assert (log.object_type, log.object_id) == ("accounts.User", str(owner.pk))


@pytest.mark.parametrize("role", [Role.LISTENER, Role.CONSULTANT, Role.SUPERVISOR])
def test_only_complainants_may_download(role, make_user, stranger_complaint):
    response = signed_in_client(make_user(role)).get(URL)

    assert response.status_code == 403
    assert not AccessLog.objects.filter(action="export").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302


def test_the_list_page_links_to_the_download(owner):
    html = signed_in_client(owner).get("/complaints/").content.decode()

    assert f'href="{URL}"' in html
