"""Two staff verifying the last two tasks of a case at the same moment, on two real connections:
the case still closes and the temporary status is lifted."""

import time

import pytest

import evaluations.services.tasks as evaluation_services  # task_review notifies from here
from complaints.models import Complaint, ComplaintState
from evaluations.models import ListenerTask, TaskState
from evaluations.services import task_review, task_submit
from listeners.models import ListenerStatus

from ..complaints.test_concurrency import race
from ..factories import UserFactory
from ..portal.helpers import notified_case

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_last_two_tasks_verified_at_once_still_close_the_case(monkeypatch):
    complaint, lead, _decision = notified_case()
    listener = complaint.listener
    tasks = list(ListenerTask.objects.filter(listener=listener).order_by("pk"))
    for task in tasks:
        task_submit(task=task, actor=listener.user, note="已完成")
    task_review(task=tasks[0], actor=lead, accepted=True)
    supervisor = UserFactory(roles=["supervisor"])
    notify = evaluation_services.notify

    def slow_notify(**kwargs):
        # Widen the window between saving a task and counting the open ones.
        time.sleep(0.3)
        return notify(**kwargs)

    monkeypatch.setattr(evaluation_services, "notify", slow_notify)

    outcomes = race(
        lambda: task_review(task=tasks[1], actor=lead, accepted=True),
        lambda: task_review(task=tasks[2], actor=supervisor, accepted=True),
    )

    assert all(isinstance(o, ListenerTask) for o in outcomes), outcomes
    assert set(ListenerTask.objects.filter(listener=listener).values_list("state", flat=True)) == {TaskState.VERIFIED}
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.CLOSED
    listener.refresh_from_db()
    assert listener.status == ListenerStatus.ACTIVE
