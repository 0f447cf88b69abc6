"""Reading complaints: who may see which, with the joins their pages need."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import Exists, Prefetch, Q, QuerySet

from accounts.policy import is_complainant, is_consultant, is_reviewer, is_supervisor
from core import access

from .models import Attachment, Complaint, TimelineEvent

if TYPE_CHECKING:
    from accounts.models import User


def complaint_list_for(user: User) -> QuerySet[Complaint]:
    """The complaints ``user`` may see, as the access policy says (``complaints_visible``)."""
    qs = Complaint.objects.select_related("session", "listener", "assigned_consultant", "assigned_reviewer")
    return access.visible(user, qs)


# Higher apps add who else is on a case (evaluations: added reviewers, appeal reviewers).
_case_member_conditions: list[Callable[[User], Q | Exists]] = []


def register_case_member(condition: Callable[[User], Q | Exists]) -> None:
    """``condition(user)`` filters complaints on which ``user`` holds a role; registered in a
    higher app's AppConfig.ready, so complaints never imports it."""
    _case_member_conditions.append(condition)


def on_case(user: User) -> Q:
    """Complaints ``user`` works on: assigned consultant or reviewer, or a role a higher app records."""
    condition = Q(assigned_consultant=user) | Q(assigned_reviewer=user)
    for extra in _case_member_conditions:
        condition |= Q(extra(user))
    return condition


def complaints_visible(user: User, qs: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """The access rule for complaints (registered with ``core.access``).

    Supervisors (and superusers) and consultants, who triage every incoming complaint, see all.
    A reviewer sees the cases they are on — lead, added evaluator, appeal reviewer — and the
    duplicates merged into those; every other case is a 404. A complainant sees their own.
    Listeners see none here: the portal shows them their own complaints through its own view.
    """
    if is_supervisor(user) or is_consultant(user):
        return qs
    condition = Q(pk__in=[])
    if is_reviewer(user):
        mine = Complaint.objects.filter(on_case(user)).values("pk")
        condition |= Q(pk__in=mine) | Q(merged_into__in=mine)
    if is_complainant(user):
        condition |= Q(complainant=user)
    return qs.filter(condition)


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


def can_view_attachment(user: User, attachment: Attachment) -> bool:
    """The access rule for evidence files: the complainant, supervisors, and staff on the case
    (assigned consultant, reviewers); nobody else — a consultant not on the case and listeners never."""
    complaint = attachment.complaint
    owner = complaint.merged_into or complaint
    if not user.is_authenticated:
        return False
    if user.pk in (complaint.complainant_id, owner.complainant_id):
        return True
    if is_supervisor(user) or user.has_perm("complaints.view_all_complaints"):
        return True
    if not user.is_case_staff:
        return False
    if complaint.assigned_consultant_id == user.pk:
        return True
    return Complaint.objects.filter(pk=owner.pk).filter(on_case(user)).exists()


def attachments_visible(user: User, qs: QuerySet[Attachment]) -> QuerySet[Attachment]:
    """Attachments as rows (for admin and lists): those of complaints ``user`` may see, narrowed
    per file by ``can_view_attachment`` at download."""
    return qs.filter(complaint__in=complaints_visible(user, Complaint.objects.all()).values("pk"))


def access_register() -> None:
    access.register(Complaint, visible=complaints_visible)
    access.register(
        Attachment, visible=attachments_visible, can_act=lambda user, attachment: can_view_attachment(user, attachment)
    )


def complaint_with_prefetch() -> QuerySet[Complaint]:
    return Complaint.objects.select_related(
        "session", "listener", "complainant", "consent_text", "assigned_consultant", "assigned_reviewer", "merged_into"
    ).prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("created_at")))
