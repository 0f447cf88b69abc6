"""A listener's standing: holds are placed and released, the status is computed from them.

Every restriction (a decision's measure, an ethics decision, an interview result, a supervisor's
manual change) is a ``ListenerHold`` with its source. The status is the most severe active hold's
effect, or active when none is left. Each case changes only its own hold, so an appeal on one
complaint cannot lift a delisting that another complaint's decision placed, and a milder later
decision cannot soften a stricter hold still in force.

Apps above this one say when their holds end by registering a check per source model
(``register_hold_end``): ``holds_settle`` asks them after anything that may have ended a hold
(a task verified, a plan item verified, an interview finished).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.outbox import outbox_write

from .models import SEVERITY, HoldEnd, ListenerHold, ListenerProfile, ListenerStatus, ListenerStatusChange

if TYPE_CHECKING:
    from accounts.models import User

# ``check(source) -> str | None``: the release reason once the source's hold has ended, else None.
HoldEndCheck = Callable[[Any], "str | None"]
_END_CHECKS: dict[str, HoldEndCheck] = {}
SETTLED_BY_CHECK = (HoldEnd.CASE_DONE, HoldEnd.PLAN_VERIFIED)


def register_hold_end(model_label: str, check: HoldEndCheck) -> None:
    """``model_label`` is ``app_label.modelname`` of the hold's source."""
    _END_CHECKS[model_label.lower()] = check


def status_from(holds: Iterable[ListenerHold]) -> tuple[str, ListenerHold | None]:
    """The effective status of a set of active holds, and the hold that decides it: the most
    severe, and among equals the latest placed."""
    deciding: ListenerHold | None = None
    for hold in holds:
        if deciding is None or (hold.severity(), -hold.placed_at.timestamp(), -(hold.pk or 0)) < (
            deciding.severity(),
            -deciding.placed_at.timestamp(),
            -(deciding.pk or 0),
        ):
            deciding = hold
    return (deciding.effect if deciding is not None else ListenerStatus.ACTIVE), deciding


def active_holds(listener: ListenerProfile) -> models.QuerySet[ListenerHold]:
    return ListenerHold.objects.filter(listener_id=listener.pk, released_at__isnull=True)


def _source_filter(source: models.Model | None) -> dict:
    if source is None:
        return {"source_type__isnull": True, "source_id__isnull": True}
    return {"source_type": ContentType.objects.get_for_model(source), "source_id": source.pk}


def _lock(listener: ListenerProfile) -> ListenerProfile:
    return ListenerProfile.objects.select_for_update().get(pk=listener.pk)


def listener_recompute_status(
    *, listener: ListenerProfile, reason: str, actor: User | None, released: ListenerHold | None = None
) -> ListenerProfile:
    """Set the status to what the active holds say. A change is recorded (naming the deciding hold)
    and sent to the main platform only when the effective status changed. Call it inside the
    transaction that changed a hold, with the listener's row locked."""
    locked = _lock(listener)
    target, deciding = status_from(active_holds(locked))
    listener.status = target
    if locked.status == target:
        return locked
    change = ListenerStatusChange(
        listener=locked, from_status=locked.status, to_status=target, reason=reason, actor=actor, hold=deciding
    )
    cause = deciding if deciding is not None else released
    if cause is not None and cause.source_type_id is not None:
        change.source_type_id, change.source_id = cause.source_type_id, cause.source_id
    locked.status = target
    locked.save(update_fields=["status"])
    change.save()
    # The main platform hides, suspends or delists the listener on its side.
    outbox_write(
        kind="listener.status_changed",
        payload={
            "listener_code": locked.code,
            "from": str(change.from_status),
            "to": str(change.to_status),
            "reason": str(reason),
            "changed_at": change.created_at.isoformat(),
        },
    )
    return locked


def _release(hold: ListenerHold, *, reason: str, actor: User | None) -> None:
    hold.released_at, hold.released_by, hold.released_reason = timezone.now(), actor, reason
    hold.save(update_fields=["released_at", "released_by", "released_reason"])


@transaction.atomic
def hold_place(
    *,
    listener: ListenerProfile,
    effect: ListenerStatus | str,
    ends: HoldEnd | str,
    reason: str,
    actor: User | None,
    source: models.Model | None = None,
) -> ListenerHold:
    """Place ``source``'s hold on the listener, replacing the one it had (an appeal's changed
    measures), and recompute the status. ``source`` None is the supervisor's manual hold."""
    if not reason.strip():
        raise ValueError("a hold needs a reason")
    if effect not in SEVERITY:
        raise ValueError(f"a hold restricts: {effect!r} is not a restriction")
    locked = _lock(listener)
    for old in active_holds(locked).filter(**_source_filter(source)):
        _release(old, reason=reason, actor=actor)
    hold = ListenerHold(listener=locked, effect=effect, ends=ends, reason=reason, placed_by=actor)
    if source is not None:
        hold.source = source
    hold.save()
    listener_recompute_status(listener=listener, reason=reason, actor=actor)
    return hold


