import pytest

from listeners.models import ListenerStatus, ListenerStatusChange
from listeners.services import listener_set_status

from ..factories import ListenerProfileFactory


def test_status_change_records_from_to_reason_and_actor(make_user):
    supervisor = make_user("supervisor")
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    listener_set_status(listener=listener, status=ListenerStatus.HIDDEN, reason="待完成督导任务", actor=supervisor)

    listener.refresh_from_db()
    change = ListenerStatusChange.objects.get(listener=listener)
    assert listener.status == ListenerStatus.HIDDEN
    assert (change.from_status, change.to_status, change.reason, change.actor) == (
        ListenerStatus.ACTIVE,
        ListenerStatus.HIDDEN,
        "待完成督导任务",
        supervisor,
    )


def test_a_status_change_without_a_reason_is_refused(db):
    listener = ListenerProfileFactory()

    with pytest.raises(ValueError):
        listener_set_status(listener=listener, status=ListenerStatus.SUSPENDED, reason="  ", actor=None)

    assert not ListenerStatusChange.objects.exists()


def test_setting_the_same_status_writes_no_history(db):
    listener = ListenerProfileFactory(status=ListenerStatus.ACTIVE)

    listener_set_status(listener=listener, status=ListenerStatus.ACTIVE, reason="重复", actor=None)

    assert not ListenerStatusChange.objects.exists()
