"""Two staff acting on one case at once, on two real database connections: exactly one wins."""

import threading

import pytest
from django.db import connection

from complaints.models import Complaint, ComplaintState, TimelineEvent
from complaints.services import ComplaintConflict, complaint_escalate, complaint_reject, complaint_start_triage

from ..factories import UserFactory
from .helpers import file_complaint

pytestmark = pytest.mark.django_db(transaction=True)


def race(*actions):
    """Run each action in its own thread (own connection), released together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            outcomes[i] = action()
        except Exception as exc:  # recorded and asserted on below
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_consultants_taking_the_same_case_one_wins_the_other_is_told_to_reload():
    complaint = file_complaint()
    first, second = UserFactory(roles=["consultant"]), UserFactory(roles=["consultant"])
    # Each loaded the page (version 1) before either clicked.
    copy_a, copy_b = Complaint.objects.get(pk=complaint.pk), Complaint.objects.get(pk=complaint.pk)

    outcomes = race(
        lambda: complaint_start_triage(complaint=copy_a, actor=first),
        lambda: complaint_start_triage(complaint=copy_b, actor=second),
    )

    wins = [o for o in outcomes if isinstance(o, Complaint)]
    conflicts = [o for o in outcomes if isinstance(o, ComplaintConflict)]
    assert (len(wins), len(conflicts)) == (1, 1), outcomes
    assert "其他人修改过" in str(conflicts[0])
    saved = Complaint.objects.get(pk=complaint.pk)
    assert (saved.state, saved.version) == (ComplaintState.TRIAGE, 2)
    assert saved.assigned_consultant == wins[0].assigned_consultant
    assert TimelineEvent.objects.filter(complaint=complaint, transition="start_triage").count() == 1


def test_reject_and_escalate_at_once_leave_one_consistent_outcome():
    complaint = file_complaint()
    consultant, colleague = UserFactory(roles=["consultant"]), UserFactory(roles=["consultant"])
    reviewer = UserFactory(roles=["reviewer"])
    complaint_start_triage(complaint=complaint, actor=consultant)
    copy_a, copy_b = Complaint.objects.get(pk=complaint.pk), Complaint.objects.get(pk=complaint.pk)

    outcomes = race(
        lambda: complaint_reject(complaint=copy_a, actor=consultant, reason="不属于受理范围"),
        lambda: complaint_escalate(complaint=copy_b, actor=colleague, reviewer=reviewer),
    )

    assert sum(isinstance(o, Complaint) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ComplaintConflict) for o in outcomes) == 1, outcomes
    saved = Complaint.objects.get(pk=complaint.pk)
    assert saved.state in (ComplaintState.REJECTED, ComplaintState.INVESTIGATION)
    moves = TimelineEvent.objects.filter(complaint=complaint, transition__in=["reject", "escalate"])
    assert list(moves.values_list("to_state", flat=True)) == [saved.state]


def test_simultaneous_submissions_get_distinct_sequential_references():
    complainants = [UserFactory(roles=["complainant"]) for _ in range(6)]

    outcomes = race(*[(lambda c=c: file_complaint(complainant=c)) for c in complainants])

    references = sorted(o.reference for o in outcomes)
    assert all(isinstance(o, Complaint) for o in outcomes), outcomes
    numbers = [int(r.rsplit("-", 1)[1]) for r in references]
    assert numbers == list(range(numbers[0], numbers[0] + 6))
