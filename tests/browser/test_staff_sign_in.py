import pytest

from ..conftest import totp_now
from ..factories import PASSWORD, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consultant_signs_in_with_password_and_totp_and_reaches_the_admin_index(page):
    consultant = UserFactory(roles=["consultant"], email="chen@hearken.cn")
    device = TOTPDeviceFactory(user=consultant)

    page.goto("/admin/")
    page.get_by_label("邮箱").fill("chen@hearken.cn")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill(totp_now(device))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/admin/")

    assert page.get_by_role("heading", name="工作台").is_visible()
    assert "Hearken 投诉处理后台" in page.content()


def test_a_wrong_code_keeps_the_consultant_out_of_the_admin(page):
    consultant = UserFactory(roles=["consultant"], email="wang@hearken.cn")
    TOTPDeviceFactory(user=consultant)

    page.goto("/accounts/login/?next=/admin/")
    page.get_by_label("邮箱").fill("wang@hearken.cn")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/otp/verify/**")
    page.get_by_label("验证码").fill("000000")
    page.get_by_role("button", name="验证").click()

    assert page.get_by_text("验证码不正确").is_visible()
    page.goto("/admin/")
    assert "/accounts/otp/verify/" in page.url
