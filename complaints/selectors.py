"""Reading complaints: who may see which, with the joins their pages need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from accounts.roles import Role

from .models import Attachment, Complaint, TimelineEvent

if TYPE_CHECKING:
    from accounts.models import User


def complaint_list_for(user: User) -> QuerySet[Complaint]:
    """Complainants see their own; case staff see all; listeners and others see none."""
    qs = Complaint.objects.select_related("session", "listener", "assigned_consultant", "assigned_reviewer")
    if not user.is_authenticated:
        return qs.none()
    if user.is_case_staff:
        return qs
    if user.has_role(Role.COMPLAINANT):
        return qs.filter(complainant=user)
    return qs.none()


def complaint_get_for_update(pk: int) -> Complaint:
    """The complaint row, locked until the surrounding transaction ends."""
    return Complaint.objects.select_for_update(of=("self",)).get(pk=pk)


def _case_ids(complaint: Complaint) -> list[int]:
    """The case and the duplicates merged into it. Two cheap indexed lookups beat one OR across
    a join, which makes PostgreSQL scan every event (seen at 100,000 complaints)."""
    return [complaint.pk, *Complaint.objects.filter(merged_into=complaint).values_list("pk", flat=True)]


def timeline_for(complaint: Complaint, *, complainant_view: bool) -> QuerySet[TimelineEvent]:
    """Events of the case and of the duplicates merged into it; complainants see only theirs."""
    qs = (
        TimelineEvent.objects.filter(complaint_id__in=_case_ids(complaint))
        .select_related("actor", "complaint")
        .defer(*IDENTITY_OF_CASE)
    )
    if complainant_view:
        qs = qs.filter(visible_to_complainant=True)
    return qs.order_by("created_at", "id")


def attachments_for(complaint: Complaint) -> QuerySet[Attachment]:
    return (
        Attachment.objects.filter(complaint_id__in=_case_ids(complaint))
        .select_related("complaint")
        .defer(*IDENTITY_OF_CASE)
        .order_by("created_at", "id")
    )


# Rows that show their case need its reference, never its encrypted identity (decrypting costs).
IDENTITY_OF_CASE = ("complaint__real_name", "complaint__id_number", "complaint__phone")


# Higher apps add who else works on a case (evaluations: reviewers added to it).
_case_staff_checks: list = []


def register_case_staff_check(check) -> None:
    """``check(user, complaint) -> bool``; registered in a higher app's AppConfig.ready."""
    _case_staff_checks.append(check)


def can_view_attachment(user: User, attachment: Attachment) -> bool:
    """The complainant, the case's assigned staff, and supervisors; nobody else (listeners never)."""
    complaint = attachment.complaint
    owner = complaint.merged_into or complaint
    if not user.is_authenticated:
        return False
    if user.pk in (complaint.complainant_id, owner.complainant_id):
        return True
    if user.has_perm("complaints.view_all_complaints"):
        return True
    assigned = {owner.assigned_consultant_id, owner.assigned_reviewer_id, complaint.assigned_consultant_id}
    if not user.is_case_staff:
        return False
    return user.pk in assigned or any(check(user, owner) for check in _case_staff_checks)


def complaint_with_prefetch() -> QuerySet[Complaint]:
    return Complaint.objects.select_related(
        "session", "listener", "complainant", "consent_text", "assigned_consultant", "assigned_reviewer", "merged_into"
    ).prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("created_at")))
