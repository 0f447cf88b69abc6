"""A complainant downloads their own data (个人信息副本): every complaint they filed, as JSON.

It is their data, so their identity is in clear; the download is written to the access log.
Only their own complaints, the timeline events shown to them on those complaints, and the names
of the files attached to those complaints: nothing of a case merged with theirs by someone else.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.typing import AuthedHttpRequest
from core.audit import access_log_write

from .models import Attachment, Complaint, Demand, TimelineEvent
from .views import _complainant_only

EXPORT_VERSION = 1


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def complainant_export_data(user) -> dict[str, Any]:
    """The export of ``user``'s own complaints, oldest first."""
    complaints = list(
        Complaint.objects.filter(complainant=user)
        .select_related("session", "listener", "consent_text")
        .order_by("submitted_at", "pk")
    )
    ids = [c.pk for c in complaints]
    events: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for e in TimelineEvent.objects.filter(complaint_id__in=ids, visible_to_complainant=True).order_by(
        "created_at", "id"
    ):
        events[e.complaint_id].append(
            {
                "at": _iso(e.created_at),
                "kind": e.kind,
                "kind_label": str(e.get_kind_display()),
                "from_state": e.from_state,
                "to_state": e.to_state,
                "note": e.note,
            }
        )
    files: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for a in Attachment.objects.filter(complaint_id__in=ids).order_by("created_at", "id"):
        files[a.complaint_id].append({"name": a.original_name, "size": a.size, "uploaded_at": _iso(a.created_at)})
    demand_labels = dict(Demand.choices)
    return {
        "format": "hearken-complainant-export",
        "version": EXPORT_VERSION,
        "exported_at": _iso(timezone.now()),
        "account": {"email": user.email, "display_name": user.display_name},
        "complaints": [
            {
                "reference": c.reference,
                "submitted_at": _iso(c.submitted_at),
                "updated_at": _iso(c.updated_at),
                "first_response_at": _iso(c.first_response_at),
                "state": c.state,
                "state_label": str(c.get_state_display()),
                "category": c.category,
                "category_label": str(c.get_category_display()),
                "session_order_no": c.session.order_no,
                "listener_code": c.listener.code,
                "content": c.content,
                "demands": [{"key": d, "label": str(demand_labels.get(d, d))} for d in c.demands],
                "demands_other": c.demands_other,
                "identity": {"real_name": c.real_name, "id_number": c.id_number, "phone": c.phone},
                "consent": {
                    "version": c.consent_text.version,
                    "method": c.consent_method,
                    "at": _iso(c.consent_at),
                },
                "satisfaction": {
                    "score": c.satisfaction_score,
                    "comment": c.satisfaction_comment,
                    "at": _iso(c.satisfaction_at),
                },
                "timeline": events[c.pk],
                "attachments": files[c.pk],
            }
            for c in complaints
        ],
    }


@never_cache
@login_required
@require_GET
def complainant_export(request: AuthedHttpRequest) -> HttpResponse:
    _complainant_only(request)
    data = complainant_export_data(request.user)
    access_log_write(
        actor=request.user,
        obj=request.user,
        field="complaints",
        reason=_("投诉人下载本人投诉数据（%(n)s 件）") % {"n": len(data["complaints"])},
        action="export",
        request=request,
    )
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"hearken-complaints-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
