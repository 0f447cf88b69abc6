from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from kombu import Connection

from .models import Notification
from .notifications import notification_mark_read
from .typing import AuthedHttpRequest


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    # A fresh connection each time: a pooled one would report a broker that has since gone away.
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 only when the database and the Celery broker both answer."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    status = 200 if all(checks.values()) else 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", **checks}, status=status)


PAGE_SIZE = 30


@never_cache
@login_required
def notification_list(request: AuthedHttpRequest) -> HttpResponse:
    """The signed-in user's own notifications; nobody else's are reachable from here."""
    page = Paginator(Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id"), PAGE_SIZE)
    return render(request, "core/notifications.html", {"page": page.get_page(request.GET.get("page"))})


@login_required
@require_POST
def notification_read(request: AuthedHttpRequest) -> HttpResponse:
    raw = request.POST.get("id")
    notification_id = int(raw) if raw and raw.isdigit() else None
    notification_mark_read(user=request.user, notification_id=notification_id)
    return redirect("core:notifications")
