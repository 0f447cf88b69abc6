"""The main interviewer records a held interview in the admin, scores every rubric item, and sends
the result; the listener's status and plan follow from the band."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from interviews.defaults import rubric_load
from interviews.models import CompetencyInterview, InterviewPlanItem, InterviewState
from interviews.services import interview_request
from listeners.models import ListenerProfile, ListenerStatus

from ..conftest import totp_now
from ..factories import PASSWORD, ListenerProfileFactory, TOTPDeviceFactory, UserFactory
from ..interviews.conftest import scheduled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_main_interviewer_records_scores_and_sends_a_passing_result(page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    rubric_load()
    supervisor = UserFactory(roles=["supervisor"])
    reviewer = UserFactory(roles=["reviewer"], email="chen@hearken.cn", display_name="面试官陈")
    observer = UserFactory(roles=["reviewer"])
    device = TOTPDeviceFactory(user=reviewer)
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)
    interview = interview_request(listener=listener, reason="处理决定要求进行胜任力考核面试。", actor=supervisor)
    # Booked four days ago for a slot three days later: the interview took place yesterday.
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        interview, slot = scheduled(interview, supervisor, reviewer, observer)

    page.goto("/accounts/login/")
    page.get_by_label("邮箱").fill("chen@hearken.cn")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_load_state()

    page.goto(f"/admin/interviews/competencyinterview/{interview.pk}/change/")
    page.locator('a[data-action="hold"]').click()
    start = timezone.localtime(slot.starts_at)
    page.get_by_label("面试开始").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("面试结束").fill((start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="记录为已面试").click()
    # 30 minutes is refused next to the end time; nothing is recorded.
    expect(page.get_by_text("面试时长须在 40 至 60 分钟之间。", exact=True)).to_be_visible()
    assert CompetencyInterview.objects.get(pk=interview.pk).state == InterviewState.SCHEDULED
    page.get_by_label("面试结束").fill((start + timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="记录为已面试").click()
    expect(page.get_by_text("已记录面试，结果与反馈须在一周内发出。")).to_be_visible()

    page.locator('a[data-action="score"]').click()
    scores = page.locator('input[name^="score_"]')
    for i in range(scores.count()):
        field = scores.nth(i)
        field.fill(field.get_attribute("max") or "0")
    comments = page.locator('textarea[name^="comment_"]')
    for i in range(comments.count()):
        comments.nth(i).fill("表现稳定")
    page.get_by_label("给倾听师的总体反馈").fill("整体表现良好，边界意识清楚。")
    page.get_by_role("button", name="保存评分").click()
    expect(page.locator(".messagelist")).to_contain_text("100")

    page.locator('a[data-action="send_result"]').click()
    page.screenshot(path=str(tmp_path / "send-result.png"), full_page=True)
    page.get_by_role("button", name="发送结果").click()
    expect(page.get_by_text("结果已发送给倾听师。")).to_be_visible()

    sent = CompetencyInterview.objects.get(pk=interview.pk)
    assert sent.state == InterviewState.RESULT_SENT and sent.total_score == 100
    assert sent.held_ended_at - sent.held_started_at == timedelta(minutes=50)
    assert InterviewPlanItem.objects.filter(interview=sent).count() == 3
    assert ListenerProfile.objects.get(pk=listener.pk).status == ListenerStatus.ACTIVE
