"""A small Hearken with two of everyone, for the access tests: whatever a URL names belongs to
complainant 1, listener 1 and the assigned reviewer; complainant 2, listener 2 and the
unassigned reviewer are the "someone else" who must not get it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.roles import INTEGRATION_GROUP
from complaints.services import complaint_begin_evaluation, complaint_escalate, complaint_start_triage
from evaluations.models import ListenerTask, ReviewRequest, ReviewRequestState
from evaluations.services import (
    appeal_assign,
    appeal_file,
    contact_record_add,
    evaluation_reconcile,
    evaluation_save,
    task_submit,
)
from interviews.models import InterviewPlanItem, MaterialKind, PlanItemKind
from interviews.services import (
    interview_book,
    interview_request,
    material_upload,
    panel_set,
    plan_item_submit,
    slot_publish,
)
from supervision.models import BreakCategory, EthicsSource, QualityAudit, ReportKind
from supervision.services import confidentiality_report_file, ethics_case_open, listener_report_submit

from ..complaints.helpers import file_complaint
from ..evaluations.helpers import scores
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory
from ..portal.helpers import notify_grade_2

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@dataclass
class World:
    users: dict[str, Any]
    objects: dict[str, Any] = field(default_factory=dict)


def build_world() -> World:
    c1, c2 = (UserFactory(roles=["complainant"]) for _ in range(2))
    l1, l2 = ListenerProfileFactory(), ListenerProfileFactory()
    consultant = UserFactory(roles=["consultant"])
    reviewer_on_case, reviewer_elsewhere = (UserFactory(roles=["reviewer"]) for _ in range(2))
    supervisor = UserFactory(roles=["supervisor"])
    integration = UserFactory(roles=[INTEGRATION_GROUP])
    # A third reviewer: the interview's observer and the appeal's reviewer, never in the matrix.
    observer = UserFactory(roles=["reviewer"])

    # Complaint A: complainant 1 about listener 1, escalated to the reviewer on the case, who
    # shares it with the listener, records a contact, and takes it to a notified grade-2 decision.
    complaint = file_complaint(
        complainant=c1,
        session=ListeningSessionFactory(complainant=c1, listener=l1),
        files=[SimpleUploadedFile("截图.png", PNG, content_type="image/png")],
    )
    complaint_start_triage(complaint=complaint, actor=consultant)
    complaint_escalate(complaint=complaint, actor=consultant, reviewer=reviewer_on_case)
    from evaluations.services import statement_request

    statement_request(complaint=complaint, actor=reviewer_on_case)
    contact = contact_record_add(
        complaint=complaint,
        actor=reviewer_on_case,
        party="complainant",
        channel="phone",
        summary="电话沟通，投诉人补充了经过。",
        upload=SimpleUploadedFile("记录.png", PNG, content_type="image/png"),
    )
    complaint_begin_evaluation(complaint=complaint, actor=reviewer_on_case)
    evaluation_save(complaint=complaint, reviewer=reviewer_on_case, data=scores("B", 2), submit=True)
    evaluation_reconcile(complaint=complaint, lead=reviewer_on_case, data=scores("B", 2))
    decision = notify_grade_2(complaint, reviewer_on_case)
    appeal = appeal_file(decision=decision, actor=l1.user, reason="我认为评估没有考虑通话的背景。")
    appeal = appeal_assign(appeal=appeal, actor=supervisor, reviewer=observer)
    # A complainant's review request on complaint A, taken by the third reviewer (never in the
    # matrix). Made directly: complaint A is still in follow-up, so no window is open yet.
    review_request = ReviewRequest.objects.create(
        complaint=complaint,
        decision=decision,
        complainant=c1,
        reasons="我希望复核：评估没有考虑通话中断的原因。",
        state=ReviewRequestState.REVIEWING,
        handler=observer,
    )
    task = task_submit(
        task=ListenerTask.objects.filter(listener=l1).first(),
        actor=l1.user,
        note="已完成。",
        upload=SimpleUploadedFile("证明.png", PNG, content_type="image/png"),
    )

    # Complaint B: complainant 2 about listener 2, just filed.
    other = file_complaint(complainant=c2, session=ListeningSessionFactory(complainant=c2, listener=l2))

    # Listener 1's interview, the reviewer on the case leading its panel.
    interview = interview_request(listener=l1, reason="处理决定要求进行胜任力考核面试。", actor=supervisor)
    material = material_upload(
        interview=interview,
        kind=MaterialKind.CASE_REPORT,
        upload=SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf"),
        actor=l1.user,
    )
    starts = timezone.now() + timedelta(days=3)
    slot = slot_publish(starts_at=starts, ends_at=starts + timedelta(hours=1), actor=supervisor)
    interview = interview_book(interview=interview, slot=slot, actor=l1.user)
    interview = panel_set(
        interview=interview, main_interviewer=reviewer_on_case, observers=[observer], actor=supervisor
    )
    # An item of its improvement plan, handed in with a proof file. Made directly, not by sending a
    # result: the interview stays scheduled, so its staff pages above keep something to act on.
    plan_item = plan_item_submit(
        item=InterviewPlanItem.objects.create(
            interview=interview, kind=PlanItemKind.SUPERVISION, description="接受两次个案督导。", due_at=starts
        ),
        note="已完成督导。",
        actor=l1.user,
        upload=SimpleUploadedFile("督导记录.pdf", PDF, content_type="application/pdf"),
    )

    # Supervision's records about listener 1.
    ethics_case = ethics_case_open(
        listener=l1, source=EthicsSource.REAL_NAME_REPORT, summary="实名举报诱导改评。", actor=supervisor
    )
    report = listener_report_submit(
        kind=ReportKind.RATING_MANIPULATION, listener_code=l1.code, content="要求我改成五星。", reporter=c2
    )
    breach = confidentiality_report_file(
        reporter=l1.user, category=BreakCategory.HARM_TO_OTHERS, what_happened="倾诉者说要伤害他人。"
    )
    audit = QualityAudit.objects.create(
        listener=l1, session=complaint.session, month=date.today().replace(day=1), reviewer=supervisor
    )
    token = Token.objects.create(user=integration)

    users = {
        "c1": c1,
        "c2": c2,
        "l1": l1.user,
        "l2": l2.user,
        "con": consultant,
        "rev_a": reviewer_on_case,
        "rev_u": reviewer_elsewhere,
        "sup": supervisor,
    }
    objects = {
        "complaint": complaint,
        "other_complaint": other,
        "attachment": complaint.attachments.get(),
        "contact": contact,
        "decision": decision,
        "appeal": appeal,
        "review_request": review_request,
        "task": task,
        "interview": interview,
        "material": material,
        "plan_item": plan_item,
        "slot": slot,
        "ethics_case": ethics_case,
        "report": report,
        "breach": breach,
        "audit": audit,
        "token": token,
        "listener": l1,
        "session": complaint.session,
    }
    return World(users, objects)
