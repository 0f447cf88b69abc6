"""Investigation: contact records, information requests and the listener statement."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Complaint, ComplaintState
from complaints.services import (
    complaint_record,
    review_link,
    safe_filename,
    validate_evidence_file,
)
from core.deadlines import deadline_meet, deadline_open, due_for
from core.errors import WrongState
from core.models import DeadlineKind
from core.notifications import notify

from ..models import (
    ContactRecord,
    InformationRequest,
    ListenerStatement,
    Party,
)
from .assignment import _require_case_reviewer, reviewers_of
from .common import INFORMATION_REQUEST_DAYS

if TYPE_CHECKING:
    from accounts.models import User


# --- investigation ------------------------------------------------------------------------------


def _require_investigating(complaint: Complaint) -> None:
    if complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION):
        raise WrongState(_("案件不在调查或评估阶段。"))


@transaction.atomic
def contact_record_add(
    *,
    complaint: Complaint,
    actor: User,
    party: str,
    channel: str,
    summary: str,
    upload: UploadedFile | None = None,
    **fields: Any,
):
    _require_case_reviewer(actor, complaint)
    _require_investigating(complaint)
    if not summary.strip():
        raise ValidationError({"summary": [_("请填写沟通概要。")]})
    file_type = ""
    if upload is not None:
        file_type = validate_evidence_file(upload, field="file")
    allowed = {
        "contacted_at",
        "expectations",
        "conflict_points",
        "evidence_notes",
        "confirmed_demands",
        "consent_disclosed",
        "listener_account",
        "listener_understanding",
        "listener_view_of_demands",
    }
    record = ContactRecord.objects.create(
        complaint=complaint,
        party=party,
        channel=channel,
        summary=summary.strip(),
        recorded_by=actor,
        contacted_at=fields.pop("contacted_at", None) or timezone.now(),
        **{k: v for k, v in fields.items() if k in allowed},
    )
    if upload is not None:
        record.file.save("contact", upload, save=False)
        record.file_name, record.file_type = safe_filename(upload.name or ""), file_type
        record.save(update_fields=["file", "file_name", "file_type"])
    complaint_record(
        complaint=complaint,
        actor=actor,
        note=_("记录了与%(party)s的沟通。") % {"party": Party(party).label},
        visible=False,
    )
    return record


@transaction.atomic
def information_request_create(*, complaint: Complaint, actor: User, party: str, question: str) -> InformationRequest:
    """Ask one party a question through the platform; they answer on their own page."""
    _require_case_reviewer(actor, complaint)
    _require_investigating(complaint)
    if not question.strip():
        raise ValidationError({"question": [_("请填写要询问的问题。")]})
    request = InformationRequest.objects.create(
        complaint=complaint,
        party=party,
        question=question.strip(),
        asked_by=actor,
        due_at=timezone.now() + timedelta(days=INFORMATION_REQUEST_DAYS),
    )
    if party == Party.COMPLAINANT:
        recipient, link = complaint.complainant, reverse("complaint_questions", args=[complaint.reference])
    else:
        # Asking the listener shares the complaint with them (without the complainant's identity).
        ListenerStatement.objects.get_or_create(complaint=complaint, defaults={"listener": complaint.listener})
        recipient, link = complaint.listener.user, reverse("portal:complaint", args=[complaint.pk])
    complaint_record(complaint=complaint, actor=actor, note=question.strip(), visible=party == Party.COMPLAINANT)
    notify(
        recipients=[recipient],
        kind="investigation.information_request",
        template="information_requested",
        context={"reference": complaint.reference if party == Party.COMPLAINANT else "", "question": question.strip()},
        link=link,
    )
    return request


@transaction.atomic
def information_request_answer(*, request: InformationRequest, actor: User, answer: str) -> InformationRequest:
    locked = (
        InformationRequest.objects.select_for_update(of=("self",))
        .select_related("complaint__listener")
        .get(pk=request.pk)
    )
    owner = locked.complaint.complainant_id if locked.party == Party.COMPLAINANT else locked.complaint.listener.user_id
    if actor.pk != owner:
        raise PermissionDenied(_("这个问题不是问您的。"))
    if locked.answered_at is not None:
        raise WrongState(_("这个问题已经回答过了。"))
    if locked.complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION):
        raise WrongState(_("案件已不在调查阶段，不需要再回复。"))
    if not answer.strip():
        raise ValidationError({"answer": [_("请填写回复。")]})
    locked.answer, locked.answered_at = answer.strip(), timezone.now()
    locked.save(update_fields=["answer", "answered_at"])
    complaint_record(
        complaint=locked.complaint,
        actor=actor,
        note=_("%(party)s回复了补充信息请求。") % {"party": Party(locked.party).label},
        visible=locked.party == Party.COMPLAINANT,
    )
    notify(
        recipients=[locked.asked_by],
        kind="investigation.answer",
        template="information_answered",
        context={"reference": locked.complaint.reference},
        link=review_link(locked.complaint),
    )
    return locked


@transaction.atomic
def statement_request(
    *,
    complaint: Complaint,
    actor: User,
    shared_content: str | None = None,
    shared_demands_other: str | None = None,
) -> ListenerStatement:
    """Tell the listener of the complaint (never who filed it) and ask for their account. The group
    shares the complaint's text as it edits it here (names, phone numbers, places taken out);
    without an edit, the complainant's own words."""
    _require_case_reviewer(actor, complaint)
    _require_investigating(complaint)
    content = complaint.content if shared_content is None else shared_content.strip()
    if not content:
        raise ValidationError({"shared_content": [_("请填写与倾听师分享的投诉内容。")]})
    demands_other = complaint.demands_other if shared_demands_other is None else shared_demands_other.strip()
    due, _remind = due_for(DeadlineKind.LISTENER_STATEMENT, timezone.now())
    statement, created = ListenerStatement.objects.get_or_create(
        complaint=complaint,
        defaults={
            "listener": complaint.listener,
            "due_at": due,
            "shared_content": content,
            "shared_demands_other": demands_other,
        },
    )
    if created:
        # The complaint is the subject, so withdrawing or rejecting it cancels the reminder too.
        deadline_open(
            subject=complaint,
            kind=DeadlineKind.LISTENER_STATEMENT,
            label=_("订单 %(order)s 的陈述") % {"order": complaint.session.order_no},
            link=reverse("portal:complaint", args=[complaint.pk]),
            owner=complaint.listener.user,
            due_at=due,
        )
        complaint_record(complaint=complaint, actor=actor, note=_("已请倾听师提交陈述。"), visible=False)
        notify(
            recipients=[complaint.listener.user],
            kind="investigation.statement_requested",
            template="statement_requested",
            context={"order_no": complaint.session.order_no},
            link=reverse("portal:complaint", args=[complaint.pk]),
        )
    return statement


