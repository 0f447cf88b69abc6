"""The pieces every complaint step shares: the locked, versioned transition, the timeline entry,
the links and messages to each party, and the checks on an uploaded file."""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.deadlines import deadline_meet
from core.downloads import EVIDENCE_EXTENSIONS
from core.errors import CHANGED_MESSAGE, Conflict
from core.models import DeadlineKind
from core.notifications import notify
from core.workflow import Move, Workflow, transition_run, version_check

from ..models import (
    Attachment,
    Complaint,
    TimelineEvent,
)
from ..selectors import complaint_get_for_update

if TYPE_CHECKING:
    from accounts.models import User


MAX_ATTACHMENTS = 5  # files in one submission: the complaint, or one addition of information


MAX_CASE_ATTACHMENTS = 10  # files a case keeps in all


MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


ALLOWED_EVIDENCE_TYPES = EVIDENCE_EXTENSIONS.keys()


REVEALABLE_FIELDS = ("real_name", "id_number", "phone")


CONFLICT_MESSAGE = CHANGED_MESSAGE


# The conflict family's old name here: catching it catches stale versions and wrong states alike.
ComplaintConflict = Conflict


def safe_filename(name: str) -> str:
    """Only the last path component, without control characters; kept for display, never for storage."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f]", "", base)
    return (base or "file")[-200:]


def validate_evidence_file(upload: UploadedFile, *, field: str | None = None) -> str:
    """The content type as read from the file's bytes (not its name), or ValidationError
    (keyed by ``field`` when given, so a form can show it next to that field)."""
    name = safe_filename(upload.name or "")
    message = None
    if upload.size is not None and upload.size > MAX_ATTACHMENT_BYTES:
        message = _("文件“%(name)s”超过 10 MB，请压缩或截取后再上传。") % {"name": name}
    else:
        head = upload.read(8192)
        upload.seek(0)
        kind = filetype.guess(head)
        if kind is not None and kind.mime in ALLOWED_EVIDENCE_TYPES:
            return kind.mime
        message = _("文件“%(name)s”不是可接受的图片、PDF 或音频文件。") % {"name": name}
    raise ValidationError({field: [message]} if field else message)


def _evidence_types(files: list[UploadedFile]) -> list[str]:
    return [validate_evidence_file(f, field="files") for f in files]


def staff_link(complaint: Complaint) -> str:
    return reverse("admin:complaints_complaint_change", args=[complaint.pk])


def review_link(complaint: Complaint) -> str:
    """The professional group's page for the case (built by the evaluations app)."""
    return reverse("review:case", args=[complaint.reference])


def complainant_link(complaint: Complaint) -> str:
    return reverse("complaints:detail", args=[complaint.reference])


def _store_attachment(complaint: Complaint, upload: UploadedFile, mime: str, *, uploaded_by: User) -> Attachment:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        complaint=complaint,
        original_name=safe_filename(upload.name or ""),
        content_type=mime,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=uploaded_by,
    )
    attachment.file.save("evidence", upload, save=False)
    attachment.save()
    return attachment


def _event(
    complaint: Complaint,
    kind: str,
    *,
    actor: User | None = None,
    from_state: str = "",
    to_state: str = "",
    transition: str = "",
    note: str = "",
    visible: bool = False,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        complaint=complaint,
        kind=kind,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        transition=transition,
        note=note,
        visible_to_complainant=visible,
    )


def _lock(complaint: Complaint, expected_version: int | None) -> Complaint:
    locked = complaint_get_for_update(complaint.pk)
    version_check(locked, complaint.version if expected_version is None else expected_version, CONFLICT_MESSAGE)
    return locked


def _record(move: Move[Complaint]) -> None:
    _event(
        move.instance,
        TimelineEvent.Kind.TRANSITION,
        actor=move.actor,
        from_state=move.from_state,
        to_state=move.to_state,
        transition=move.name,
        note=move.note,
        visible=move.context["visible"],
    )


COMPLAINT_FLOW: Workflow[Complaint] = Workflow(
    model=Complaint, record=_record, lock=complaint_get_for_update, sync_caller=True
)


def _transition(
    complaint: Complaint,
    name: str,
    *,
    actor: User,
    note: str,
    visible: bool,
    expected_version: int | None,
    prepare: dict | None = None,
    condition_message: str = "",
) -> Complaint:
    """A move through the runner; a visible answer by staff is the case's first response.
    Without ``expected_version`` the caller's copy is the version it acted on."""

    def first_response(locked: Complaint) -> list[str]:
        if visible and actor.pk != locked.complainant_id and locked.first_response_at is None:
            locked.first_response_at = timezone.now()
            deadline_meet(subject=locked, kinds=[DeadlineKind.FIRST_RESPONSE])
            return ["first_response_at"]
        return []

    return transition_run(
        COMPLAINT_FLOW,
        complaint,
        name,
        actor=actor,
        note=note,
        expected_version=complaint.version if expected_version is None else expected_version,
        prepare=prepare,
        condition_message=condition_message,
        before_save=first_response,
        context={"visible": visible},
    ).instance


def _tell_complainant(complaint: Complaint, template: str, extra: dict) -> None:
    """Every step the complainant can see reaches them in-app and by email, without identity data."""
    notify(
        recipients=[complaint.complainant],
        kind=f"complaint.{template}",
        template=template,
        context={"reference": complaint.reference, **extra},
        link=complainant_link(complaint),
    )


def _tell_assignee(complaint: Complaint, person: User | None) -> None:
    if person is not None:
        notify(
            recipients=[person],
            kind="complaint.assigned",
            template="case_assigned",
            context={"reference": complaint.reference},
            link=staff_link(complaint),
        )
