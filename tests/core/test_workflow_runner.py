"""The one transition runner (core.workflow): what it refuses, what it writes, what it schedules.

Shown on ethics cases, whose graph has a permission and conditions, a version and an event
table, through a workflow declared here so the runner is tested apart from supervision's
services; the services' own tests show that each app's moves go through it.
"""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from complaints.services import ComplaintConflict
from core.errors import Conflict, StaleVersion, WrongState
from core.workflow import Move, Workflow, transition_run
from listeners.models import ListenerProfile
from supervision.models import EthicsCase, EthicsCaseEvent, EthicsCaseState, EthicsSource
from supervision.services import SupervisionConflict

from ..factories import ListenerProfileFactory, UserFactory


def record(move: Move[EthicsCase]) -> None:
    EthicsCaseEvent.objects.create(
        case=move.instance,
        kind=EthicsCaseEvent.Kind.TRANSITION,
        actor=move.actor,
        note=move.note,
        from_state=move.from_state,
        to_state=move.to_state,
        transition=move.name,
    )


FLOW = Workflow(model=EthicsCase, record=record, refusals={"decide": "评估之后才能作出决定。"})
SYNCED = Workflow(model=EthicsCase, record=record, sync_caller=True)


def supervisor():
    return UserFactory(roles=["supervisor"])


def new_case(listener: ListenerProfile | None = None) -> EthicsCase:
    return EthicsCase.objects.create(
        listener=listener or ListenerProfileFactory(),
        source=EthicsSource.SUPERVISOR_OBSERVATION,
        summary="督导旁听时发现",
        opened_by=supervisor(),
    )


def transitions_of(case: EthicsCase) -> int:
    return EthicsCaseEvent.objects.filter(case=case, kind=EthicsCaseEvent.Kind.TRANSITION).count()


@pytest.mark.django_db
class TestRefusals:
    def test_a_stale_version_is_refused_as_a_conflict_and_nothing_moves(self):
        case = new_case()

        with pytest.raises(StaleVersion) as refused:
            transition_run(FLOW, case, "start_investigating", actor=supervisor(), expected_version=7)

        assert isinstance(refused.value, Conflict)
        assert "其他人修改过" in str(refused.value)
        case.refresh_from_db()
        assert (case.state, case.version, transitions_of(case)) == (EthicsCaseState.OPENED, 1, 0)

    def test_a_wrong_state_is_refused_with_the_transitions_own_message(self):
        case = new_case()

        with pytest.raises(WrongState, match="评估之后才能作出决定"):
            transition_run(FLOW, case, "decide", actor=supervisor())

    def test_a_wrong_state_without_its_own_message_names_the_state(self):
        case = new_case()

        with pytest.raises(WrongState, match="当前状态（"):
            transition_run(FLOW, case, "evaluate", actor=supervisor())

    def test_the_apps_old_conflict_names_catch_the_whole_family(self):
        assert ComplaintConflict is Conflict and SupervisionConflict is Conflict
        assert issubclass(StaleVersion, ComplaintConflict) and issubclass(WrongState, SupervisionConflict)

    def test_a_failed_condition_is_refused_with_the_callers_message(self):
        case = new_case()
        actor = supervisor()
        transition_run(FLOW, case, "start_investigating", actor=actor)

        with pytest.raises(ValidationError, match="请写下评估意见"):
            transition_run(FLOW, case, "evaluate", actor=actor, condition_message="请写下评估意见。")

        case.refresh_from_db()
        assert case.state == EthicsCaseState.INVESTIGATING

    def test_a_condition_reads_the_fields_the_move_prepares(self):
        case = new_case()
        actor = supervisor()
        transition_run(FLOW, case, "start_investigating", actor=actor)

        move = transition_run(FLOW, case, "evaluate", actor=actor, prepare={"evaluation_summary": "违反职业伦理"})

        case.refresh_from_db()
        assert (case.state, case.evaluation_summary) == (EthicsCaseState.EVALUATED, "违反职业伦理")
        assert "evaluation_summary" in move.fields

    def test_the_transitions_permission_is_asked(self):
        case = new_case()

        with pytest.raises(PermissionDenied):
            transition_run(FLOW, case, "start_investigating", actor=UserFactory(roles=["consultant"]))

        assert transitions_of(case) == 0

    def test_a_policy_check_passed_by_the_caller_is_asked_too(self):
        case = new_case()

        with pytest.raises(PermissionDenied, match="不是本案督导"):
            transition_run(
                FLOW,
                case,
                "start_investigating",
                actor=supervisor(),
                allowed=lambda locked, actor: locked.opened_by_id == actor.pk,
                denied_message="不是本案督导",
            )

    def test_someone_the_policy_refuses_does_not_learn_the_cases_state(self):
        case = new_case()

        with pytest.raises(PermissionDenied):
            transition_run(FLOW, case, "decide", actor=supervisor(), allowed=lambda locked, actor: False)

    def test_a_validation_of_the_locked_row_refuses_before_anything_is_saved(self):
        case = new_case()

        def refuse(locked):
            raise ValidationError({"note": ["请写下理由。"]})

        with pytest.raises(ValidationError):
            transition_run(FLOW, case, "start_investigating", actor=supervisor(), validate=refuse)

        case.refresh_from_db()
        assert (case.state, case.version) == (EthicsCaseState.OPENED, 1)