@transaction.atomic
def hold_release(
    *, listener: ListenerProfile, source: models.Model | None, reason: str, actor: User | None
) -> list[ListenerHold]:
    """End ``source``'s active hold (an annulled decision, a supervisor lifting a manual hold), and
    recompute. Returns what was released; nothing when the source holds nothing."""
    return _release_and_recompute(listener, {**_source_filter(source)}, reason=reason, actor=actor)


@transaction.atomic
def holds_release_ending(
    *, listener: ListenerProfile, ends: HoldEnd | str, reason: str, actor: User | None
) -> list[ListenerHold]:
    """End every active hold that ends this way (a passed interview ends the delistings of failed
    ones), and recompute."""
    return _release_and_recompute(listener, {"ends": ends}, reason=reason, actor=actor)


def _release_and_recompute(
    listener: ListenerProfile, which: dict, *, reason: str, actor: User | None
) -> list[ListenerHold]:
    locked = _lock(listener)
    released = list(active_holds(locked).filter(**which))
    for hold in released:
        _release(hold, reason=reason, actor=actor)
    if released:
        listener_recompute_status(listener=listener, reason=reason, actor=actor, released=released[-1])
    return released


@transaction.atomic
def holds_settle(*, listener: ListenerProfile, actor: User | None) -> list[ListenerHold]:
    """Release every active hold whose source says it has ended (tasks verified, plan verified),
    and recompute. Safe to call after anything that may have ended one; idempotent."""
    locked = _lock(listener)
    released: list[tuple[ListenerHold, str]] = []
    for hold in active_holds(locked).filter(ends__in=SETTLED_BY_CHECK, source_type__isnull=False):
        if hold.source_type_id is None:
            continue
        content_type = ContentType.objects.get_for_id(hold.source_type_id)
        check = _END_CHECKS.get(f"{content_type.app_label}.{content_type.model}")
        source = hold.source
        why = check(source) if check is not None and source is not None else None
        if why:
            _release(hold, reason=str(why), actor=actor)
            released.append((hold, str(why)))
    if released:
        last, why = released[-1]
        listener_recompute_status(listener=listener, reason=why, actor=actor, released=last)
    return [hold for hold, _why in released]


@transaction.atomic
def hold_lift(*, hold: ListenerHold, reason: str, actor: User | None) -> bool:
    """A supervisor lifts a hold that ends by hand (a manual change, a decision's return to
    internship, a hiding with nothing to do). Holds that end by a rule are refused: a delisting
    ends only as the rules say. Returns whether it was lifted (False when already released)."""
    if not reason.strip():
        raise ValueError("lifting a hold needs a reason")
    locked = _lock(hold.listener)
    current = ListenerHold.objects.select_for_update().get(pk=hold.pk)
    if current.released_at is not None:
        return False
    if current.ends != HoldEnd.MANUAL:
        raise PermissionDenied(_("这项限制按规则解除，不能手动解除。"))
    _release(current, reason=reason, actor=actor)
    listener_recompute_status(listener=locked, reason=reason, actor=actor, released=current)
    return True


@transaction.atomic
def listener_set_status(
    *, listener: ListenerProfile, status: ListenerStatus | str, reason: str, actor: User | None
) -> ListenerProfile:
    """A supervisor's manual change: it replaces the listener's manual hold (``active`` lifts it).
    Holds placed by cases stay, so the status may remain stricter than asked; a delisting by a
    decision ends only as the rules say."""
    if not reason.strip():
        raise ValueError("a status change needs a reason")
    if status == ListenerStatus.ACTIVE:
        hold_release(listener=listener, source=None, reason=reason, actor=actor)
    else:
        hold_place(listener=listener, effect=status, ends=HoldEnd.MANUAL, reason=reason, actor=actor)
    locked = ListenerProfile.objects.get(pk=listener.pk)
    listener.status = locked.status
    return locked


def holds_of(source: models.Model) -> models.QuerySet[ListenerHold]:
    return ListenerHold.objects.filter(**_source_filter(source))


__all__ = [
    "active_holds",
    "hold_lift",
    "hold_place",
    "hold_release",
    "holds_of",
    "holds_release_ending",
    "holds_settle",
    "listener_recompute_status",
    "listener_set_status",
    "register_hold_end",
    "status_from",
]
