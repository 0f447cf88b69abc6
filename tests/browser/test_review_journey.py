"""A lead reviewer works a case in Chromium: from the queue to a decision sent for approval."""

import pytest
from playwright.sync_api import expect

from complaints.models import Complaint, ComplaintState
from evaluations.models import Decision, DecisionState, Evaluation

from ..complaints.helpers import REAL_NAME, VALID_ID, VALID_PHONE
from ..conftest import totp_now
from ..evaluations.helpers import escalated_case
from ..factories import PASSWORD, TOTPDeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_with_totp(page, user, device):
    page.goto("/accounts/login/?next=/review/")
    page.get_by_label("邮箱").fill(user.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/review/")


def tab_and_type(page, label: str, text: str) -> None:
    """Move on with Tab, check the focus landed where a keyboard user expects, and type."""
    page.keyboard.press("Tab")
    expect(page.get_by_label(label, exact=True)).to_be_focused()
    page.keyboard.type(text)


def test_a_reviewer_scores_reconciles_and_sends_a_grade_2_decision_for_approval(page, tmp_path):
    complaint, lead = escalated_case(content="倾听师在通话中多次打断我，还说我想太多。")
    device = TOTPDeviceFactory(user=lead)

    # The queue, behind the second factor.
    sign_in_with_totp(page, lead, device)
    row = page.get_by_test_id("queue-row").filter(has_text=complaint.reference)
    expect(row).to_contain_text("调查中")
    row.get_by_role("link", name=complaint.reference).click()
    expect(page.get_by_test_id("content")).to_contain_text("多次打断我")
    assert REAL_NAME not in page.content() and VALID_ID not in page.content() and VALID_PHONE not in page.content()

    page.get_by_role("button", name="调查完成，开始评估").click()
    expect(page.get_by_role("heading", name="我的评估", exact=True)).to_be_visible()

    # The scoring page, with the keyboard: radios by arrow keys, checkboxes by space, Tab in between.
    page.get_by_label("属实且有证据").focus()
    page.keyboard.press("Space")
    tab_and_type(page, "事实判断的理由", "录音显示倾听师多次打断用户。")
    tab_and_type(page, "引用的证据", "通话录音第 12–20 分钟")
    page.keyboard.press("Tab")
    expect(page.get_by_label("合理", exact=True)).to_be_focused()
    page.keyboard.press("ArrowDown")  # 部分合理
    tab_and_type(page, "诉求判断的理由", "道歉合理，全额退款过高。")
    page.keyboard.press("Tab")
    expect(page.get_by_label("专业胜任力不足")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # 造成用户主观伤害
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    tab_and_type(page, "胜任力与伦理判断的理由", "共情不足，对用户造成伤害；未见诱导下单或违法。")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # 觉察 2
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 反思 3
    tab_and_type(page, "觉察与反思评估的理由", "事后经提示才觉察，陈述中有反思。")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # 结论 B
    page.keyboard.press("Tab")
    expect(page.get_by_label("建议等级")).to_be_focused()
    page.get_by_label("建议等级").select_option(label="2 级 · 明显胜任力不足或轻微伦理问题")
    tab_and_type(page, "结论理由", "存在明显的胜任力不足，可以弥补。")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="保存草稿")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="提交评估")).to_be_focused()
    page.screenshot(path=str(tmp_path / "scoring.png"), full_page=True)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="我的评估（已提交，只读）")).to_be_visible()
    own = Evaluation.objects.get(complaint=complaint, reviewer=lead, is_final=False)
    assert own.submitted and own.facts == "substantiated" and own.demand == "partly"
    assert own.finding_competence_gap and own.finding_subjective_harm and not own.finding_inducing_orders
    assert (own.awareness, own.reflection, own.outcome, own.proposed_grade.level) == (2, 3, "B", 2)

    # The lead's final evaluation starts from their own scores.
    page.get_by_role("link", name="最终评估", exact=True).click()
    expect(page.get_by_label("事实判断的理由")).to_have_value("录音显示倾听师多次打断用户。")
    page.get_by_label("评估人之间的分歧").fill("仅主审一人评估，无分歧。")
    page.get_by_role("button", name="形成最终评估").click()

    # The decision: grade 2's defaults are prefilled; a partial refund is added.
    expect(page.get_by_test_id("grade-defaults")).to_contain_text("明显胜任力不足或轻微伦理问题")
    expect(page.get_by_label("接受督导")).to_be_checked()
    expect(page.get_by_label("部分退款", exact=True)).to_be_checked()
    page.get_by_label("部分退款金额（元）").fill("40")
    page.get_by_label("给投诉人的说明").fill("经调查，倾听师存在明显的胜任力不足。平台向您致歉，并退还部分费用 40 元。")
    page.get_by_label("给倾听师的说明").fill("专业组认为本次倾诉中共情不足，请完成督导与个人体验。")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_test_id("decision-state")).to_have_text("草稿")
    expect(page.get_by_test_id("refund-amount")).to_contain_text("40")
    page.get_by_role("button", name="提交", exact=True).click()

    expect(page.get_by_test_id("decision-state")).to_have_text("待督导批准")
    page.screenshot(path=str(tmp_path / "pending.png"), full_page=True)
    decision = Decision.objects.get(complaint=complaint)
    assert decision.state == DecisionState.PENDING_APPROVAL
    assert decision.grade.level == 2 and str(decision.refund_amount) == "40.00"
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.EVALUATION
