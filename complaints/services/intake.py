"""A complaint arrives: identity checked, evidence stored, crisis screened, first deadline opened."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from core.deadlines import deadline_open, due_for
from core.errors import Conflict
from core.models import DeadlineKind
from core.notifications import notify
from core.validators import normalize_id_number, normalize_phone, validate_id_number, validate_mobile_phone
from listeners.models import ListeningSession

from ..models import (
    OPEN_STATES,
    Category,
    Complaint,
    ComplaintState,
    ConsentMethod,
    ConsentText,
    CrisisTerm,
    IntakeChannel,
    Priority,
    TimelineEvent,
)

if TYPE_CHECKING:
    from accounts.models import User
from .common import MAX_ATTACHMENTS, _event, _evidence_types, _store_attachment, complainant_link, staff_link


def next_reference(year: int) -> str:
    """TS-<year>-<6 digits>, sequential per year. The upsert locks the year's row until commit,
    so concurrent submissions queue for a number instead of racing for one."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO complaints_referencesequence (year, last) VALUES (%s, 1)
            ON CONFLICT (year) DO UPDATE SET last = complaints_referencesequence.last + 1
            RETURNING last
            """,
            [year],
        )
        (number,) = cursor.fetchone()
    return f"TS-{year}-{number:06d}"


def crisis_terms_in(text: str) -> list[str]:
    lowered = text.lower()
    return [p for p in CrisisTerm.objects.filter(active=True).values_list("phrase", flat=True) if p.lower() in lowered]


def validate_identity(*, real_name: str, id_number: str, phone: str) -> dict[str, str]:
    errors: dict[str, list] = {}
    cleaned = {
        "real_name": real_name.strip(),
        "id_number": normalize_id_number(id_number),
        "phone": normalize_phone(phone),
    }
    if not cleaned["real_name"]:
        errors["real_name"] = [_("请填写真实姓名。")]
    for field, check in (("id_number", validate_id_number), ("phone", validate_mobile_phone)):
        try:
            check(cleaned[field])
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def complaint_submit(
    *,
    complainant: User,
    session: ListeningSession,
    content: str,
    demands: Sequence[str],
    real_name: str,
    id_number: str,
    phone: str,
    consent_text: ConsentText,
    category: str = Category.OTHER,
    demands_other: str = "",
    consent_method: str = ConsentMethod.CHECKBOX,
    consent_ip: str | None = None,
    consent_recorded_by: User | None = None,
    intake_channel: str = IntakeChannel.WEB,
    files: Iterable[UploadedFile] = (),
    submission_key: uuid.UUID | None = None,
) -> Complaint:
    """File a complaint. Idempotent by ``submission_key``: a repeated submit returns the first complaint.

    Checks that the session is the complainant's, validates identity and files, screens for crisis
    (urgent priority, supervisors told at once), flags an open duplicate, records the 24-hour
    first-response deadline, and tells the complainant by email, without identity data.
    """
    if submission_key is not None:
        existing = Complaint.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            if existing.complainant_id != complainant.pk:
                raise Conflict(_("这个提交标识已被使用，请刷新页面后重新提交。"))
            return existing
    if session.complainant_id != complainant.pk:
        raise ValidationError({"session": [_("这个订单不属于您的账户。")]})
    if not content.strip():
        raise ValidationError({"content": [_("请写下您想投诉的内容。")]})
    if consent_method == ConsentMethod.VERBAL and consent_recorded_by is None:
        raise ValidationError({"consent": [_("口头同意须记录是哪位工作人员获得的。")]})
    identity = validate_identity(real_name=real_name, id_number=id_number, phone=phone)
    files = list(files)
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError({"files": [_("最多上传 %(n)s 个文件。") % {"n": MAX_ATTACHMENTS}]})
    mimes = _evidence_types(files)

    now = timezone.now()
    terms = crisis_terms_in(f"{content}\n{demands_other}")
    duplicate = (
        Complaint.objects.filter(complainant=complainant, session=session, state__in=OPEN_STATES)
        .order_by("submitted_at")
        .first()
    )
    complaint = Complaint(
        reference="",
        complainant=complainant,
        session=session,
        listener_id=session.listener_id,
        category=category,
        priority=Priority.URGENT if terms else Priority.NORMAL,
        content=content.strip(),
        demands=list(dict.fromkeys(demands)),
        demands_other=demands_other.strip(),
        intake_channel=intake_channel,
        consent_text=consent_text,
        consent_method=consent_method,
        consent_at=now,
        consent_ip=consent_ip,
        consent_recorded_by=consent_recorded_by,
        crisis=bool(terms),
        crisis_terms=terms,
        duplicate_of=duplicate,
        submitted_at=now,
        first_response_due=due_for(DeadlineKind.FIRST_RESPONSE, now)[0],
        submission_key=submission_key,
        **identity,
    )
    try:
        with transaction.atomic():
            complaint.reference = next_reference(timezone.localdate(now).year)
            complaint.save()
    except IntegrityError:
        # Two clicks raced on one submission key: the other request created it.
        if submission_key is not None:
            existing = Complaint.objects.filter(submission_key=submission_key, complainant=complainant).first()
            if existing is not None:
                return existing
        raise
    deadline_open(
        subject=complaint,
        kind=DeadlineKind.FIRST_RESPONSE,
        label=complaint.reference,
        link=staff_link(complaint),
        owner_role=Role.CONSULTANT,
        starts_at=now,
        due_at=complaint.first_response_due,
    )
    recorded_by = consent_recorded_by if consent_method == ConsentMethod.VERBAL else None
    _event(
        complaint,
        TimelineEvent.Kind.TRANSITION,
        actor=recorded_by or complainant,
        to_state=ComplaintState.SUBMITTED,
        note=_("投诉已提交（%(channel)s）。") % {"channel": IntakeChannel(intake_channel).label},
        visible=True,
    )
    for upload, mime in zip(files, mimes, strict=True):
        _store_attachment(complaint, upload, mime, uploaded_by=complainant)
    if duplicate is not None:
        _event(
            complaint,
            TimelineEvent.Kind.DUPLICATE,
            note=_("同一投诉人就同一订单已有未结案件 %(ref)s，可能重复。") % {"ref": duplicate.reference},
        )
    if terms:
        _event(complaint, TimelineEvent.Kind.CRISIS, note=_("内容含危机信号：%(terms)s") % {"terms": "、".join(terms)})
        notify(
            recipients=get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True),
            kind="complaint.crisis",
            template="crisis_alert",
            context={"reference": complaint.reference},
            link=staff_link(complaint),
            urgent=True,
        )
    hours = round((complaint.first_response_due - now).total_seconds() / 3600)
    notify(
        recipients=[complainant],
        kind="complaint.received",
        template="complaint_received",
        context={"reference": complaint.reference, "hours": hours, "crisis": bool(terms)},
        link=complainant_link(complaint),
    )
    return complaint
