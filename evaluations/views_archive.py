"""The archive download of a closed case, for supervisors and the case's lead."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.policy import is_supervisor
from accounts.typing import AuthedHttpRequest
from complaints.models import ComplaintState
from core.audit import access_log_write

from .archive import ARCHIVE_STATES, archive_filename, archive_render
from .selectors import complaints_for_archive

ARCHIVE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@never_cache
@login_required
@require_GET
def archive_download(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    """The case record as one HTML file, for supervisors and the case's lead, once the case is closed."""
    complaint = get_object_or_404(complaints_for_archive(), reference=reference)
    user = request.user
    if not (is_supervisor(user) or (complaint.assigned_reviewer_id == user.pk and user.is_case_staff)):
        raise PermissionDenied(_("只有督导和本案主审可以导出归档材料。"))
    if complaint.state not in ARCHIVE_STATES:
        return HttpResponse(
            _("案件结案后才能导出归档材料（当前状态：%(s)s）。") % {"s": ComplaintState(complaint.state).label},
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    html = archive_render(complaint=complaint, actor=user)
    access_log_write(
        actor=user,
        obj=complaint,
        field="archive",
        action="export",
        reason=_("导出归档材料"),
        case_reference=complaint.reference,
        request=request,
    )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, archive_filename(complaint)) or "attachment"
    response["Content-Security-Policy"] = ARCHIVE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response
