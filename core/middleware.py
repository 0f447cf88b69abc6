"""Request plumbing: the client's address behind the reverse proxy, and no caching of signed-in pages."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


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


class SignedInPagesNotStoredMiddleware:
    """Nothing shown to a signed-in person is kept by a browser or a proxy cache: case content must
    not outlive the session on a shared computer (the back button after sign-out shows nothing).
    One rule for every page, the portal included, instead of a ``never_cache`` on each view;
    responses that already say ``no-store`` are left as they are."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response


class ApiOptionsMiddleware:
    """``OPTIONS`` on an API view says which methods the URL takes (200, ``Allow``, empty body), to
    anyone, as Django's own views do, and nothing more: DRF would otherwise check who is asking
    first and describe the serializers, which fails on views with more than one serializer or an
    HTML renderer. Staff who have not passed the second factor are still stopped before this."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        from rest_framework.views import APIView

        view_class = getattr(view_func, "cls", None)
        if request.method != "OPTIONS" or not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            return None
        allowed = [m.upper() for m in view_class.http_method_names if hasattr(view_class, m)]
        if "GET" in allowed and "HEAD" not in allowed:  # as View.setup() answers HEAD with get()
            allowed.append("HEAD")
        response = HttpResponse(status=200)
        response["Allow"] = ", ".join(allowed)
        response["Content-Length"] = "0"
        return response
