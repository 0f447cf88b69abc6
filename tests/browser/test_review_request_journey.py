"""A complainant asks for a review of a closed complaint in Chromium; a reviewer who had no part in
the case takes and decides it; the complainant reads the result on the complaint's page."""

import pytest
from playwright.sync_api import expect

from evaluations.models import ReviewRequest, ReviewRequestState

from ..conftest import totp_now
from ..evaluations.outcome_helpers import TEXT_TO_COMPLAINANT, closed_decided_case
from ..factories import PASSWORD, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASONS = "倾听师挂断电话前的那段话没有被考虑到，我希望有人重新看一下。"


def sign_in(page, email, next_path="/"):
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.context.clear_cookies()


def test_a_complainant_asks_for_a_review_and_an_uninvolved_reviewer_decides_it(page):
    complaint, *_ = closed_decided_case()
    complainant = complaint.complainant
    detail = f"/complaints/{complaint.reference}/"

    # The complainant reads the outcome card and asks for a review.
    sign_in(page, complainant.email, detail)
    page.wait_for_url(f"**{detail}")
    card = page.get_by_test_id("outcome-card")
    expect(card).to_contain_text("您反映的情况属实")
    expect(card).to_contain_text(TEXT_TO_COMPLAINANT)
    expect(card.get_by_test_id("outcome-remedies")).to_contain_text("部分退款（40.00 元）")
    card.get_by_role("link", name="申请复核").click()
    page.get_by_label("您希望复核的原因").fill("不满意")
    page.get_by_role("button", name="提交复核申请").click()
    expect(page.get_by_text("至少 10 个字")).to_be_visible()
    expect(page.get_by_label("您希望复核的原因")).to_have_value("不满意")
    page.get_by_label("您希望复核的原因").fill(REASONS)
    page.get_by_role("button", name="提交复核申请").click()
    page.wait_for_url(f"**{detail}")
    expect(page.get_by_test_id("outcome-review")).to_contain_text("正在由未参与原处理的工作人员复核")
    expect(page.get_by_role("link", name="申请复核")).to_have_count(0)
    sign_out(page)

    # A reviewer who had no part in the case takes it, reads the reasons and decides.
    reviewer = UserFactory(roles=["reviewer"])
    device = TOTPDeviceFactory(user=reviewer)
    sign_in(page, reviewer.email, "/review/review-requests/")
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/review/review-requests/")
    row = page.get_by_test_id(f"review-request-{complaint.reference}")
    expect(row).not_to_contain_text(REASONS)
    row.get_by_role("button", name="由我复核").click()
    expect(page.get_by_test_id("review-request-reasons")).to_contain_text(REASONS)
    page.get_by_label("变更原结论").check()
    page.get_by_label("给投诉人的说明").fill("复核后认为您的理由部分成立，平台会补充一份书面解释。")
    page.get_by_role("button", name="提交复核结论").click()
    expect(page.get_by_text("变更原结论时，请写明变更的内容。")).to_be_visible()
    page.get_by_label("变更的内容").fill("增加一份书面解释。")
    page.get_by_role("button", name="提交复核结论").click()
    expect(page.get_by_text("复核结论已记录，并已告知投诉人。")).to_be_visible()
    assert ReviewRequest.objects.get(complaint=complaint).state == ReviewRequestState.CHANGED
    sign_out(page)

    # The complainant sees the result on the card.
    sign_in(page, complainant.email, detail)
    page.wait_for_url(f"**{detail}")
    result = page.get_by_test_id("review-result")
    expect(result).to_contain_text("变更原结论")
    expect(page.get_by_test_id("outcome-review")).to_contain_text("增加一份书面解释。")
    expect(page.get_by_test_id("outcome-review")).not_to_contain_text(str(reviewer))
