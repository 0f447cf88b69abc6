"""A listener in Chromium books an interview slot and uploads the case report; once the panel has
held, scored and sent the result, the band, feedback and improvement plan are in the portal."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from interviews.models import Band, CompetencyInterview, InterviewState
from interviews.services import (
    interview_hold,
    interview_request,
    interview_score,
    interview_send_result,
    panel_set,
    slot_publish,
)
from listeners.models import ListenerStatus

from ..factories import PASSWORD, ListenerProfileFactory, UserFactory
from ..interviews.conftest import PDF, all_scores

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_listener_books_uploads_the_report_and_later_sees_the_result(page, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    supervisor = UserFactory(roles=["supervisor"])
    reviewer, observer = UserFactory(roles=["reviewer"]), UserFactory(roles=["reviewer"])
    listener = ListenerProfileFactory(status=ListenerStatus.HIDDEN)
    interview = interview_request(listener=listener, reason="处理决定要求进行胜任力考核面试。", actor=supervisor)
    starts = (timezone.now() + timedelta(days=4)).replace(second=0, microsecond=0)
    slot = slot_publish(starts_at=starts, ends_at=starts + timedelta(minutes=60), actor=supervisor)
    label = f"{timezone.localtime(slot.starts_at):%Y-%m-%d %H:%M} – {timezone.localtime(slot.ends_at):%H:%M}"
    report = tmp_path / "个案报告.pdf"
    report.write_bytes(PDF)

    # From the portal home to the interview, where the open slot is offered.
    sign_in(page, listener.user.email)
    page.goto("/portal/")
    page.get_by_test_id("interviews-link").click()
    page.get_by_role("link", name="查看面试").click()
    page.get_by_label(label).check()
    page.get_by_role("button", name="预约该时段").click()
    expect(page.get_by_text("已预约面试时段。")).to_be_visible()
    expect(page.get_by_test_id("report-due")).to_be_visible()

    # The case report completes the materials and brings the meeting number.
    page.get_by_label("材料类型").select_option("case_report")
    page.get_by_label("文件").set_input_files(str(report))
    page.get_by_role("button", name="上传材料").click()
    expect(page.get_by_text("材料已上传。")).to_be_visible()
    booked = CompetencyInterview.objects.get(pk=interview.pk)
    assert booked.state == InterviewState.SCHEDULED
    expect(page.get_by_test_id("meeting-number")).to_have_text(booked.meeting_number)
    expect(page.get_by_test_id("materials")).to_contain_text("个案报告.pdf")
    expect(page.get_by_test_id("band")).to_have_count(0)

    # The panel holds the interview, scores it and sends the result.
    panel_set(interview=booked, main_interviewer=reviewer, observers=[observer], actor=supervisor)
    with time_machine.travel(slot.ends_at + timedelta(minutes=5), tick=False):
        interview_hold(interview=booked, started_at=slot.starts_at, ended_at=slot.ends_at, actor=reviewer)
    scored = interview_score(interview=booked, scores=all_scores(6), feedback="共情回应需要加强。", actor=reviewer)
    sent = interview_send_result(interview=scored, actor=reviewer)
    assert sent.band == Band.CONDITIONAL

    page.reload()
    expect(page.get_by_test_id("band")).to_have_text(str(Band.CONDITIONAL.label))
    expect(page.get_by_test_id("feedback")).to_have_text("共情回应需要加强。")
    expect(page.get_by_test_id("plan-item")).to_have_count(3)
    expect(page.get_by_test_id("interim-status")).to_contain_text(str(ListenerStatus.HIDDEN.label))

    first = page.get_by_test_id("plan-item").first
    first.get_by_label("完成说明").fill("已完成 12 小时共情训练。")
    first.get_by_role("button", name="提交完成情况").click()
    expect(page.get_by_text("已提交，工作人员核实后会通知您。")).to_be_visible()
    expect(page.get_by_test_id("plan-item").first.get_by_test_id("plan-state")).to_have_text("已提交")
    page.screenshot(path=str(tmp_path / "interview.png"))