@pytest.mark.django_db
class TestAMove:
    def test_writes_exactly_one_event_row_bumps_the_version_and_updates_the_callers_copy(self):
        case = new_case()

        move = transition_run(
            SYNCED, case, "start_investigating", actor=supervisor(), note="开始调查", expected_version=1
        )

        event = EthicsCaseEvent.objects.get(case=case, kind=EthicsCaseEvent.Kind.TRANSITION)
        assert (event.from_state, event.to_state, event.transition, event.note) == (
            EthicsCaseState.OPENED,
            EthicsCaseState.INVESTIGATING,
            "start_investigating",
            "开始调查",
        )
        assert (case.state, case.version) == (EthicsCaseState.INVESTIGATING, 2)
        assert move.fields == ("state", "version", "updated_at")

    def test_effects_run_in_the_transaction_and_after_commit_work_only_on_commit(
        self, django_capture_on_commit_callbacks
    ):
        case = new_case()
        seen: list[str] = []

        with django_capture_on_commit_callbacks(execute=False) as scheduled:
            transition_run(
                FLOW,
                case,
                "start_investigating",
                actor=supervisor(),
                effects=lambda move: seen.append(f"effect {move.to_state}"),
                after_commit=lambda move: seen.append(f"committed {move.to_state}"),
            )

        assert seen == ["effect investigating"]
        assert len(scheduled) == 1
        scheduled[0]()
        assert seen == ["effect investigating", "committed investigating"]

    def test_after_commit_work_is_dropped_when_the_transaction_rolls_back(self, django_capture_on_commit_callbacks):
        case = new_case()
        seen: list[str] = []

        with django_capture_on_commit_callbacks(execute=True) as scheduled:
            try:
                with transaction.atomic():
                    transition_run(
                        FLOW, case, "start_investigating", actor=supervisor(), after_commit=lambda m: seen.append("x")
                    )
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

        assert (scheduled, seen) == ([], [])
        assert EthicsCase.objects.get(pk=case.pk).state == EthicsCaseState.OPENED


def race(*actions):
    """Run each action on its own thread (its own connection), released together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            with transaction.atomic():
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


@pytest.mark.django_db(transaction=True)
def test_two_connections_moving_the_same_case_at_once_leave_exactly_one_move():
    case = new_case()
    first, second = supervisor(), supervisor()
    # Both loaded the case at version 1 before either acted.
    copy_a, copy_b = EthicsCase.objects.get(pk=case.pk), EthicsCase.objects.get(pk=case.pk)

    outcomes = race(
        lambda: transition_run(FLOW, copy_a, "start_investigating", actor=first, expected_version=copy_a.version),
        lambda: transition_run(FLOW, copy_b, "close", actor=second, expected_version=copy_b.version),
    )

    moves = [o for o in outcomes if isinstance(o, Move)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(moves), len(conflicts)) == (1, 1), outcomes
    saved = EthicsCase.objects.get(pk=case.pk)
    assert (saved.state, saved.version) == (moves[0].to_state, 2)
    assert transitions_of(saved) == 1
