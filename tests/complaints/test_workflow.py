"""The complaint state machine through its services: who may move a case, when, and what it leaves behind."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed

from complaints.models import Complaint, ComplaintState, TimelineEvent
from complaints.services import (
    ComplaintConflict,
    complaint_add_info,
    complaint_add_note,
    complaint_archive,
    complaint_assign,
    complaint_close,
    complaint_escalate,
    complaint_merge,
    complaint_reject,
    complaint_resolve,
    complaint_start_triage,
    complaint_withdraw,
    identity_reveal,
)
from core.models import AccessLog

from ..factories import ListeningSessionFactory, UserFactory
from .helpers import REAL_NAME, VALID_ID, file_complaint

S = ComplaintState


@pytest.fixture
def consultant(db):
    return UserFactory(roles=["consultant"])


@pytest.fixture
def reviewer(db):
    return UserFactory(roles=["reviewer"])


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=["supervisor"])


@pytest.fixture
def complaint(db):
    return file_complaint()


def in_triage(complaint, consultant):
    return complaint_start_triage(complaint=complaint, actor=consultant)


def test_state_cannot_be_set_directly(complaint):
    with pytest.raises(AttributeError):
        complaint.state = S.CLOSED


def test_start_triage_assigns_the_consultant_and_counts_as_the_first_response(complaint, consultant):
    triaged = complaint_start_triage(complaint=complaint, actor=consultant)

    assert triaged.state == S.TRIAGE
    assert triaged.assigned_consultant == consultant
    assert triaged.first_response_at is not None
    event = TimelineEvent.objects.get(complaint=complaint, transition="start_triage")
    assert (event.actor, event.from_state, event.to_state, event.visible_to_complainant) == (
        consultant,
        S.SUBMITTED,
        S.TRIAGE,
        True,
    )


def test_resolve_directly_needs_a_resolution_and_tells_the_complainant(
    complaint, consultant, django_capture_on_commit_callbacks
):
    in_triage(complaint, consultant)

    with pytest.raises(ValidationError):
        complaint_resolve(complaint=complaint, actor=consultant, resolution="  ")
    with django_capture_on_commit_callbacks(execute=True):
        resolved = complaint_resolve(complaint=complaint, actor=consultant, resolution="已为您安排全额退款。")

    assert resolved.state == S.RESOLVED
    assert resolved.resolution == "已为您安排全额退款。"
    assert "已为您安排全额退款。" in mail.outbox[-1].body
    assert mail.outbox[-1].to == [complaint.complainant.email]


def test_reject_needs_a_reason(complaint, consultant):
    in_triage(complaint, consultant)

    with pytest.raises(ValidationError):
        complaint_reject(complaint=complaint, actor=consultant, reason="")
    rejected = complaint_reject(complaint=complaint, actor=consultant, reason="与订单无关的重复投诉")

    assert rejected.state == S.REJECTED
    assert Complaint.objects.get(pk=complaint.pk).rejection_reason == "与订单无关的重复投诉"


def test_escalate_needs_a_reviewer_and_refuses_someone_who_is_not_one(complaint, consultant, reviewer):
    in_triage(complaint, consultant)

    with pytest.raises(ValidationError):
        complaint_escalate(complaint=complaint, actor=consultant, reviewer=None)
    with pytest.raises(ValidationError):
        complaint_escalate(complaint=complaint, actor=consultant, reviewer=consultant)
    escalated = complaint_escalate(complaint=complaint, actor=consultant, reviewer=reviewer)

    assert escalated.state == S.INVESTIGATION
    assert escalated.assigned_reviewer == reviewer


def test_the_direct_path_closes_and_archives(complaint, consultant):
    in_triage(complaint, consultant)
    complaint_resolve(complaint=complaint, actor=consultant, resolution="已解释")

    complaint_close(complaint=complaint, actor=consultant)
    complaint_archive(complaint=complaint, actor=consultant)

    assert Complaint.objects.get(pk=complaint.pk).state == S.ARCHIVED
    transitions = list(
        TimelineEvent.objects.filter(complaint=complaint, kind="transition").values_list("to_state", flat=True)
    )
    assert transitions == [S.SUBMITTED, S.TRIAGE, S.RESOLVED, S.CLOSED, S.ARCHIVED]


@pytest.mark.parametrize(
    ("steps", "move"),
    [
        ([], "resolve"),  # resolve before triage
        ([], "escalate"),
        ([], "close"),
        (["triage"], "archive"),
        (["triage", "resolve"], "escalate"),
        (["triage", "resolve"], "reject"),
        (["triage", "escalate"], "resolve"),
        (["triage", "escalate"], "close"),
        (["withdraw"], "triage"),
        (["withdraw"], "withdraw"),
    ],
)
def test_illegal_moves_are_refused_as_conflicts_and_change_nothing(complaint, consultant, reviewer, steps, move):
    complainant = complaint.complainant
    actions = {
        "triage": lambda: complaint_start_triage(complaint=complaint, actor=consultant),
        "resolve": lambda: complaint_resolve(complaint=complaint, actor=consultant, resolution="好的"),
        "reject": lambda: complaint_reject(complaint=complaint, actor=consultant, reason="不属实"),
        "escalate": lambda: complaint_escalate(complaint=complaint, actor=consultant, reviewer=reviewer),
        "close": lambda: complaint_close(complaint=complaint, actor=consultant),
        "archive": lambda: complaint_archive(complaint=complaint, actor=consultant),
        "withdraw": lambda: complaint_withdraw(complaint=complaint, actor=complainant),
    }
    for step in steps:
        actions[step]()
    before = Complaint.objects.get(pk=complaint.pk)
    events = TimelineEvent.objects.count()

    with pytest.raises(ComplaintConflict):
        actions[move]()

    after = Complaint.objects.get(pk=complaint.pk)
    assert (after.state, after.version) == (before.state, before.version)
    assert TimelineEvent.objects.count() == events


@pytest.mark.parametrize("role", ["complainant", "listener", "reviewer"])
def test_only_consultants_and_supervisors_may_triage(complaint, role):
    outsider = UserFactory(roles=[role])

    with pytest.raises(PermissionDenied):
        complaint_start_triage(complaint=complaint, actor=outsider)
    assert Complaint.objects.get(pk=complaint.pk).state == S.SUBMITTED


def test_supervisors_may_triage_too(complaint, supervisor):
    assert complaint_start_triage(complaint=complaint, actor=supervisor).state == S.TRIAGE


def test_only_the_complainant_may_withdraw_and_only_before_a_decision(complaint, consultant, reviewer):
    with pytest.raises(PermissionDenied):
        complaint_withdraw(complaint=complaint, actor=consultant)
    in_triage(complaint, consultant)
    complaint_escalate(complaint=complaint, actor=consultant, reviewer=reviewer)

    withdrawn = complaint_withdraw(complaint=complaint, actor=complaint.complainant, reason="已经和解")

    assert withdrawn.state == S.WITHDRAWN
    assert TimelineEvent.objects.filter(complaint=complaint, transition="withdraw", note="已经和解").exists()


def test_a_move_made_on_a_stale_copy_is_refused(complaint, consultant):
    stale = Complaint.objects.get(pk=complaint.pk)
    complaint_start_triage(complaint=complaint, actor=consultant)

    with pytest.raises(ComplaintConflict):
        complaint_reject(complaint=stale, actor=consultant, reason="重复")
    with pytest.raises(ComplaintConflict):
        complaint_reject(complaint=complaint, actor=consultant, reason="重复", expected_version=1)


def test_merging_a_duplicate_closes_it_and_links_it_to_the_survivor(consultant, django_capture_on_commit_callbacks):
    complainant = UserFactory(roles=["complainant"])
    session = ListeningSessionFactory(complainant=complainant)
    survivor = file_complaint(complainant=complainant, session=session)
    duplicate = file_complaint(complainant=complainant, session=session, content="补充一次")

    with django_capture_on_commit_callbacks(execute=True):
        merged = complaint_merge(duplicate=duplicate, into=survivor, actor=consultant)

    assert duplicate.duplicate_of == survivor
    assert (merged.state, merged.merged_into) == (S.CLOSED, survivor)
    assert TimelineEvent.objects.filter(complaint=survivor, kind="merge").exists()
    assert any(survivor.reference in m.body for m in mail.outbox)


def test_complaints_of_different_people_cannot_be_merged(consultant):
    with pytest.raises(ValidationError):
        complaint_merge(duplicate=file_complaint(), into=file_complaint(), actor=consultant)


def test_the_complainant_adds_information_before_a_decision(complaint):
    event = complaint_add_info(complaint=complaint, actor=complaint.complainant, text="我还记得她说了……")

    assert event.visible_to_complainant
    assert event.kind == TimelineEvent.Kind.INFO_ADDED


def test_nobody_else_adds_information_in_the_complainants_name(complaint, consultant):
    with pytest.raises(PermissionDenied):
        complaint_add_info(complaint=complaint, actor=consultant, text="x")


def test_a_visible_staff_note_is_a_first_response_and_a_private_one_is_not(complaint, consultant):
    complaint_add_note(complaint=complaint, actor=consultant, note="内部：先核对订单", visible=False)
    assert Complaint.objects.get(pk=complaint.pk).first_response_at is None

    complaint_add_note(complaint=complaint, actor=consultant, note="您好，我们正在核实", visible=True)
    assert Complaint.objects.get(pk=complaint.pk).first_response_at is not None


def test_assignment_is_recorded_on_the_timeline(complaint, supervisor, consultant):
    complaint_assign(complaint=complaint, actor=supervisor, consultant=consultant)

    assert Complaint.objects.get(pk=complaint.pk).assigned_consultant == consultant
    assert TimelineEvent.objects.filter(complaint=complaint, kind="assignment").count() == 1


def test_timeline_events_cannot_be_edited_or_deleted(complaint):
    from django.db import ProgrammingError, transaction

    event = TimelineEvent.objects.filter(complaint=complaint).first()

    with pytest.raises(ProgrammingError), transaction.atomic():
        TimelineEvent.objects.filter(pk=event.pk).update(note="改写历史")
    with pytest.raises(ProgrammingError), transaction.atomic():
        TimelineEvent.objects.filter(pk=event.pk).delete()


def test_a_supervisor_reveals_one_field_with_a_reason_and_it_is_logged(complaint, supervisor):
    value = identity_reveal(complaint=complaint, actor=supervisor, field="real_name", reason="需要电话核实身份")

    log = AccessLog.objects.get()
    assert value == REAL_NAME
    assert (log.actor, log.field, log.case_reference, log.reason) == (
        supervisor,
        "real_name",
        complaint.reference,
        "需要电话核实身份",
    )


def test_the_assigned_reviewer_may_reveal_but_another_reviewer_may_not(complaint, consultant, reviewer):
    in_triage(complaint, consultant)
    complaint_escalate(complaint=complaint, actor=consultant, reviewer=reviewer)
    other = UserFactory(roles=["reviewer"])

    assert identity_reveal(complaint=complaint, actor=reviewer, field="id_number", reason="核对实名") == VALID_ID
    with pytest.raises(PermissionDenied):
        identity_reveal(complaint=complaint, actor=other, field="id_number", reason="好奇看看")
    assert AccessLog.objects.count() == 1


@pytest.mark.parametrize("role", ["consultant", "listener", "complainant"])
def test_other_roles_cannot_reveal_identity(complaint, role):
    with pytest.raises(PermissionDenied):
        identity_reveal(complaint=complaint, actor=UserFactory(roles=[role]), field="phone", reason="需要联系")
    assert not AccessLog.objects.exists()


def test_a_reveal_without_a_reason_is_refused(complaint, supervisor):
    with pytest.raises(ValidationError):
        identity_reveal(complaint=complaint, actor=supervisor, field="phone", reason=" ")
    assert not AccessLog.objects.exists()


def test_reference_numbers_are_sequential_within_a_year(db):
    first, second = file_complaint(), file_complaint()

    year, n1 = first.reference.rsplit("-", 1)
    year2, n2 = second.reference.rsplit("-", 1)
    assert year == year2
    assert int(n2) == int(n1) + 1


def test_transition_not_allowed_never_leaks_out_of_services(complaint, consultant):
    # Callers only ever see ComplaintConflict, PermissionDenied or ValidationError.
    try:
        complaint_close(complaint=complaint, actor=consultant)
    except ComplaintConflict:
        pass
    except TransitionNotAllowed:  # pragma: no cover - the failure this test exists for
        pytest.fail("TransitionNotAllowed escaped the service")
