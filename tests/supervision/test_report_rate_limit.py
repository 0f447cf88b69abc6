"""The report form takes at most five reports an hour from one person (or one address)."""

import pytest
from django.core.cache import cache
from django.urls import include, path

from accounts.roles import Role
from config.urls import urlpatterns as root_urlpatterns
from supervision.models import ListenerReport, ReportKind
from supervision.views import REPORT_LIMIT

from ..conftest import signed_in_client
from ..factories import ListenerProfileFactory

urlpatterns = [path("supervision/", include("supervision.urls")), *root_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

REAL_NAME = "/supervision/report/"
ANONYMOUS = "/supervision/report/anonymous/"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A local-memory cache of this process, emptied for each test: the shared test Redis is flushed
    by every other test run on the machine, which would reset the counters mid-test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def data():
    listener = ListenerProfileFactory()
    return {"listener_code": listener.code, "kind": ReportKind.RATING_MANIPULATION, "content": "私下联系我要求改成好评"}


def test_a_signed_in_user_is_stopped_after_five_reports_an_hour_and_nothing_more_is_saved(data, make_user):
    client = signed_in_client(make_user(Role.COMPLAINANT))
    for _ in range(REPORT_LIMIT):
        assert client.post(REAL_NAME, data).status_code == 200

    response = client.post(REAL_NAME, {**data, "content": "第六份举报"})

    assert response.status_code == 429
    page = response.content.decode()
    assert "一小时内最多可以提交 5 份举报" in page
    assert "第六份举报" in page  # what was typed is kept
    assert ListenerReport.objects.count() == REPORT_LIMIT


def test_the_limit_is_per_person(data, make_user):
    first = signed_in_client(make_user(Role.COMPLAINANT))
    for _ in range(REPORT_LIMIT + 1):
        first.post(REAL_NAME, data)

    response = signed_in_client(make_user(Role.COMPLAINANT)).post(REAL_NAME, data)

    assert response.status_code == 200
    assert ListenerReport.objects.count() == REPORT_LIMIT + 1


def test_anonymous_reports_are_limited_per_address(data, client):
    for _ in range(REPORT_LIMIT):
        assert client.post(ANONYMOUS, data, REMOTE_ADDR="203.0.113.7").status_code == 200

    refused = client.post(ANONYMOUS, data, REMOTE_ADDR="203.0.113.7")
    other_address = client.post(ANONYMOUS, data, REMOTE_ADDR="198.51.100.20")

    assert refused.status_code == 429
    assert "请过一段时间再提交" in refused.content.decode()
    assert other_address.status_code == 200
    assert ListenerReport.objects.filter(anonymous=True).count() == REPORT_LIMIT + 1


def test_the_address_of_an_anonymous_reporter_is_not_kept_in_the_clear(data, client):
    client.post(ANONYMOUS, data, REMOTE_ADDR="203.0.113.7")

    keys = [k for k in cache._cache if "report-limit" in k]
    assert len(keys) == 1
    assert "203.0.113.7" not in keys[0]


def test_a_form_sent_back_for_a_missing_field_does_not_count(data, client):
    for _ in range(REPORT_LIMIT + 2):
        assert client.post(ANONYMOUS, {**data, "content": ""}).status_code == 200

    response = client.post(ANONYMOUS, data)

    assert response.status_code == 200
    assert ListenerReport.objects.count() == 1


def test_viewing_the_form_is_never_limited(data, client):
    for _ in range(REPORT_LIMIT + 1):
        client.post(ANONYMOUS, data)

    assert client.get(ANONYMOUS).status_code == 200
