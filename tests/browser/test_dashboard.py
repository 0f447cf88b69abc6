"""A supervisor signs in with TOTP, opens the quality dashboard, and every chart is drawn."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from evaluations.models import Evaluation

from ..complaints.helpers import file_complaint
from ..conftest import totp_now
from ..factories import PASSWORD, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = [
    "by_month",
    "by_category",
    "by_state",
    "by_channel",
    "stages",
    "grades",
    "causes",
    "satisfaction",
    "overdue",
    "funnel",
]


def test_a_supervisor_opens_the_dashboard_and_the_charts_render(page, tmp_path):
    for _ in range(3):
        complaint = file_complaint()
    Evaluation.objects.create(
        complaint=complaint,
        reviewer=UserFactory(roles=["reviewer"]),
        is_final=True,
        outcome="B",
        finding_competence_gap=True,
        submitted_at=timezone.now(),
    )
    supervisor = UserFactory(roles=["supervisor"], email="zhou@hearken.cn", display_name="督导周")
    device = TOTPDeviceFactory(user=supervisor)
    problems = []
    # Failed loads are judged by their URL below (chromium asks for /favicon.ico, which no page links).
    page.on(
        "console",
        lambda msg: problems.append(msg.text)
        if msg.type == "error" and not msg.text.startswith("Failed to load resource")
        else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}")
        if r.status >= 400 and not r.url.endswith("/favicon.ico")
        else None,
    )

    page.goto("/supervision/dashboard/")
    page.get_by_label("邮箱").fill("zhou@hearken.cn")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/supervision/dashboard/")

    expect(page.get_by_role("heading", name="投诉处理质量看板")).to_be_visible()
    expect(page.get_by_test_id("freshness")).to_contain_text("数据更新于")
    for chart in CHARTS:
        expect(page.locator(f'[data-chart="{chart}"] canvas')).to_have_count(1)
    page.get_by_text("查看数据表").first.click()
    expect(page.get_by_test_id("table-by_month")).to_be_visible()
    page.get_by_test_id("table-causes").locator("xpath=ancestor::details").locator("summary").click()
    expect(page.get_by_test_id("table-causes")).to_contain_text("专业胜任力不足")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # a date far ahead is refused with the reason, and the charts still draw
    page.get_by_label("截止日期").fill("9999-12-31")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_text("日期须在 2000-01-01 至")).to_be_visible()
    expect(page.get_by_test_id("period-fallback")).to_be_visible()
    expect(page.locator('[data-chart="by_month"] canvas')).to_have_count(1)
    assert problems == []
