"""Retention (DOMAIN.md §6): personal data of archived cases is anonymised after a set period.

The period is ``settings.RETENTION_YEARS`` (default 3). Statistics fields (category, channel,
state, dates, satisfaction score, listener, session) stay, so the dashboard's figures do not move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pgtrigger
from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from complaints.models import Complaint, ComplaintState, TimelineEvent

PLACEHOLDER = "（已匿名化）"
DEFAULT_RETENTION_YEARS = 3
IDENTITY_FIELDS = ("real_name", "id_number", "phone")
# Free text a complainant or staff member may have filled with personal details.
FREE_TEXT_FIELDS = ("demands_other", "resolution", "rejection_reason", "satisfaction_comment")
TIMELINE_TRIGGER = "complaints.TimelineEvent:timeline_append_only"


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Cases archived before this moment are due for anonymisation."""
    years = getattr(settings, "RETENTION_YEARS", DEFAULT_RETENTION_YEARS)
    return (now or timezone.now()) - timedelta(days=round(365.25 * years))


def eligible_complaints(before: datetime):
    """Archived complaints whose archiving (the timeline's move to ``archived``; the last update when
    the timeline has none, as for imported history) is older than ``before``, not yet anonymised."""
    archive_events = TimelineEvent.objects.filter(
        complaint=OuterRef("pk"), kind=TimelineEvent.Kind.TRANSITION, to_state=ComplaintState.ARCHIVED
    )
    return (
        Complaint.objects.filter(state=ComplaintState.ARCHIVED)
        .exclude(content=PLACEHOLDER)
        .filter(
            Exists(archive_events.filter(created_at__lt=before)) | (~Exists(archive_events) & Q(updated_at__lt=before))
        )
        .order_by("submitted_at", "id")
    )


@dataclass
class RetentionReport:
    before: datetime
    dry_run: bool
    references: list[str] = field(default_factory=list)
    timeline_notes: int = 0

    @property
    def complaints(self) -> int:
        return len(self.references)


def anonymize_archived(*, before: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Replace identity fields and personal free text of eligible archived complaints with a placeholder
    and blank their timeline notes.

    One transaction; idempotent (anonymised rows are not eligible again). The timeline is append-only
    through a database trigger; this is the one place that lifts it, for these complaints' notes only.
    A dry run reads, reports what would change and writes nothing. For management commands and
    scheduled jobs; never called from a request.
    """
    before = before or retention_cutoff()
    report = RetentionReport(before=before, dry_run=dry_run)
    with transaction.atomic():
        rows = list(eligible_complaints(before).select_for_update(of=("self",)).values_list("pk", "reference"))
        ids = [pk for pk, _ref in rows]
        report.references = [ref for _pk, ref in rows]
        notes = TimelineEvent.objects.filter(complaint_id__in=ids).exclude(note="")
        if dry_run:
            report.timeline_notes = notes.count()
            return report
        if not ids:
            return report
        Complaint.objects.filter(pk__in=ids).update(
            content=PLACEHOLDER,
            **dict.fromkeys(IDENTITY_FIELDS, PLACEHOLDER),
            **{name: Case(When(**{name: ""}, then=Value("")), default=Value(PLACEHOLDER)) for name in FREE_TEXT_FIELDS},
            updated_at=timezone.now(),
        )
        with pgtrigger.ignore(TIMELINE_TRIGGER):
            report.timeline_notes = notes.update(note="")
    return report