@transaction.atomic
def statement_save(*, statement: ListenerStatement, actor: User, body: str, submit: bool = False) -> ListenerStatement:
    locked = ListenerStatement.objects.select_for_update(of=("self",)).select_related("listener").get(pk=statement.pk)
    if actor.pk != locked.listener.user_id:
        raise PermissionDenied(_("只有被投诉的倾听师本人可以撰写陈述。"))
    if locked.submitted_at is not None:
        raise WrongState(_("陈述已经提交，不能再修改。"))
    if locked.complaint.state not in (ComplaintState.INVESTIGATION, ComplaintState.EVALUATION):
        raise WrongState(_("案件已不在调查阶段，陈述不能再提交。"))
    if submit and not body.strip():
        raise ValidationError({"body": [_("请写下您的陈述再提交。")]})
    locked.body = body
    fields = ["body", "updated_at"]
    if submit:
        locked.submitted_at = timezone.now()
        fields.append("submitted_at")
    locked.save(update_fields=fields)
    if submit:
        complaint = locked.complaint
        deadline_meet(subject=complaint, kinds=[DeadlineKind.LISTENER_STATEMENT])
        complaint_record(complaint=complaint, actor=actor, note=_("倾听师提交了陈述。"), visible=False)
        notify(
            recipients=get_user_model().objects.filter(pk__in=reviewers_of(complaint)),
            kind="investigation.statement_submitted",
            template="statement_submitted",
            context={"reference": complaint.reference},
            link=review_link(complaint),
        )
    return locked
