"""What a complainant sees of their own cases, and what nobody else can reach."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints.models import Complaint, ComplaintState
from complaints.services import (
    complaint_add_note,
    complaint_assign,
    complaint_escalate,
    complaint_start_triage,
)

from ..conftest import signed_in_client
from ..factories import UserFactory
from .helpers import REAL_NAME, VALID_ID, VALID_PHONE, file_complaint

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def complaint(db):
    return file_complaint(files=[SimpleUploadedFile("截图.png", PNG)])


@pytest.fixture
def owner(complaint):
    return signed_in_client(complaint.complainant)


def test_the_list_shows_only_ones_own_complaints(complaint, owner):
    other = file_complaint()

    page = owner.get("/complaints/").content.decode()

    assert complaint.reference in page
    assert other.reference not in page


def test_the_detail_shows_the_state_in_plain_words_and_only_visible_events(complaint, owner):
    consultant = UserFactory(roles=["consultant"])
    complaint_start_triage(complaint=complaint, actor=consultant)
    complaint_add_note(complaint=complaint, actor=consultant, note="内部备注：倾听师近期已有两起投诉", visible=False)
    complaint_add_note(complaint=complaint, actor=consultant, note="您好，我们正在联系倾听师了解情况", visible=True)

    response = owner.get(f"/complaints/{complaint.reference}/")

    page = response.content.decode()
    assert "咨询顾问正在了解情况" in page
    assert "您好，我们正在联系倾听师了解情况" in page
    assert "内部备注" not in page
    assert "no-store" in response["Cache-Control"]


def test_the_detail_shows_identity_masked_never_in_clear(complaint, owner):
    page = owner.get(f"/complaints/{complaint.reference}/").content.decode()

    assert "张**" in page and "1101**********002X" in page and "138****5678" in page
    for secret in (REAL_NAME, VALID_ID, VALID_PHONE):
        assert secret not in page


@pytest.mark.parametrize("path", ["", "submitted/", "withdraw/"])
def test_another_complainants_reference_is_not_found(complaint, path):
    stranger = signed_in_client(UserFactory(roles=["complainant"]))

    assert stranger.get(f"/complaints/{complaint.reference}/{path}").status_code == 404


@pytest.mark.parametrize("role", ["listener", "consultant", "reviewer", "supervisor"])
def test_complainant_pages_are_for_complainants_only(complaint, role):
    client = signed_in_client(UserFactory(roles=[role]))

    assert client.get("/complaints/").status_code == 403


def test_the_complainant_adds_information_and_a_file(complaint, owner):
    response = owner.post(
        f"/complaints/{complaint.reference}/add-info/",
        {"text": "补充：通话第 20 分钟时她笑了。", "evidence": [SimpleUploadedFile("录音.mp3", b"ID3" + b"\x00" * 64)]},
        follow=True,
    )

    page = response.content.decode()
    assert "补充：通话第 20 分钟时她笑了。" in page
    assert "录音.mp3" in page
    assert complaint.attachments.count() == 2


def pngs(count: int, name: str = "截图.png") -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, PNG) for _ in range(count)]


def add_info(owner, complaint, text: str, files: list):
    return owner.post(f"/complaints/{complaint.reference}/add-info/", {"text": text, "evidence": files})


def test_more_than_five_files_in_one_addition_are_refused_and_the_text_is_kept(complaint, owner):
    response = add_info(owner, complaint, "第二段录音在这里", pngs(6))

    page = response.content.decode()
    assert response.status_code == 400
    assert "一次最多补充 5 个文件，您选了 6 个" in page
    assert "第二段录音在这里</textarea>" in page
    assert complaint.attachments.count() == 1
    assert not complaint.timeline.filter(kind="info_added").exists()


def test_a_case_keeps_at_most_ten_files_and_says_how_many_are_left(complaint, owner):
    assert add_info(owner, complaint, "", pngs(5)).status_code == 302  # 1 from the complaint + 5

    over = add_info(owner, complaint, "还有这些截图", pngs(5))
    fill = add_info(owner, complaint, "", pngs(4))
    full = add_info(owner, complaint, "最后一张", pngs(1))
    text_only = add_info(owner, complaint, "文字说明还可以补充", [])

    assert over.status_code == 400
    assert "这个案件已有 6 个，还能再补充 4 个" in over.content.decode()
    assert "还有这些截图</textarea>" in over.content.decode()
    assert fill.status_code == 302
    assert full.status_code == 400
    assert "这个案件已经满了" in full.content.decode()
    assert text_only.status_code == 302
    assert complaint.attachments.count() == 10


def test_the_limit_messages_have_an_english_translation(complaint, owner):
    owner.post("/i18n/setlang/", {"language": "en"})

    response = add_info(owner, complaint, "", pngs(6))

    assert "at most 5 files" in response.content.decode()


def test_evidence_downloads_with_the_extension_of_what_its_bytes_are(complaint, owner):
    add_info(owner, complaint, "", [SimpleUploadedFile("poly.html", PNG)])
    attachment = complaint.attachments.get(original_name="poly.html")

    response = owner.get(f"/complaints/attachments/{attachment.public_id}/")

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="poly.png"'


def test_the_complainant_withdraws_after_confirming(complaint, owner):
    unconfirmed = owner.post(f"/complaints/{complaint.reference}/withdraw/", {"reason": "想通了"})
    confirmed = owner.post(f"/complaints/{complaint.reference}/withdraw/", {"reason": "想通了", "confirm": "on"})

    assert unconfirmed.status_code == 200
    assert confirmed.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.WITHDRAWN


def test_withdrawing_after_the_case_moved_on_says_so_without_an_error_page(complaint, owner):
    consultant = UserFactory(roles=["consultant"])
    complaint_start_triage(complaint=complaint, actor=consultant)
    from complaints.services import complaint_resolve

    complaint_resolve(complaint=complaint, actor=consultant, resolution="已退款")

    response = owner.post(f"/complaints/{complaint.reference}/withdraw/", {"confirm": "on"}, follow=True)

    assert response.status_code == 200
    assert "不能进行这个操作" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.RESOLVED


def evidence_url(complaint):
    return f"/complaints/attachments/{complaint.attachments.get().public_id}/"


def test_the_complainant_downloads_their_evidence_as_an_attachment(complaint, owner):
    response = owner.get(evidence_url(complaint))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_evidence_removed_by_retention_or_lost_from_storage_is_a_404(complaint, owner):
    attachment = complaint.attachments.get()
    attachment.file.storage.delete(attachment.file.name)
    lost = owner.get(evidence_url(complaint))
    attachment.file = ""
    attachment.save(update_fields=["file"])

    removed = owner.get(evidence_url(complaint))

    assert lost.status_code == 404 and removed.status_code == 404


def test_evidence_is_served_to_assigned_staff_and_supervisors_only(complaint):
    assigned, unassigned = UserFactory(roles=["consultant"]), UserFactory(roles=["consultant"])
    reviewer, supervisor = UserFactory(roles=["reviewer"]), UserFactory(roles=["supervisor"])
    complaint_assign(complaint=complaint, actor=supervisor, consultant=assigned)
    complaint_start_triage(complaint=complaint, actor=assigned)
    url = evidence_url(complaint)
    outsiders = [
        signed_in_client(unassigned),
        signed_in_client(UserFactory(roles=["reviewer"])),
        signed_in_client(complaint.listener.user),
        signed_in_client(UserFactory(roles=["complainant"])),
    ]

    assert signed_in_client(assigned).get(url).status_code == 200
    assert signed_in_client(supervisor).get(url).status_code == 200
    for client in outsiders:
        assert client.get(url).status_code == 404
    complaint_escalate(complaint=complaint, actor=assigned, reviewer=reviewer)
    assert signed_in_client(reviewer).get(url).status_code == 200


def test_evidence_needs_a_signed_in_user(complaint, client):
    response = client.get(evidence_url(complaint))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_listener_never_sees_the_complainants_identity_anywhere_they_can_go(complaint):
    listener = signed_in_client(complaint.listener.user)

    pages = [listener.get(p) for p in ("/", "/complaints/", f"/complaints/{complaint.reference}/")]

    for response in pages:
        body = response.content.decode()
        for secret in (REAL_NAME, VALID_ID, VALID_PHONE, "张**", "138****5678"):
            assert secret not in body
