"""A listener in Chromium reports a confidentiality break from the portal; a supervisor is told at
once, reads the report (the only one who may), takes it and records that the police were told."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import AccessLog, Deadline, DeadlineKind, Notification
from supervision.models import BreakCategory, BreakReportState, ConfidentialityBreakReport
from supervision.services import confidentiality_report_file

from ..conftest import totp_now
from ..factories import PASSWORD, ListenerProfileFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "来访者说周五晚上要去前同事家里报复他，已经准备好了刀。"
OTHER_SECRET = "另一位来访者说他在虐待邻居家的孩子。"
POLICE = "北京市公安局朝阳分局"


def sign_in(page, email, device=None, start="/accounts/login/"):
    """From ``start`` (a page that sends an anonymous visitor to sign in) through the sign-in form."""
    page.goto(start)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if device is not None:
        page.wait_for_url("**/accounts/otp/verify/**")
        page.get_by_label("验证码").fill(totp_now(device))
        page.get_by_role("button", name="验证").click()


def views_of(report, actor):
    return AccessLog.objects.filter(
        actor=actor, action="view", object_type="supervision.ConfidentialityBreakReport", object_id=str(report.pk)
    )


def test_a_listener_reports_a_break_and_a_supervisor_acknowledges_it_and_records_the_police_report(
    browser, live_server
):
    # given: another listener's earlier report, then a supervisor with an authenticator
    other = confidentiality_report_file(
        reporter=ListenerProfileFactory().user, category=BreakCategory.CHILD_ABUSE, what_happened=OTHER_SECRET
    )
    supervisor = UserFactory(roles=["supervisor"], email="zhou@hearken.cn", display_name="督导周")
    device = TOTPDeviceFactory(user=supervisor)
    listener = ListenerProfileFactory(
        user=UserFactory(roles=["listener"], email="li@hearken.cn"), display_name="倾听师李"
    )

    listener_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    supervisor_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    try:
        # --- the listener files the report from the portal ------------------------------------
        page = listener_context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, listener.user.email)
        page.get_by_role("link", name="进入倾听师工作台").click()
        page.wait_for_url("**/portal/")
        page.get_by_role("link", name="突破保密报备").click()
        expect(page.get_by_role("heading", name="突破保密报告")).to_be_visible()
        page.get_by_label("正在或计划伤害他人、危害公共安全").check()
        page.get_by_label("订单号（选填）").fill("QS20261126001")
        page.get_by_label("经过").fill(SECRET)
        page.get_by_role("button", name="立即报告督导").click()

        report = ConfidentialityBreakReport.objects.exclude(pk=other.pk).get()
        expect(page.get_by_test_id("confidentiality-filed")).to_contain_text(report.reference)
        assert report.reporter == listener.user and report.listener == listener
        assert report.state == BreakReportState.FILED

        # The listener sees neither the list nor anyone else's report (nor their own, once filed).
        for url in ("/supervision/confidentiality/", f"/supervision/confidentiality/{other.pk}/"):
            response = page.goto(url)
            assert response.status == 403, url
            assert OTHER_SECRET not in page.content() and other.reference not in page.content()
        assert page.goto(f"/supervision/confidentiality/{report.pk}/").status == 403
        assert not AccessLog.objects.filter(actor=listener.user).exists()

        # --- the supervisor is told at once, without the detail --------------------------------
        page = supervisor_context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, supervisor.email, device, start="/notifications/")
        page.wait_for_url("**/notifications/")
        expect(page.get_by_test_id("unread-count")).to_have_text("1")
        notice = page.get_by_test_id("notification-list").get_by_role("listitem").first
        expect(notice.get_by_text("紧急", exact=True)).to_be_visible()
        expect(notice).to_contain_text(report.reference)
        assert SECRET not in page.content()
        assert Notification.objects.get(recipient=supervisor).urgent

        # --- opens it: decrypted for them, and the view is logged ------------------------------
        due = Deadline.objects.get(kind=DeadlineKind.BREAK_ACK, subject_id=report.pk).due_at
        subject = f"【紧急】突破保密报告 {report.reference}：请在 {timezone.localtime(due):%Y-%m-%d %H:%M} 前确认"
        notice.get_by_role("link", name=subject).click()
        page.wait_for_url(f"**/supervision/confidentiality/{report.pk}/")
        expect(page.get_by_test_id("break-what")).to_have_text(SECRET)
        expect(page.get_by_test_id("break-state")).to_have_text("已报告")
        expect(page.get_by_text("本页的每次查看都已记入访问记录。")).to_be_visible()
        assert OTHER_SECRET not in page.content()
        assert views_of(report, supervisor).count() == 1

        # --- takes it --------------------------------------------------------------------------
        page.get_by_test_id("acknowledge").click()
        expect(page.get_by_text(f"已确认接手 {report.reference}。")).to_be_visible()
        expect(page.get_by_test_id("break-state")).to_have_text("督导已确认")
        expect(page.get_by_test_id("acknowledge")).to_have_count(0)
        report.refresh_from_db()
        assert report.state == BreakReportState.ACKNOWLEDGED
        assert report.acknowledged_by == supervisor
        assert views_of(report, supervisor).count() == 2

        # --- records that the police were told, when and by whom -------------------------------
        told_at = timezone.localtime() - timedelta(minutes=30)
        page.get_by_label("已报告", exact=True).check()
        page.get_by_label("报告的部门").fill(POLICE)
        page.get_by_label("报告时间").fill(told_at.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("处理结果").fill("已电话报警并提供来访者订单信息，警方已出警。")
        page.get_by_role("button", name="保存处理结果").click()

        expect(page.get_by_text(f"已记录 {report.reference} 的处理结果。")).to_be_visible()
        expect(page.get_by_test_id("break-state")).to_have_text("已记录处理结果")
        expect(page.get_by_test_id("break-authority")).to_have_text(
            f"已报告 {POLICE}（督导周，{told_at:%Y-%m-%d %H:%M}）"
        )
        expect(page.get_by_role("button", name="保存处理结果")).to_have_count(0)
        report.refresh_from_db()
        assert report.state == BreakReportState.CONCLUDED
        assert report.authority_notified is True
        assert report.authority_name == POLICE
        assert report.authority_notified_by == supervisor
        assert timezone.localtime(report.authority_notified_at).strftime("%Y-%m-%d %H:%M") == told_at.strftime(
            "%Y-%m-%d %H:%M"
        )
        assert report.outcome_recorded_by == supervisor
        assert views_of(report, supervisor).count() == 3
        assert not views_of(other, supervisor).exists()
    finally:
        listener_context.close()
        supervisor_context.close()
