"""Deadlines: opened, met and cancelled by workflow services; reminded and escalated by the sweep.

PostgreSQL is the truth. The sweep locks due rows with SKIP LOCKED, so two workers or two beats
never act on the same row, and every notification it writes has a unique key, so a retry adds
nothing. A restart of the worker, beat or Redis loses nothing: the next sweep finds what is due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from .deadline_kinds import deadline_kind_spec
from .models import Deadline, DeadlinePolicy, Holiday
from .notifications import build, notifications_save

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # settings.AUTH_USER_MODEL to django-stubs

WORK_START, WORK_END = time(9), time(18)
BATCH_SIZE = 1000
MAX_BATCHES = 500

# Subject model label -> callable(list of subject ids, {subject id: [kinds]}) run when deadlines breach.
_breach_handlers: dict[str, Callable[[list[int], dict[int, list[str]]], None]] = {}


def register_breach_handler(model_label: str, handler: Callable[[list[int], dict[int, list[str]]], None]) -> None:
    """Higher apps register here (in AppConfig.ready) so core never imports them."""
    _breach_handlers[model_label.lower()] = handler


def add_business_time(start: datetime, duration: timedelta, holidays: set[date]) -> datetime:
    """``start`` plus ``duration`` counted only on working days, 9:00–18:00 local time."""
    remaining = duration
    current = timezone.localtime(start)
    for _ in range(3660):
        day = current.date()
        if day.weekday() < 5 and day not in holidays:
            opens = current.replace(hour=WORK_START.hour, minute=0, second=0, microsecond=0)
            closes = current.replace(hour=WORK_END.hour, minute=0, second=0, microsecond=0)
            current = max(current, opens)
            if current < closes:
                available = closes - current
                if remaining <= available:
                    return current + remaining
                remaining -= available
        nxt = timezone.make_aware(datetime.combine(day + timedelta(days=1), WORK_START))
        current = nxt
    raise ValueError("business-time deadline is more than ten years away")


def due_for(kind: str, start: datetime) -> tuple[datetime, datetime]:
    """Due time and reminder time of a deadline of ``kind`` starting at ``start``, per its policy."""
    policy = DeadlinePolicy.objects.get(kind=kind)
    if policy.business_hours:
        holidays = set(Holiday.objects.filter(date__gte=start.date()).values_list("date", flat=True))
        due = add_business_time(start, policy.duration, holidays)
    else:
        due = start + policy.duration
    return due, max(start, due - policy.remind_before)


def deadline_open(
    *,
    subject: models.Model,
    kind: str,
    label: str,
    link: str = "",
    owner: User | None = None,
    owner_role: str = "",
    starts_at: datetime | None = None,
    due_at: datetime | None = None,
) -> Deadline:
    """Open the obligation (or return the one already open for this subject and kind)."""
    ct = ContentType.objects.get_for_model(subject)
    existing = Deadline.objects.filter(subject_type=ct, subject_id=subject.pk, kind=kind, state=Deadline.State.OPEN)
    found = existing.first()
    if found is not None:
        return found
    start = starts_at or timezone.now()
    if due_at is None:
        due_at, remind_at = due_for(kind, start)
    else:
        policy = DeadlinePolicy.objects.get(kind=kind)
        remind_at = max(start, due_at - policy.remind_before)
    return Deadline.objects.create(
        subject_type=ct,
        subject_id=subject.pk,
        kind=kind,
        label=label,
        link=link,
        owner=owner,
        owner_role=owner_role,
        starts_at=start,
        due_at=due_at,
        remind_at=remind_at,
    )


def _for(subject: models.Model, kinds: list[str] | None, states: list[str]):
    qs = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk, state__in=states
    )
    return qs.filter(kind__in=kinds) if kinds else qs


def _open_for(subject: models.Model, kinds: list[str] | None):
    return _for(subject, kinds, [Deadline.State.OPEN])


def _settle_breached(subject: models.Model, kinds: list[str] | None, now) -> None:
    # A breach stays a breach in the record; answering late only clears the overdue mark.
    _for(subject, kinds, [Deadline.State.BREACHED]).filter(closed_at=None).update(closed_at=now)


def deadline_meet(*, subject: models.Model, kinds: list[str]) -> int:
    """The obligation was answered: in the same transaction as the action that answered it."""
    now = timezone.now()
    _settle_breached(subject, kinds, now)
    return _open_for(subject, kinds).update(state=Deadline.State.MET, closed_at=now)


def deadline_cancel(*, subject: models.Model, kinds: list[str] | None = None) -> int:
    now = timezone.now()
    _settle_breached(subject, kinds, now)
    return _open_for(subject, kinds).update(state=Deadline.State.CANCELLED, closed_at=now)


def overdue_subjects(model: type[models.Model]) -> models.QuerySet:
    """Deadlines that breached and are still unanswered, for an Exists() overdue mark in queues."""
    return Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(model),
        subject_id=models.OuterRef("pk"),
        state=Deadline.State.BREACHED,
        closed_at=None,
    )


def deadline_set_owner(*, subject: models.Model, kinds: list[str], owner: User | None) -> int:
    """A new owner, or None to fall back to the owner's team until someone is assigned."""
    return _open_for(subject, kinds).update(owner=owner)


