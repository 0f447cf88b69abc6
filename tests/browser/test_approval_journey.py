"""A supervisor signs in with TOTP, reads a pending grade-2 decision in the approval queue and approves it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.models import OutboxEvent
from evaluations.models import Decision, DecisionState, Grade
from evaluations.services import decision_draft, decision_submit

from ..conftest import totp_now
from ..evaluations.helpers import finalized
from ..factories import PASSWORD, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_reads_a_pending_grade_2_decision_and_approves_it(page, tmp_path):
    complaint, lead = finalized("B", 2)
    decision = decision_draft(
        complaint=complaint,
        actor=lead,
        grade=Grade.objects.get(level=2),
        refund_amount=Decimal("40.00"),
        text_to_complainant="经调查，倾听师存在明显的胜任力不足，平台向您致歉并部分退款 40 元。",
        text_to_listener="专业组认为本次倾诉中共情不足，请完成督导和个人体验。",
    )
    decision_submit(decision=decision, actor=lead)
    supervisor = UserFactory(roles=["supervisor"], email="li@hearken.cn", display_name="督导李")
    device = TOTPDeviceFactory(user=supervisor)

    page.goto("/review/approvals/")
    page.get_by_label("邮箱").fill("li@hearken.cn")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/review/approvals/")

    card = page.get_by_test_id(f"decision-{complaint.reference}")
    expect(card.get_by_test_id("grade")).to_contain_text("2 级")
    expect(card.get_by_test_id("remedies")).to_contain_text("部分退款 40.00 元")
    expect(card.get_by_test_id("text-to-complainant")).to_contain_text("部分退款 40 元")
    expect(card.get_by_test_id("final-evaluation")).to_contain_text("录音显示倾听师多次打断用户。")
    page.screenshot(path=str(tmp_path / "approval-queue.png"), full_page=True)
    card.get_by_role("button", name="批准").click()

    expect(page.get_by_text(f"已批准 {complaint.reference} 的处理决定。")).to_be_visible()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    approved = Decision.objects.get(pk=decision.pk)
    assert approved.state == DecisionState.APPROVED
    assert approved.approved_by == supervisor
    refund = OutboxEvent.objects.get(kind="remedy.approved")
    assert refund.payload["order_no"] == complaint.session.order_no
    assert refund.payload["remedy"] == "partial_refund"
    assert refund.payload["amount"] == "40.00"
