"""The archive bundle of a closed case: one self-contained HTML file for the record.

Everything the case gathered is in it — the complaint, the consent version, the timeline,
contact records, the listener's statement, every evaluation, the decision, its tasks and their
verification, appeals — with identity masked only (the template reads it from ``identity``,
masked here) and evidence listed by name, size, type and SHA-256 rather than embedded.
The parties appear by role: a complainant's account name may be their real name.
Styles sit in the file itself: it is opened offline, long after the case is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import Complaint, ComplaintState, Demand
from complaints.selectors import attachments_for, timeline_for

from .models import (
    Appeal,
    ContactRecord,
    Decision,
    Evaluation,
    InformationRequest,
    ListenerStatement,
    ListenerTask,
    Measure,
    Party,
    Remedy,
    ReviewerAssignment,
)

if TYPE_CHECKING:
    from accounts.models import User

# Only finished cases go to the archive.
ARCHIVE_STATES = (ComplaintState.CLOSED, ComplaintState.ARCHIVED)


def archive_filename(complaint: Complaint) -> str:
    return f"{complaint.reference}-archive.html"


@dataclass
class Person:
    """Who did something, as the record names them: staff by name, the parties by their role."""

    complainant_id: int
    listener_user_id: int
    listener_name: str

    def label(self, user_id: int | None, user: Any = None) -> str:
        if user_id is None:
            return _("系统")
        if user_id == self.complainant_id:
            return str(Party.COMPLAINANT.label)
        if user_id == self.listener_user_id:
            return _("倾听师 %(name)s") % {"name": self.listener_name}
        return str(user) if user is not None else str(user_id)


def _labels(choices: type, values: list[str]) -> list[str]:
    return [str(choices(v).label) if v in choices.values else v for v in values]  # type: ignore[attr-defined]


def _flags(evaluation: Evaluation) -> list[str]:
    names = ("finding_competence_gap", "finding_subjective_harm", "finding_inducing_orders", "finding_illegality")
    return [str(getattr(Evaluation._meta.get_field(n), "verbose_name", n)) for n in names if getattr(evaluation, n)]


def archive_context(complaint: Complaint, actor: User) -> dict[str, Any]:
    """What the bundle shows. Identity reaches it masked; the clear fields are not in the context."""
    listener = complaint.listener
    people = Person(complaint.complainant_id, listener.user_id, listener.display_name)

    timeline = [
        (event, people.label(event.actor_id, event.actor)) for event in timeline_for(complaint, complainant_view=False)
    ]
    attachments = [
        (a, people.label(a.uploaded_by_id, a.uploaded_by))
        for a in attachments_for(complaint).select_related("uploaded_by")
    ]
    contacts = list(ContactRecord.objects.filter(complaint=complaint).select_related("recorded_by"))
    requests = list(InformationRequest.objects.filter(complaint=complaint).select_related("asked_by"))
    statement = ListenerStatement.objects.filter(complaint=complaint).first()
    assignments = list(
        ReviewerAssignment.objects.filter(complaint=complaint)
        .select_related("reviewer", "assigned_by")
        .order_by("assigned_at", "id")
    )
    evaluations = [
        (e, _flags(e))
        for e in Evaluation.objects.filter(complaint=complaint)
        .select_related("reviewer", "proposed_grade")
        .order_by("is_final", "submitted_at", "id")
    ]
    decision = Decision.objects.filter(complaint=complaint).select_related("grade", "decided_by", "approved_by").first()
    tasks: list[ListenerTask] = []
    appeals: list[tuple[Appeal, str]] = []
    if decision is not None:
        tasks = list(decision.tasks.select_related("verified_by").order_by("created_at", "id"))
        appeals = [
            (a, people.label(a.appellant_id))
            for a in decision.appeals.select_related("reviewer", "supervisor").order_by("created_at", "id")
        ]
    merged = list(Complaint.objects.filter(merged_into=complaint).values_list("reference", flat=True))
    return {
        "complaint": complaint,
        "identity": {
            "real_name": complaint.masked_real_name,
            "id_number": complaint.masked_id_number,
            "phone": complaint.masked_phone,
        },
        "demands": _labels(Demand, complaint.demands),
        "merged": merged,
        "consent": complaint.consent_text,
        "consent_recorded_by": people.label(complaint.consent_recorded_by_id, complaint.consent_recorded_by)
        if complaint.consent_recorded_by_id
        else "",
        "timeline": timeline,
        "attachments": attachments,
        "contacts": contacts,
        "requests": requests,
        "statement": statement,
        "assignments": assignments,
        "evaluations": evaluations,
        "decision": decision,
        "decision_measures": _labels(Measure, decision.measures) if decision else [],
        "decision_remedies": _labels(Remedy, decision.remedies) if decision else [],
        "tasks": tasks,
        "appeals": appeals,
        "generated_at": timezone.now(),
        "generated_by": str(actor),
    }


def archive_render(*, complaint: Complaint, actor: User) -> str:
    """The bundle's HTML, in the site's language (a record reads the same whoever exports it)."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        return render_to_string("review/archive.html", archive_context(complaint, actor))
