"""Retention (DOMAIN.md §6): personal data of archived cases is anonymised after a set period.

The period is ``settings.RETENTION_YEARS`` (default 3). What goes: the complainant's identity and
consent IP, every free text written by or about the parties (the complaint, the timeline notes,
contact records, questions and answers, the listener's statement, evaluation rationales, decision
texts, appeals, conflict declarations), the stored evidence files of the complaint and of contact
records, and the bodies of the notifications sent about the case. What stays: the statistics
(category, channel, state, dates, satisfaction score, scores and findings, grade, measures,
remedies and amounts, listener, session), so the dashboard's figures do not move.

Deliberately kept:
- ``evaluations.ListenerTask`` (description, evidence file, notes): the listener's own record of
  the measures they carried out, which outlives the complaint in their history.
- ``core.AccessLog``: the append-only proof of who revealed identity and why; it stores field names,
  never the revealed values, and erasing it would erase accountability. Its trigger stays on.
- Notification subjects: the templates put only the reference, an order number or a label there.
- The complainant's user account, which may have other complaints and is not part of the case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import pgtrigger
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, CharField, Exists, F, Func, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Attachment, Complaint, ComplaintState, ConflictDeclaration, TimelineEvent
from core.models import Notification
from core.retention import free_text_fields
from evaluations.models import (
    Appeal,
    ContactRecord,
    Decision,
    Evaluation,
    InformationRequest,
    ListenerStatement,
)

log = logging.getLogger(__name__)

PLACEHOLDER = "（已匿名化）"
DEFAULT_RETENTION_YEARS = 3
# Complaints per transaction: short locks, bounded statements, progress kept if a later batch fails.
BATCH_SIZE = 500
IDENTITY_FIELDS = ("real_name", "id_number", "phone")
TIMELINE_TRIGGER = "complaints.TimelineEvent:timeline_append_only"

# Notification links that name a case: by reference (the complainant's pages, the review page) or
# by id (the listener's portal page, the admin page). See complaints.services.*_link.
LINK_REFERENCE = r"^/(?:complaints|review)/([^/]+)/"
LINK_PK = r"^/(?:portal/complaints|admin/complaints/complaint)/([0-9]+)/"

# What the command reports, in this order.
KINDS = {
    "complaints": _("投诉（身份信息、同意时 IP、投诉内容及处理文字）"),
    "timeline_notes": _("处理记录说明"),
    "attachments": _("证据文件记录"),
    "contact_records": _("沟通记录"),
    "information_requests": _("补充信息请求与回复"),
    "listener_statements": _("倾听师陈述"),
    "evaluations": _("专业评估理由"),
    "decisions": _("处理决定说明"),
    "appeals": _("申诉与复核"),
    "conflict_declarations": _("利益冲突声明"),
    "notifications": _("通知正文"),
    "files": _("删除的存储文件"),
}


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
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def complaints(self) -> int:
        return len(self.references)

    @property
    def timeline_notes(self) -> int:
        return self.counts["timeline_notes"]


class _Capture(Func):
    """PostgreSQL ``substring(text FROM pattern)``: the pattern's first group, or NULL."""

    function = "SUBSTRING"
    arg_joiner = " FROM "
    output_field = CharField()


def _masked(*names: str) -> dict[str, Case]:
    """Free text (each app declares its own, core.retention): a filled field becomes the placeholder,
    an empty one stays empty, so a reader can still tell "nothing was written" from "something was removed"."""
    return {name: Case(When(**{name: ""}, then=Value("")), default=Value(PLACEHOLDER)) for name in names}


def _targets(ids: Sequence[int], references: Sequence[str]) -> dict[str, QuerySet]:
    """The rows each kind of data touches for these complaints (one query each to count or update)."""
    return {
        "complaints": Complaint.objects.filter(pk__in=ids),
        "timeline_notes": TimelineEvent.objects.filter(complaint_id__in=ids).exclude(note=""),
        "attachments": Attachment.objects.filter(complaint_id__in=ids),
        "contact_records": ContactRecord.objects.filter(complaint_id__in=ids),
        "information_requests": InformationRequest.objects.filter(complaint_id__in=ids),
        "listener_statements": ListenerStatement.objects.filter(complaint_id__in=ids),
        "evaluations": Evaluation.objects.filter(complaint_id__in=ids),
        "decisions": Decision.objects.filter(complaint_id__in=ids),
        "appeals": Appeal.objects.filter(decision__complaint_id__in=ids),
        "conflict_declarations": ConflictDeclaration.objects.filter(complaint_id__in=ids),
        "notifications": Notification.objects.annotate(
            case_reference=_Capture("link", Value(LINK_REFERENCE)), case_pk=_Capture("link", Value(LINK_PK))
        )
        .filter(Q(case_reference__in=list(references)) | Q(case_pk__in=[str(pk) for pk in ids]))
        .exclude(body=PLACEHOLDER),
    }


