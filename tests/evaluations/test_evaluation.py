"""Investigation and scored evaluation: who may score, who sees what, and conflicts of interest."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from complaints.models import ComplaintState
from complaints.services import (
    ComplaintConflict,
    complaint_escalate,
    complaint_start_triage,
    complaint_withdraw,
    conflict_declare,
)
from core.models import Deadline, DeadlineKind
from evaluations.models import ContactRecord, Evaluation, Party
from evaluations.services import (
    contact_record_add,
    evaluation_reconcile,
    evaluation_save,
    evaluations_visible_to,
    information_request_answer,
    information_request_create,
    reviewer_assign,
    statement_request,
    statement_save,
)

from ..complaints.helpers import file_complaint
from ..factories import ListenerProfileFactory, ListeningSessionFactory, UserFactory
from .helpers import escalated_case, in_evaluation, scores


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=["supervisor"])


def test_the_lead_records_contacts_with_both_parties(db):
    complaint, lead = escalated_case()

    contact_record_add(
        complaint=complaint,
        actor=lead,
        party=Party.COMPLAINANT,
        channel="phone",
        summary="用户希望得到道歉",
        expectations="希望被认真倾听",
        confirmed_demands="道歉",
    )
    contact_record_add(
        complaint=complaint,
        actor=lead,
        party=Party.LISTENER,
        channel="online",
        summary="倾听师认可当时状态不好",
        consent_disclosed=True,
        listener_account="当天连续接了五单",
    )

    assert ContactRecord.objects.filter(complaint=complaint).count() == 2
    assert ContactRecord.objects.get(party="listener").consent_disclosed


def test_someone_not_on_the_case_cannot_record_contacts(db):
    complaint, _lead = escalated_case()

    with pytest.raises(PermissionDenied):
        contact_record_add(
            complaint=complaint,
            actor=UserFactory(roles=["reviewer"]),
            party="complainant",
            channel="phone",
            summary="x",
        )


def test_an_information_request_is_answered_only_by_the_party_asked(db):
    complaint, lead = escalated_case()
    request = information_request_create(
        complaint=complaint, actor=lead, party=Party.COMPLAINANT, question="当时是几点？"
    )

    with pytest.raises(PermissionDenied):
        information_request_answer(request=request, actor=complaint.listener.user, answer="晚上九点")
    answered = information_request_answer(request=request, actor=complaint.complainant, answer="晚上九点")

    assert answered.answer == "晚上九点"
    with pytest.raises(ComplaintConflict):
        information_request_answer(request=request, actor=complaint.complainant, answer="再答一次")


def test_the_listener_drafts_then_submits_a_statement_that_then_cannot_change(db):
    complaint, lead = escalated_case()
    statement = statement_request(complaint=complaint, actor=lead)
    listener_user = complaint.listener.user

    statement_save(statement=statement, actor=listener_user, body="草稿")
    statement_save(statement=statement, actor=listener_user, body="我当时确实……", submit=True)

    with pytest.raises(ComplaintConflict):
        statement_save(statement=statement, actor=listener_user, body="改一下")
    with pytest.raises(PermissionDenied):
        statement_save(statement=statement, actor=complaint.complainant, body="x")


def test_a_submitted_evaluation_needs_all_four_dimensions_with_rationales(db):
    complaint, lead = in_evaluation()

    with pytest.raises(ValidationError) as refused:
        evaluation_save(complaint=complaint, reviewer=lead, data={"facts": "partly"}, submit=True)

    assert {"facts_rationale", "demand", "awareness", "outcome"} <= set(refused.value.message_dict)
    assert not Evaluation.objects.filter(complaint=complaint, submitted_at__isnull=False).exists()


def test_outcome_b_needs_a_grade_of_one_or_more_and_a_needs_grade_zero(db):
    complaint, lead = in_evaluation()

    with pytest.raises(ValidationError):
        evaluation_save(complaint=complaint, reviewer=lead, data=scores("B", 0), submit=True)
    with pytest.raises(ValidationError):
        evaluation_save(
            complaint=complaint,
            reviewer=lead,
            data=scores("A", 2, proposed_grade=scores()["proposed_grade"]),
            submit=True,
        )


def test_a_submitted_evaluation_is_read_only(db):
    complaint, lead = in_evaluation()
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(), submit=True)

    with pytest.raises(ComplaintConflict):
        evaluation_save(complaint=complaint, reviewer=lead, data={"facts": "not"})


def test_a_reviewer_cannot_see_other_scores_before_submitting(db, supervisor):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(level=3), submit=True)
    evaluation_save(complaint=complaint, reviewer=second, data=scores(level=2))  # draft

    before = evaluations_visible_to(second, complaint)
    evaluation_save(complaint=complaint, reviewer=second, data={}, submit=True)
    after = evaluations_visible_to(second, complaint)

    assert [e.reviewer for e in before] == [second]
    assert {e.reviewer for e in after} == {lead, second}
    assert len(evaluations_visible_to(supervisor, complaint)) == 2


def test_the_lead_reconciles_only_after_every_reviewer_submitted_and_disagreements_are_kept(db):
    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    evaluation_save(complaint=complaint, reviewer=lead, data=scores(level=3), submit=True)

    with pytest.raises(ValidationError):
        evaluation_reconcile(complaint=complaint, lead=lead, data=scores(level=2))
    evaluation_save(complaint=complaint, reviewer=second, data=scores(level=2), submit=True)
    with pytest.raises(PermissionDenied):
        evaluation_reconcile(complaint=complaint, lead=second, data=scores(level=2))
    final = evaluation_reconcile(
        complaint=complaint, lead=lead, data=scores(level=2), disagreements="王主张 3 级，李主张 2 级"
    )

    assert final.is_final and final.submitted
    assert final.disagreements == "王主张 3 级，李主张 2 级"
    assert Evaluation.objects.filter(complaint=complaint, is_final=False).count() == 2


def test_scoring_is_refused_outside_the_evaluation_stage(db):
    complaint, lead = escalated_case()

    with pytest.raises(ComplaintConflict):
        evaluation_save(complaint=complaint, reviewer=lead, data=scores())
    assert complaint.state == ComplaintState.INVESTIGATION


def test_the_listeners_own_supervisor_cannot_be_assigned(db):
    mentor = UserFactory(roles=["reviewer"])
    listener = ListenerProfileFactory(supervisor=mentor)
    complainant = UserFactory(roles=["complainant"])
    complaint = file_complaint(
        complainant=complainant, session=ListeningSessionFactory(complainant=complainant, listener=listener)
    )
    consultant = UserFactory(roles=["consultant"])
    complaint_start_triage(complaint=complaint, actor=consultant)

    with pytest.raises(ValidationError) as refused:
        complaint_escalate(complaint=complaint, actor=consultant, reviewer=mentor)

    assert "个人督导" in str(refused.value)


def test_a_reviewer_who_handled_the_same_complainant_cannot_be_assigned(db):
    first, lead = escalated_case()
    consultant = UserFactory(roles=["consultant"])
    second = file_complaint(complainant=first.complainant)
    complaint_start_triage(complaint=second, actor=consultant)

    with pytest.raises(ValidationError) as refused:
        complaint_escalate(complaint=second, actor=consultant, reviewer=lead)

    assert "同一投诉人" in str(refused.value)


def test_a_declared_conflict_clears_the_assignment_and_blocks_reassignment(db, supervisor):
    complaint, lead = escalated_case()

    conflict_declare(complaint=complaint, reviewer=lead, reason="与倾听师是同门")
    complaint.refresh_from_db()

    assert complaint.assigned_reviewer is None
    with pytest.raises(ValidationError) as refused:
        reviewer_assign(complaint=complaint, reviewer=lead, actor=supervisor)
    assert "利益冲突" in str(refused.value)


def test_only_the_lead_or_a_supervisor_ends_the_investigation(db, supervisor):
    from complaints.services import complaint_begin_evaluation

    complaint, _lead = escalated_case()
    other = UserFactory(roles=["reviewer"])

    with pytest.raises(PermissionDenied):
        complaint_begin_evaluation(complaint=complaint, actor=other)
    assert complaint_begin_evaluation(complaint=complaint, actor=supervisor).state == ComplaintState.EVALUATION


def test_an_added_reviewer_who_steps_aside_leaves_the_case_and_supervisors_are_told(
    db, supervisor, django_capture_on_commit_callbacks
):
    from django.core import mail

    from evaluations.models import ReviewerAssignment
    from evaluations.services import reviewer_step_aside

    complaint, lead = in_evaluation()
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)

    reviewer_step_aside(complaint=complaint, reviewer=second, reason="与倾听师是朋友")
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_step_aside(complaint=complaint, reviewer=lead, reason="曾督导过该倾听师")

    complaint.refresh_from_db()
    assert not ReviewerAssignment.objects.filter(complaint=complaint).exists()
    assert complaint.assigned_reviewer is None
    assert any(m.to == [supervisor.email] and complaint.reference in m.subject for m in mail.outbox)


def test_an_added_reviewer_may_download_the_evidence(db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ..conftest import signed_in_client

    complaint, lead = escalated_case(files=[SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)])
    second = UserFactory(roles=["reviewer"])
    reviewer_assign(complaint=complaint, reviewer=second, actor=lead)
    url = f"/complaints/attachments/{complaint.attachments.get().public_id}/"

    assert signed_in_client(second).get(url).status_code == 200
    assert signed_in_client(UserFactory(roles=["reviewer"])).get(url).status_code == 404


def test_a_contact_record_keeps_an_attached_file_served_only_to_the_case_reviewers(db, supervisor):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from ..conftest import signed_in_client

    complaint, lead = escalated_case()
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    client = signed_in_client(lead)

    client.post(
        reverse("review:contact_add", args=[complaint.reference]),
        {
            "party": "complainant",
            "channel": "phone",
            "summary": "电话沟通",
            "file": SimpleUploadedFile("记录.pdf", pdf),
        },
    )
    record = ContactRecord.objects.get(complaint=complaint)
    url = f"/review/contacts/{record.pk}/file/"

    assert record.file_name == "记录.pdf" and record.file_type == "application/pdf"
    assert b"".join(client.get(url).streaming_content) == pdf
    assert signed_in_client(supervisor).get(url).status_code == 200
    assert signed_in_client(UserFactory(roles=["reviewer"])).get(url).status_code == 404
    assert signed_in_client(complaint.listener.user).get(url).status_code in (403, 404)
    with pytest.raises(ValidationError):
        contact_record_add(
            complaint=complaint,
            actor=lead,
            party="complainant",
            channel="phone",
            summary="x",
            upload=SimpleUploadedFile("a.pdf", b"MZ\x90\x00"),
        )


def test_a_statement_request_has_a_due_date_that_submitting_meets(db):
    complaint, lead = escalated_case()

    statement = statement_request(complaint=complaint, actor=lead)
    deadline = Deadline.objects.get(kind=DeadlineKind.LISTENER_STATEMENT)

    assert statement.due_at == deadline.due_at
    assert deadline.owner == complaint.listener.user and deadline.state == Deadline.State.OPEN
    assert complaint.session.order_no in deadline.label and complaint.reference not in deadline.label
    assert timedelta(days=2) < deadline.due_at - timezone.now() <= timedelta(days=3)
    statement_request(complaint=complaint, actor=lead)  # asked again: still one deadline
    assert Deadline.objects.filter(kind=DeadlineKind.LISTENER_STATEMENT).count() == 1

    statement_save(statement=statement, actor=complaint.listener.user, body="我的陈述", submit=True)

    deadline.refresh_from_db()
    assert deadline.state == Deadline.State.MET


def test_withdrawing_the_complaint_cancels_the_statement_reminder(db):
    complaint, lead = escalated_case()
    statement_request(complaint=complaint, actor=lead)

    complaint_withdraw(complaint=complaint, actor=complaint.complainant, reason="已和解")

    assert Deadline.objects.get(kind=DeadlineKind.LISTENER_STATEMENT).state == Deadline.State.CANCELLED
