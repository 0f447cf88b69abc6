"""The one way a case moves, for every state machine in Hearken.

``transition_run`` locks the row, refuses a stale version or a wrong state (``core.errors``),
asks the transition's ``permission=`` and any policy check the caller adds, checks the
transition's ``conditions=``, moves, bumps ``version`` when the model has one, saves only the
fields that changed, writes the app's event row, meets or cancels deadlines and queues the
after-commit work. Each app declares a ``Workflow`` (its model, how its event row is written,
its refusal messages) and passes the effects of each move; the state graph stays declarative
on the model, with django-fsm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from core.deadlines import deadline_cancel, deadline_meet
from core.errors import CHANGED_MESSAGE, StaleVersion, WrongState

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

M = TypeVar("M", bound=models.Model)

WRONG_STATE_MESSAGE = gettext_lazy("当前状态（%(state)s）下不能进行这个操作。")
NO_PERMISSION_MESSAGE = gettext_lazy("您没有权限进行这个操作。")
CONDITION_MESSAGE = gettext_lazy("还缺少进行这个操作所需的信息。")


@dataclass(frozen=True)
class Move(Generic[M]):
    """One transition made: what the event row and the effects are written from."""

    instance: M
    name: str
    from_state: str
    to_state: str
    actor: Any
    note: str
    fields: tuple[str, ...]
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Workflow(Generic[M]):
    """What the runner needs to know of one app's state machine.

    ``record`` writes the app's event row for a move (timeline, case history); ``lock`` loads
    the row with ``select_for_update`` (the model's manager by default); ``refusals`` gives a
    transition's message when the state does not allow it, ``wrong_state`` the exception
    raised then (``WrongState``; an app whose edges still expect a ValidationError may say so
    until they learn the conflict family). With ``sync_caller`` the caller's instance is brought
    up to date with the saved fields, so a second move with it is not seen as stale.
    """

    model: type[M]
    record: Callable[[Move[M]], object] | None = None
    state_field: str = "state"
    lock: Callable[[Any], M] | None = None
    stale_message: StrOrPromise = CHANGED_MESSAGE
    refusals: Mapping[str, StrOrPromise] = field(default_factory=dict)
    wrong_state: Callable[[str], Exception] = WrongState
    sync_caller: bool = False

    def locked(self, pk: Any) -> M:
        if self.lock is not None:
            return self.lock(pk)
        return cast(M, self.model._default_manager.select_for_update(of=("self",)).get(pk=pk))

    def has_field(self, name: str) -> bool:
        try:
            self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        return True

    def refusal(self, instance: M, name: str, message: StrOrPromise | None) -> Exception:
        text = message or self.refusals.get(name)
        if not text:
            display = getattr(instance, f"get_{self.state_field}_display")()
            text = WRONG_STATE_MESSAGE % {"state": display}
        return self.wrong_state(str(text))


def transition_run(
    workflow: Workflow[M],
    obj: M,
    name: str | Callable[[M], str],
    *,
    actor: Any,
    note: StrOrPromise | Callable[[M], StrOrPromise] = "",
    expected_version: int | None = None,
    prepare: Mapping[str, Any] | None = None,
    allowed: Callable[[M, Any], bool] | None = None,
    denied_message: StrOrPromise | None = None,
    refused_message: StrOrPromise | None = None,
    condition_message: StrOrPromise | None = None,
    condition_error: Callable[[str], Exception] = ValidationError,
    validate: Callable[[M], object] | None = None,
    before_save: Callable[[M], Iterable[str]] | None = None,
    meet: Iterable[str] = (),
    cancel: Iterable[str] | bool = (),
    effects: Callable[[Move[M]], object] | None = None,
    after_commit: Callable[[Move[M]], object] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Move[M]:
    """Make transition ``name`` (or the one it picks from the locked row) on ``obj`` atomically, or
    raise and change nothing (refusals: ``_refuse_unless_allowed``). ``effects`` runs after the
    event row, ``after_commit`` on commit. No savepoint of its own: a refusal a caller catches (a
    bulk action skipping a row) leaves the service's transaction usable."""
    locked = workflow.locked(obj.pk)
    for attr, value in (prepare or {}).items():
        setattr(locked, attr, value)
    name = name(locked) if callable(name) else name
    from_state = getattr(locked, workflow.state_field)
    _refuse_unless_allowed(
        workflow,
        locked,
        name,
        actor,
        expected_version=expected_version,
        allowed=allowed,
        denied=PermissionDenied(str(denied_message or NO_PERMISSION_MESSAGE)),
        refused_message=refused_message,
        condition=lambda: condition_error(str(condition_message or CONDITION_MESSAGE)),
        validate=validate,
    )
    getattr(locked, name)()
    fields = _save_moved(workflow, locked, [workflow.state_field, *(prepare or {}).keys()], before_save)
    move = Move(
        instance=locked,
        name=name,
        from_state=from_state,
        to_state=getattr(locked, workflow.state_field),
        actor=actor,
        note=str(note(locked) if callable(note) else note),
        fields=tuple(fields),
        context=dict(context or {}),
    )
    _follow_up(workflow, move, meet=meet, cancel=cancel, effects=effects, after_commit=after_commit)
    if workflow.sync_caller and obj is not locked:
        _sync_caller_copy(obj, locked, fields)
    return move


def _refuse_unless_allowed(
    workflow: Workflow[M],
    locked: M,
    name: str,
    actor: Any,
    *,
    expected_version: int | None,
    allowed: Callable[[M, Any], bool] | None,
    denied: PermissionDenied,
    refused_message: StrOrPromise | None,
    condition: Callable[[], Exception],
    validate: Callable[[M], object] | None,
) -> None:
    """Refuses with ``StaleVersion`` when ``expected_version`` is given and differs from the
    stored one; ``PermissionDenied`` when the caller's policy check ``allowed`` says no; the
    workflow's wrong-state error when the state does not allow the move; ``PermissionDenied``
    when the transition's ``permission=`` says no; the condition error when a ``conditions=``
    check fails (after ``prepare`` is applied, so a condition can read the fields the move
    sets). ``validate`` then checks what the graph cannot know (the input, a higher app's
    facts) and raises to refuse."""
    if workflow.has_field("version") and expected_version is not None and locked.version != expected_version:  # type: ignore[attr-defined]
        raise StaleVersion(workflow.stale_message)
    method = getattr(locked, name)
    meta = method._django_fsm
    from_state = getattr(locked, workflow.state_field)
    # The policy first: someone who may not act on the case does not learn its state.
    if allowed is not None and not allowed(locked, actor):
        raise denied
    if not meta.has_transition(from_state):
        raise workflow.refusal(locked, name, refused_message)
    if not meta.has_transition_perm(locked, from_state, actor):
        raise denied
    if not can_proceed(method):
        raise condition()
    if validate is not None:
        validate(locked)


def _save_moved(
    workflow: Workflow[M], locked: M, fields: list[str], before_save: Callable[[M], Iterable[str]] | None
) -> list[str]:
    """Bump the version, save only the moved fields, and return their names."""
    if workflow.has_field("version"):
        locked.version += 1  # type: ignore[attr-defined]
        fields.append("version")
    if workflow.has_field("updated_at"):
        fields.append("updated_at")
    if before_save is not None:
        fields += list(before_save(locked))
    fields = list(dict.fromkeys(fields))
    locked.save(update_fields=fields)
    return fields


def _follow_up(
    workflow: Workflow[M],
    move: Move[M],
    *,
    meet: Iterable[str],
    cancel: Iterable[str] | bool,
    effects: Callable[[Move[M]], object] | None,
    after_commit: Callable[[Move[M]], object] | None,
) -> None:
    """The event row, the deadlines the move meets or cancels, its effects, its after-commit work."""
    if workflow.record is not None:
        workflow.record(move)
    meet = list(meet)
    if meet:
        deadline_meet(subject=move.instance, kinds=meet)
    if cancel is True:
        deadline_cancel(subject=move.instance)
    elif cancel:
        deadline_cancel(subject=move.instance, kinds=list(cancel))
    if effects is not None:
        effects(move)
    if after_commit is not None:
        transaction.on_commit(lambda: after_commit(move))


def _sync_caller_copy(obj: models.Model, locked: models.Model, fields: Iterable[str]) -> None:
    """Copy the saved fields onto the caller's instance (the state field is protected, so
    through ``__dict__``)."""
    for name in fields:
        model_field = cast(models.Field, locked._meta.get_field(name))
        obj.__dict__[model_field.attname] = getattr(locked, model_field.attname)
        obj._state.fields_cache.pop(name, None)


def version_check(obj: models.Model, expected_version: int | None, message: StrOrPromise = CHANGED_MESSAGE) -> None:
    """For edits that are not transitions: refuse a stale version of a locked row."""
    if expected_version is not None and obj.version != expected_version:  # type: ignore[attr-defined]
        raise StaleVersion(message)


__all__ = ["Move", "Workflow", "transition_run", "version_check"]
