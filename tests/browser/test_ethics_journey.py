"""A supervisor takes an ethics case from a rating-manipulation report to a decision on its page;
the listener then finds the decision's task in the portal and hands it in."""

import pytest
from playwright.sync_api import expect

from evaluations.models import ListenerTask, TaskState
from listeners.models import ListenerStatus
from supervision.models import EthicsCase, EthicsCaseState, EthicsSource
from supervision.services import ethics_case_open

from ..conftest import totp_now
from ..factories import PASSWORD, ListenerProfileFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email, device=None):
    page.goto("/accounts/login/")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if device is not None:
        page.wait_for_url("**/accounts/otp/verify/**")
        page.get_by_label("验证码").fill(totp_now(device))
        page.get_by_role("button", name="验证").click()


def test_a_supervisor_decides_an_ethics_case_and_the_listener_hands_in_the_task(page, browser, live_server):
    supervisor = UserFactory(roles=["supervisor"], email="zhou@hearken.cn", display_name="督导周")
    device = TOTPDeviceFactory(user=supervisor)
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)
    listener.user.email = "listener@hearken.cn"
    listener.user.save(update_fields=["email"])
    case = ethics_case_open(
        listener=listener,
        source=EthicsSource.RATING_MANIPULATION_REPORT,
        summary="用户反映倾听师私下联系并要求修改差评。",
        actor=supervisor,
    )

    sign_in(page, "zhou@hearken.cn", device)
    page.goto(f"/supervision/ethics/{case.pk}/")
    page.get_by_test_id("action-start").get_by_role("button", name="开始调查").click()
    expect(page.get_by_test_id("case-state")).to_have_text("调查中")
    evaluate = page.get_by_test_id("action-evaluate")
    evaluate.get_by_label("评估意见").fill("聊天记录显示倾听师两次要求用户改评。")
    evaluate.get_by_label("处理等级").select_option(label="1 · 轻微胜任力不足")
    evaluate.get_by_role("button", name="记录评估意见").click()
    expect(page.get_by_test_id("case-state")).to_have_text("已评估")
    expect(page.get_by_test_id("grade-defaults")).to_contain_text("书面反馈、继续学习")

    decide = page.get_by_test_id("action-decide")
    decide.get_by_label("书面反馈").check()
    decide.get_by_label("给倾听师的说明").fill("请阅读督导组的书面反馈并提交反思。")
    decide.get_by_role("button", name="作出决定").click()
    # Other measures than the grade's need a reason; what was typed stays.
    expect(page.get_by_text("处理措施与该等级的默认措施不同，请写明调整理由。")).to_be_visible()
    decide = page.get_by_test_id("action-decide")
    expect(decide.get_by_label("给倾听师的说明")).to_have_value("请阅读督导组的书面反馈并提交反思。")
    decide.get_by_label("调整理由").fill("初次发生，已主动道歉，仅书面反馈。")
    decide.get_by_role("button", name="作出决定").click()

    expect(page.get_by_test_id("case-state")).to_have_text("已作出决定")
    expect(page.get_by_test_id("case-measures")).to_have_text("书面反馈")
    expect(page.get_by_test_id("case-tasks")).to_contain_text("待完成")
    task = ListenerTask.objects.get(listener=listener)
    assert task.case_reference == case.reference and task.decision is None

    listener_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    listener_page = listener_context.new_page()
    listener_page.set_default_timeout(15_000)
    sign_in(listener_page, "listener@hearken.cn")
    listener_page.goto("/portal/tasks/")
    card = listener_page.get_by_test_id("task")
    expect(card).to_contain_text(f"伦理案件 {case.reference}")
    card.get_by_label("完成说明").fill("已阅读反馈，反思附后。")
    card.get_by_role("button", name="提交完成情况").click()
    expect(listener_page.get_by_test_id("task-state")).to_have_text("已提交，待核实")

    # The listener reads the decision and disagrees, with reasons; the form is gone afterwards.
    listener_page.goto("/portal/ethics/")
    decision = listener_page.get_by_test_id("ethics-decision")
    expect(decision.get_by_test_id("text-to-listener")).to_have_text("请阅读督导组的书面反馈并提交反思。")
    decision.get_by_label("我不同意").check()
    decision.get_by_role("button", name="提交意见").click()
    expect(listener_page.get_by_text("不同意时请写明理由。")).to_be_visible()
    decision = listener_page.get_by_test_id("ethics-decision")
    decision.get_by_label("我不同意").check()
    decision.get_by_label("您的理由").fill("当时是用户主动提出修改评价。")
    decision.get_by_role("button", name="提交意见").click()
    expect(listener_page.get_by_test_id("ethics-response-given")).to_contain_text("不同意")
    expect(listener_page.get_by_test_id("ethics-response")).to_have_count(0)
    listener_context.close()
    page.goto(f"/supervision/ethics/{case.pk}/")
    expect(page.get_by_test_id("listener-response")).to_contain_text("当时是用户主动提出修改评价。")

    page.goto("/review/tasks/")
    page.get_by_test_id("task").get_by_role("button", name="核实通过").click()
    expect(page.get_by_text("任务已核实。")).to_be_visible()
    assert ListenerTask.objects.get(pk=task.pk).state == TaskState.VERIFIED
    assert EthicsCase.objects.get(pk=case.pk).state == EthicsCaseState.CLOSED
