"""Behind the reverse proxy, the client's address is the one the trusted proxy saw."""

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from core.middleware import ProxiedClientAddressMiddleware

from ..factories import ListenerProfileFactory


def seen(settings, count, forwarded, remote="10.0.0.2"):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    ProxiedClientAddressMiddleware(lambda r: HttpResponse())(request)
    return request.META["REMOTE_ADDR"]


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.2"),  # no proxy trusted: the header is the client's to forge
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a forged first entry is ignored
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),  # fewer entries than proxies: not trusted
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address_is_taken_from_the_trusted_end_of_the_header(settings, count, forwarded, expected):
    assert seen(settings, count, forwarded) == expected


def test_anonymous_reports_behind_the_proxy_are_limited_per_client(settings, client, db):
    settings.TRUSTED_PROXY_COUNT = 1
    # A cache of this process: the shared test Redis is emptied by other runs.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    listener = ListenerProfileFactory()
    data = {"listener_code": listener.code, "kind": "other", "content": "向我宣泄情绪"}
    first = [
        client.post("/supervision/report/anonymous/", data, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code
        for _ in range(6)
    ]
    other = client.post("/supervision/report/anonymous/", data, HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert first[-1] == 429 and first[:5] == [200] * 5
    assert other.status_code == 200