# --- the sweep ------------------------------------------------------------------------------


@dataclass
class SweepResult:
    reminded: int = 0
    breached: int = 0


class _Recipients:
    """Role members and users, fetched once per sweep rather than once per row."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.roles: dict[str, list[int]] = {}

    def for_role(self, role: str) -> list[int]:
        if role not in self.roles:
            users = list(get_user_model().objects.filter(groups__name=role, is_active=True))
            self.users.update({u.pk: u for u in users})
            self.roles[role] = [u.pk for u in users]
        return self.roles[role]

    def load(self, ids: set[int]) -> None:
        missing = ids - self.users.keys()
        if missing:
            self.users.update(get_user_model().objects.in_bulk(missing))

    def owners(self, deadline: Deadline) -> list[int]:
        if deadline.owner_id:
            return [deadline.owner_id]
        return self.for_role(deadline.owner_role) if deadline.owner_role else []


def _context(deadline: Deadline) -> dict:
    return {
        "label": deadline.label,
        "kind": deadline.kind,
        "kind_label": str(deadline_kind_spec(deadline.kind).kind.label),
        "due_at": timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M"),
    }


def _remind_batch(now: datetime, batch_size: int, people: _Recipients) -> int:
    with transaction.atomic():
        rows = list(
            Deadline.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=Deadline.State.OPEN, reminded_at=None, remind_at__lte=now, due_at__gt=now)
            .order_by("remind_at")[:batch_size]
        )
        if not rows:
            return 0
        people.load({d.owner_id for d in rows if d.owner_id})
        notes = []
        for d in rows:
            template = deadline_kind_spec(d.kind).reminder_template
            for uid in people.owners(d):
                notes.append(
                    build(
                        people.users[uid],
                        kind=f"deadline.{template}",
                        template=template,
                        context=_context(d),
                        link=d.link,
                        dedupe_key=f"deadline:{d.pk}:reminder:{uid}",
                    )
                )
        notifications_save(notes)
        Deadline.objects.filter(pk__in=[d.pk for d in rows]).update(reminded_at=now)
    return len(rows)


def _breach_batch(now: datetime, batch_size: int, people: _Recipients, policies: dict[str, DeadlinePolicy]) -> int:
    with transaction.atomic():
        rows = list(
            Deadline.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=Deadline.State.OPEN, due_at__lte=now)
            .select_related("subject_type")
            .order_by("due_at")[:batch_size]
        )
        if not rows:
            return 0
        people.load({d.owner_id for d in rows if d.owner_id})
        notes = []
        for d in rows:
            policy = policies.get(d.kind)
            spec = deadline_kind_spec(d.kind)
            template = spec.breach_template
            for uid in people.owners(d):
                notes.append(
                    build(
                        people.users[uid],
                        kind=f"deadline.{template}",
                        template=template,
                        context=_context(d),
                        link=d.link,
                        urgent=spec.breach_urgent,
                        dedupe_key=f"deadline:{d.pk}:breach:{uid}",
                    )
                )
            if policy is not None and policy.escalate_to_supervisors:
                for uid in people.for_role("supervisor"):
                    notes.append(
                        build(
                            people.users[uid],
                            kind="deadline.escalated",
                            template="deadline_escalated",
                            context=_context(d),
                            link=d.link,
                            urgent=True,
                            dedupe_key=f"deadline:{d.pk}:escalation:{uid}",
                        )
                    )
        notifications_save(notes)
        Deadline.objects.filter(pk__in=[d.pk for d in rows]).update(state=Deadline.State.BREACHED, escalated_at=now)
        by_model: dict[str, dict[int, list[str]]] = {}
        for d in rows:
            policy = policies.get(d.kind)
            if policy is not None and policy.raise_priority:
                label = f"{d.subject_type.app_label}.{d.subject_type.model}"
                by_model.setdefault(label, {}).setdefault(d.subject_id, []).append(d.kind)
        for label, kinds in by_model.items():
            handler = _breach_handlers.get(label)
            if handler is not None:
                handler(list(kinds), kinds)
    return len(rows)


def deadlines_sweep(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepResult:
    """Send due reminders and act on breaches, in batches, until none are left."""
    now = now or timezone.now()
    result = SweepResult()
    people = _Recipients()
    policies = {p.kind: p for p in DeadlinePolicy.objects.all()}
    for _ in range(MAX_BATCHES):
        done = _remind_batch(now, batch_size, people)
        result.reminded += done
        if done < batch_size:
            break
    for _ in range(MAX_BATCHES):
        done = _breach_batch(now, batch_size, people, policies)
        result.breached += done
        if done < batch_size:
            break
    return result
