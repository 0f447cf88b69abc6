"""A listener in Chromium: opens the complaint shared with them, writes and submits a statement,
and after the decision uploads evidence that a task is done."""

import pytest
from playwright.sync_api import expect

from complaints.models import ComplaintState
from evaluations.models import ListenerStatement, ListenerTask, TaskState

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE
from ..factories import PASSWORD
from ..portal.helpers import decide_grade_2, shared_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_listener_writes_a_statement_then_uploads_evidence_for_a_task(page, tmp_path):
    complaint, lead = shared_case(content="倾听师在通话中多次打断我，还说我想太多。")
    order_no = complaint.session.order_no
    listener = complaint.listener.user
    evidence = tmp_path / "反思.pdf"
    evidence.write_bytes(PDF)

    # From the site home to the portal, where the statement waits among the open items.
    sign_in(page, listener.email)
    page.get_by_role("link", name="进入倾听师工作台").click()
    page.get_by_role("link", name=f"撰写订单 {order_no} 的陈述").click()
    expect(page.get_by_test_id("content")).to_have_text("倾听师在通话中多次打断我，还说我想太多。")
    for secret in (REAL_NAME, VALID_ID, VALID_PHONE, complaint.complainant.email):
        assert secret not in page.content()

    # A draft first (what was typed stays), then the submit, after which the statement is read-only.
    page.get_by_label("您的陈述").fill("用户一开始就很激动。")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存。")).to_be_visible()
    expect(page.get_by_label("您的陈述")).to_have_value("用户一开始就很激动。")
    page.get_by_label("您的陈述").fill("用户一开始就很激动，我试图先稳定情绪，回想起来打断得太多。")
    page.get_by_role("button", name="提交陈述").click()
    expect(page.get_by_test_id("statement-submitted")).to_be_visible()
    statement = ListenerStatement.objects.get(complaint=complaint)
    assert statement.submitted_at is not None
    page.screenshot(path=str(tmp_path / "statement.png"))

    # Later the decision is delivered with tasks.
    decision = decide_grade_2(complaint, lead)
    page.goto("/portal/complaints/")
    page.get_by_role("link", name=order_no).click()
    expect(page.get_by_test_id("decision-text")).to_have_text(decision.text_to_listener)

    page.get_by_role("link", name="查看需要完成的任务").click()
    first = page.get_by_test_id("task").first
    first.get_by_label("完成说明").fill("已阅读书面反馈并写了反思。")
    first.get_by_label("完成证明").set_input_files(str(evidence))
    first.get_by_role("button", name="提交完成情况").click()

    expect(page.get_by_text("已提交，工作人员核实后会通知您。")).to_be_visible()
    task = ListenerTask.objects.filter(decision=decision).order_by("due_at", "id").first()
    assert task.state == TaskState.SUBMITTED
    assert task.evidence_name == "反思.pdf"
    expect(page.get_by_test_id("task").first.get_by_test_id("task-state")).to_have_text(str(TaskState.SUBMITTED.label))
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.FOLLOW_UP
