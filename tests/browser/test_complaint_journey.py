"""A complainant files a complaint with evidence in Chromium; a consultant triages and escalates it."""

import pytest
from playwright.sync_api import expect

from complaints.models import Complaint, ComplaintState

from ..conftest import totp_now
from ..factories import PASSWORD, ListeningSessionFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_complainant_files_a_complaint_with_evidence_and_sees_the_reference(page, tmp_path):
    complainant = UserFactory(roles=["complainant"], email="lin@example.cn")
    session = ListeningSessionFactory(complainant=complainant, order_no="QS20261120001")
    evidence = tmp_path / "聊天截图.png"
    evidence.write_bytes(PNG)

    sign_in(page, "lin@example.cn")
    page.get_by_role("link", name="提交投诉").first.click()
    page.get_by_label("选择被投诉的倾诉订单").select_option(str(session.pk))
    page.get_by_label("专业能力", exact=False).check()
    page.get_by_label("发生了什么").fill("倾听师在通话中多次打断我。")
    page.get_by_label("道歉").check()
    page.get_by_label("真实姓名").fill("张晓明")
    page.get_by_label("身份证号").fill("110105194912310021")  # wrong check digit first
    page.get_by_label("手机号").fill("13812345678")
    page.get_by_label("我已阅读并同意").check()
    page.get_by_label("证据文件（可选）").set_input_files(str(evidence))
    page.get_by_role("button", name="提交投诉").click()

    # The mistake is explained next to the field, and what was typed is still there.
    assert page.get_by_text("身份证号校验位不正确").is_visible()
    assert page.get_by_label("发生了什么").input_value() == "倾听师在通话中多次打断我。"
    assert page.get_by_test_id("reselect-files").is_visible()
    page.get_by_label("身份证号").fill("11010519491231002X")
    page.get_by_label("我已阅读并同意").check()
    page.get_by_label("证据文件（可选）").set_input_files(str(evidence))
    page.get_by_role("button", name="提交投诉").click()

    reference = page.get_by_test_id("reference").inner_text()
    complaint = Complaint.objects.get()
    assert reference == complaint.reference
    assert complaint.attachments.get().original_name == "聊天截图.png"
    page.screenshot(path=str(tmp_path / "submitted.png"))
    page.get_by_role("link", name="查看投诉进度").click()
    assert page.get_by_test_id("state").inner_text() == ComplaintState.SUBMITTED.label


def test_a_consultant_signs_in_with_totp_then_triages_and_escalates_in_the_admin(page, tmp_path):
    from ..complaints.helpers import REAL_NAME, VALID_ID, file_complaint

    complaint = file_complaint(content="倾听师一直在说自己的事。")
    consultant = UserFactory(roles=["consultant"], email="chen@hearken.cn", display_name="顾问陈")
    device = TOTPDeviceFactory(user=consultant)
    UserFactory(roles=["reviewer"], email="wang@hearken.cn", display_name="专业组王")

    sign_in(page, "chen@hearken.cn")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/")
    page.goto("/admin/complaints/complaint/")
    # The queue shows the case and no identity data.
    assert page.get_by_role("link", name=complaint.reference).is_visible()
    assert REAL_NAME not in page.content() and VALID_ID not in page.content()
    page.get_by_role("link", name=complaint.reference).click()
    page.wait_for_url("**/change/")
    assert page.get_by_text("张**").first.is_visible()

    page.get_by_role("link", name="开始初步处理").click()
    page.get_by_role("button", name="开始初步处理").click()
    page.get_by_role("link", name="转专业组调查").click()
    page.get_by_label("负责专业组成员").select_option(label="专业组王")
    page.get_by_role("button", name="转专业组调查").click()

    expect(page.get_by_text(f"{complaint.reference} 已转交专业组")).to_be_visible()
    page.screenshot(path=str(tmp_path / "escalated.png"), full_page=True)
    saved = Complaint.objects.get(pk=complaint.pk)
    assert saved.state == ComplaintState.INVESTIGATION
    assert saved.assigned_reviewer.email == "wang@hearken.cn"
    assert saved.assigned_consultant == consultant
