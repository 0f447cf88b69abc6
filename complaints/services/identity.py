"""Identity in clear, only for a reason, and always logged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import is_supervisor
from core.audit import access_log_write

from ..models import (
    Complaint,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User
from .common import REVEALABLE_FIELDS


def can_reveal_identity(user: User, complaint: Complaint) -> bool:
    """Supervisors, and the reviewer assigned to this case."""
    if not user.has_perm("complaints.reveal_identity"):
        return False
    return is_supervisor(user) or complaint.assigned_reviewer_id == user.pk


@transaction.atomic
def identity_reveal(
    *, complaint: Complaint, actor: User, field: str, reason: str, request: HttpRequest | None = None
) -> str:
    """One identity field in clear, for a stated reason; the access log keeps who, what and why."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": [_("不能查看这个字段。")]})
    if not can_reveal_identity(actor, complaint):
        raise PermissionDenied(_("只有督导和负责本案的专业组成员可以查看完整身份信息。"))
    if len(reason.strip()) < 4:
        raise ValidationError({"reason": [_("请写明查看的理由（至少 4 个字）。")]})
    access_log_write(
        actor=actor, obj=complaint, field=field, reason=reason, case_reference=complaint.reference, request=request
    )
    return getattr(complaint, field)