def _stored_files(ids: Sequence[int]) -> list[str]:
    """Names of the evidence files of these complaints and their contact records, in one query."""
    attachments = Attachment.objects.filter(complaint_id__in=ids).exclude(file="").values_list("file", flat=True)
    records = ContactRecord.objects.filter(complaint_id__in=ids).exclude(file="").values_list("file", flat=True)
    return list(attachments.union(records, all=True))


def _delete_files(names: list[str]) -> None:
    """After commit: a rolled-back batch keeps its files. A file that cannot be removed is logged,
    not fatal, since its row no longer points at it."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("retention: could not delete stored file %s", name, exc_info=True)


def _anonymize_batch(ids: list[int], references: list[str], counts: dict[str, int]) -> None:
    targets = _targets(ids, references)
    files = _stored_files(ids)
    now = timezone.now()
    updated = {
        "complaints": targets["complaints"].update(
            **dict.fromkeys(IDENTITY_FIELDS, PLACEHOLDER),
            **_masked(*free_text_fields(Complaint)),
            consent_ip=None,
            updated_at=now,
            version=F("version") + 1,
        ),
        "attachments": targets["attachments"].update(file="", original_name="", sha256=""),
        "contact_records": targets["contact_records"].update(
            **_masked(*free_text_fields(ContactRecord)), file="", file_name="", file_type=""
        ),
        "information_requests": targets["information_requests"].update(
            **_masked(*free_text_fields(InformationRequest))
        ),
        "listener_statements": targets["listener_statements"].update(
            **_masked(*free_text_fields(ListenerStatement)), updated_at=now
        ),
        "evaluations": targets["evaluations"].update(**_masked(*free_text_fields(Evaluation)), updated_at=now),
        "decisions": targets["decisions"].update(**_masked(*free_text_fields(Decision))),
        "appeals": targets["appeals"].update(**_masked(*free_text_fields(Appeal))),
        "conflict_declarations": targets["conflict_declarations"].update(
            **_masked(*free_text_fields(ConflictDeclaration))
        ),
        "notifications": targets["notifications"].update(body=PLACEHOLDER, email_error=""),
    }
    # The timeline is append-only; this is the one place that lifts the trigger, for one statement
    # that touches only these complaints' notes.
    with pgtrigger.ignore(TIMELINE_TRIGGER):
        updated["timeline_notes"] = targets["timeline_notes"].update(note="")
    updated["files"] = len(files)
    for kind, n in updated.items():
        counts[kind] += n
    if files:
        transaction.on_commit(partial(_delete_files, files))


def anonymize_archived(
    *, before: datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> RetentionReport:
    """Anonymise the personal data of eligible archived complaints (see the module docstring).

    One transaction per batch of complaints, each locked (rows another transaction holds are left
    for the next run); files are deleted once their batch has committed. Idempotent: anonymised
    complaints are not eligible again. A dry run only counts, per kind of data, what would change.
    For management commands and scheduled jobs; never called from a request.
    """
    before = before or retention_cutoff()
    report = RetentionReport(before=before, dry_run=dry_run)
    if dry_run:
        rows = list(eligible_complaints(before).values_list("pk", "reference"))
        report.references = [ref for _pk, ref in rows]
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            ids, refs = [pk for pk, _ref in batch], [ref for _pk, ref in batch]
            for kind, qs in _targets(ids, refs).items():
                report.counts[kind] += qs.count()
            report.counts["files"] += len(_stored_files(ids))
        return report
    while True:
        with transaction.atomic():
            batch = list(
                eligible_complaints(before)
                .select_for_update(of=("self",), skip_locked=True)
                .values_list("pk", "reference")[:batch_size]
            )
            if not batch:
                break
            refs = [ref for _pk, ref in batch]
            _anonymize_batch([pk for pk, _ref in batch], refs, report.counts)
            report.references += refs
    return report
