"""The client's address behind the reverse proxy that production runs in front of gunicorn."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ProxiedClientAddressMiddleware:
    """With ``TRUSTED_PROXY_COUNT`` proxies in front, the client is the address that many entries
    from the right of X-Forwarded-For (each proxy appends what it saw, so only those are trusted).
    Sign-in lockout, access logs, consent records and the report limit all read REMOTE_ADDR; without
    this they would see the proxy's address for everyone. Off (0) when nothing is in front."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
        if count > 0:
            forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
            if len(forwarded) >= count:
                candidate = forwarded[-count]
                try:
                    ipaddress.ip_address(candidate)
                except ValueError:
                    pass
                else:
                    request.META["REMOTE_ADDR"] = candidate
        return self.get_response(request)
